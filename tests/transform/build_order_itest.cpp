// The order of a build on a real DuckDB file: a model waits for the tests of its parents, except
// tests with a parent that is not its ancestor (dbt's rule), so relationships tests from two
// siblings to their common parent do not wait on each other in a cycle.
#include <gtest/gtest.h>

#include "duckdb_project.h"
#include "test_util.h"

namespace strata::transform {
namespace {

class BuildOrder : public testing::DuckdbProject {
 protected:
  void SetUp() override {
    set_paths("order");
    testing::write_files(project_, {
        {"dbt_project.yml", "name: order\nprofile: order\nconfig-version: 2\nmodels:\n  order:\n    +materialized: table\n"},
        {"profiles.yml", "order:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                         "      path: \"{{ env_var('LAB_DB') }}\"\n      schema: main\n      threads: 2\n"},
        {"models/parent.sql", "select 1 as id union all select 2 as id\n"},
        {"models/left_child.sql", "select id, id * 10 as amount from {{ ref('parent') }}\n"},
        {"models/right_child.sql", "select id, id * 100 as amount from {{ ref('parent') }}\n"},
        {"models/grandchild.sql",
         "select l.id, l.amount + r.amount as total from {{ ref('left_child') }} l join {{ ref('right_child') }} r"
         " using (id)\n"},
        {"models/schema.yml",
         "version: 2\nmodels:\n"
         "  - name: parent\n    columns:\n      - name: id\n        tests: [unique]\n"
         "  - name: left_child\n    columns:\n      - name: id\n        tests:\n"
         "          - relationships: {to: ref('parent'), field: id}\n"
         "  - name: right_child\n    columns:\n      - name: id\n        tests:\n"
         "          - relationships: {to: ref('parent'), field: id}\n"},
    });
  }
};

TEST_F(BuildOrder, SiblingsRelationshipsTestsToTheirParentDoNotBlockEachOther) {
  // Selected without their common parent too (as `--select tag:gold` selects gold over silver).
  for (const std::vector<std::string>& select :
       {std::vector<std::string>{}, std::vector<std::string>{"left_child", "right_child", "grandchild"}}) {
    auto o = options("build");
    o.select = select;
    EXPECT_EQ(invoke_with(o), 0) << output_;
    EXPECT_NE(output_.find("ERROR=0 SKIP=0"), std::string::npos) << output_;
    EXPECT_EQ(rows("select id, total from main.grandchild order by id"), (std::vector<std::string>{"1|110", "2|220"}));
  }
}

}  // namespace
}  // namespace strata::transform

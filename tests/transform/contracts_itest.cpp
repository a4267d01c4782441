// Model contracts on a real DuckDB file: the declared columns and constraints become the table's,
// a violated constraint or a query that does not match the contract fails the model and leaves the
// relation as it was, views are checked, incremental models are checked on every run.
#include <gtest/gtest.h>

#include "duckdb_project.h"
#include "test_util.h"

namespace strata::transform {
namespace {

constexpr const char* kCustomers =
    "select 1 as id, 'Ann' as name, cast(10.5 as decimal(10,2)) as balance\n"
    "union all select 2, 'Bob', cast(0 as decimal(10,2))\n";

class Contracts : public testing::DuckdbProject {
 protected:
  void SetUp() override {
    set_paths("contracted");
    testing::write_files(project_, {
        {"dbt_project.yml", "name: contracted\nprofile: contracted\nconfig-version: 2\n"
                            "models:\n  contracted:\n    +materialized: table\n"},
        {"profiles.yml", "contracted:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                         "      path: \"{{ env_var('LAB_DB') }}\"\n      schema: main\n"},
        {"models/customers.sql", kCustomers},
        {"models/customers_view.sql", "{{ config(materialized='view') }}\nselect id, name from {{ ref('customers') }}\n"},
        {"models/schema.yml",
         "version: 2\nmodels:\n"
         "  - name: customers\n    config:\n      contract: {enforced: true}\n"
         "    constraints:\n      - type: check\n        expression: \"length(name) > 1\"\n"
         "    columns:\n"
         "      - name: id\n        data_type: integer\n        constraints: [{type: not_null}, {type: primary_key}]\n"
         "      - name: name\n        data_type: varchar\n        constraints: [{type: not_null}]\n"
         "      - name: balance\n        data_type: decimal(10,2)\n"
         "        constraints: [{type: check, expression: \"balance >= 0\"}]\n"
         "  - name: customers_view\n    config:\n      contract: {enforced: true}\n"
         "    columns:\n      - name: id\n        data_type: int\n      - name: name\n        data_type: text\n"},
    });
  }

  int build() {
    auto o = options("build");
    return invoke_with(o);
  }

  // The error of running sql on the file ("" when it succeeds).
  std::string error_of(const std::string& sql) {
    auto db = warehouse::open_duckdb(db_path_);
    if (!db.ok()) return db.error().to_string();
    auto wh = (*db)->connect();
    auto st = (*wh)->execute(sql);
    return st.ok() ? "" : st.error().to_string();
  }
};

TEST_F(Contracts, TheTableIsBuiltFromTheContractAndEnforcesItsConstraints) {
  ASSERT_EQ(build(), 0) << output_;
  EXPECT_EQ(rows("select column_name, data_type, is_nullable from information_schema.columns "
                 "where table_name = 'customers' order by ordinal_position"),
            (std::vector<std::string>{"id|INTEGER|NO", "name|VARCHAR|NO", "balance|DECIMAL(10,2)|YES"}));
  EXPECT_EQ(rows("select id, name, balance from main.customers order by id"),
            (std::vector<std::string>{"1|Ann|10.50", "2|Bob|0.00"}));
  EXPECT_NE(error_of("insert into main.customers values (1, 'Dup', 1)"), "");  // primary key
  EXPECT_NE(error_of("insert into main.customers values (3, 'Cy', -1)"), "");   // column check
  EXPECT_NE(error_of("insert into main.customers values (4, 'D', 1)"), "");     // model-level check
  EXPECT_NE(error_of("insert into main.customers values (5, null, 1)"), "");    // not null
  EXPECT_EQ(error_of("insert into main.customers values (6, 'Eve', 1)"), "");
  const Json manifest = artifact("manifest.json");
  const Json& node = manifest["nodes"]["model.contracted.customers"];
  EXPECT_EQ(node["contract"]["enforced"], true);
  EXPECT_TRUE(node["contract"]["checksum"].is_string());
  EXPECT_EQ(node["columns"]["id"]["constraints"][1]["type"], "primary_key");
  EXPECT_EQ(node["constraints"][0]["expression"], "length(name) > 1");
}

TEST_F(Contracts, AViolatedConstraintFailsTheModelAndKeepsTheOldTable) {
  ASSERT_EQ(build(), 0) << output_;
  testing::write_files(project_, {{"models/customers.sql", "select 1 as id, 'Ann' as name, cast(-3 as decimal(10,2)) "
                                                            "as balance\n"}});
  EXPECT_EQ(build(), 1) << output_;
  EXPECT_NE(to_lower(output_).find("constraint"), std::string::npos) << output_;
  EXPECT_EQ(rows("select id, balance from main.customers order by id"),
            (std::vector<std::string>{"1|10.50", "2|0.00"}));
}

TEST_F(Contracts, AQueryThatDoesNotMatchTheContractGetsDbtsTable) {
  ASSERT_EQ(build(), 0) << output_;
  testing::write_files(project_, {{"models/customers.sql",
                                   "select cast(1 as varchar) as id, cast(0 as decimal(10,2)) as balance, 1 as extra\n"}});
  EXPECT_EQ(build(), 1) << output_;
  EXPECT_NE(output_.find("This model has an enforced contract that failed."), std::string::npos) << output_;
  EXPECT_NE(output_.find("| id          | VARCHAR         | INTEGER       | data type mismatch    |"), std::string::npos)
      << output_;
  EXPECT_NE(output_.find("| name        |                 | VARCHAR       | missing in definition |"), std::string::npos)
      << output_;
  EXPECT_NE(output_.find("| extra       | INTEGER         |               | missing in contract   |"), std::string::npos)
      << output_;
  EXPECT_EQ(rows("select count(*) from main.customers"), std::vector<std::string>{"2"});
}

TEST_F(Contracts, AViewIsCheckedAgainstItsContract) {
  ASSERT_EQ(build(), 0) << output_;  // int and text are DuckDB's aliases of integer and varchar
  EXPECT_EQ(rows("select id, name from main.customers_view order by id"), (std::vector<std::string>{"1|Ann", "2|Bob"}));
  testing::write_files(project_, {{"models/customers_view.sql",
                                   "{{ config(materialized='view') }}\nselect id, balance as name from "
                                   "{{ ref('customers') }}\n"}});
  EXPECT_EQ(build(), 1) << output_;
  EXPECT_NE(output_.find("| name        | DECIMAL(10,2)   | VARCHAR       | data type mismatch |"), std::string::npos)
      << output_;
}

TEST_F(Contracts, AnIncrementalModelIsCheckedOnEveryRun) {
  testing::write_files(project_, {
      {"models/events.sql", "{{ config(materialized='incremental') }}\nselect {{ var('n', 1) }} as id\n"},
      {"models/events.yml", "version: 2\nmodels:\n  - name: events\n    config:\n      contract: {enforced: true}\n"
                            "    columns:\n      - name: id\n        data_type: bigint\n"
                            "        constraints: [{type: not_null}]\n"},
  });
  auto o = options("run");
  o.select = {"events"};
  ASSERT_EQ(invoke_with(o), 1) << output_;  // the query's id is an INTEGER, the contract's a BIGINT
  EXPECT_NE(output_.find("data type mismatch"), std::string::npos) << output_;
  testing::write_files(project_, {{"models/events.sql",
                                   "{{ config(materialized='incremental') }}\nselect cast({{ var('n', 1) }} as bigint) "
                                   "as id\n"}});
  ASSERT_EQ(invoke_with(o), 0) << output_;
  o.vars = "{n: 2}";
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_EQ(rows("select id from main.events order by id"), (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(rows("select is_nullable from information_schema.columns where table_name = 'events'"),
            std::vector<std::string>{"NO"});
  o.vars = "{n: null}";
  EXPECT_EQ(invoke_with(o), 1) << output_;  // NOT NULL holds on later runs too
  EXPECT_EQ(rows("select count(*) from main.events"), std::vector<std::string>{"2"});
}

TEST_F(Contracts, MistakesInAContractAreLocated) {
  testing::write_files(project_, {{"models/schema.yml",
                                   "version: 2\nmodels:\n  - name: customers\n    config:\n      contract: {enforced: true}\n"
                                   "    columns:\n      - name: id\n        data_type: integer\n"
                                   "      - name: name\n      - name: balance\n        data_type: decimal(10,2)\n"}});
  EXPECT_EQ(build(), 1) << output_;
  EXPECT_NE(output_.find("column 'name' of customers has no data_type"), std::string::npos) << output_;
  testing::write_files(project_, {{"models/schema.yml",
                                   "version: 2\nmodels:\n  - name: customers\n    columns:\n      - name: id\n"
                                   "        constraints: [{type: nonsense}]\n"}});
  EXPECT_EQ(build(), 2) << output_;
  EXPECT_NE(output_.find("schema.yml:6"), std::string::npos) << output_;
  EXPECT_NE(output_.find("unknown constraint type 'nonsense'"), std::string::npos) << output_;
}

}  // namespace
}  // namespace strata::transform

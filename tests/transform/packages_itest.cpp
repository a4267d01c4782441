// dbt packages on a real DuckDB file: a local package (its own dbt_project.yml, macros, a
// dispatched macro, generic tests, a model using a var, a seed) installed by `strata deps`, then
// used by the root project: qualified macro calls, adapter.dispatch with the root's `dispatch:`
// search order, package generic tests passing and failing, configs of the root overriding the
// package's, two-argument ref, package vars, selection by package; and the errors: a package
// macro called unqualified from the root, a hub package not installed (a declared package not
// installed: LabProject.AnUndefinedPackageNameGetsAHint).
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "duckdb_project.h"
#include "test_util.h"
#include "transform/packages.h"

namespace strata::transform {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRootProject =
    "name: root\nprofile: lab\nconfig-version: 2\n"
    "vars:\n  helpers:\n    helpers_factor: 10\n"
    "models:\n  root:\n    +materialized: table\n  helpers:\n    +materialized: table\n    +schema: pkg\n";

class PackagesProject : public testing::DuckdbProject {
 protected:
  void SetUp() override {
    set_paths("root");
    package_ = dir_.path() + "/helpers_src";
    testing::write_files(package_, {
        {"dbt_project.yml",
         "name: helpers\nversion: '1.0'\nconfig-version: 2\nrequire-dbt-version: '>=1.5.0'\n"
         "vars:\n  helpers_factor: 2\n"
         "models:\n  helpers:\n    +materialized: view\n    +schema: pkg_default\n"},
        {"macros/util.sql",
         "{% macro shout(x) %}upper({{ x }}){% endmacro %}\n"
         "{% macro label() %}{{ return(adapter.dispatch('label', 'helpers')()) }}{% endmacro %}\n"
         "{% macro default__label() %}'pkg default'{% endmacro %}\n"
         "{% macro duckdb__label() %}'pkg duckdb'{% endmacro %}\n"
         "{% macro pkg_only() %}'pkg_only'{% endmacro %}\n"},
        {"macros/is_even.sql",
         "{% test is_even(model, column_name) %}\n"
         "select * from {{ model }} where {{ column_name }} % 2 <> 0\n{% endtest %}\n"},
        {"tests/generic/at_least.sql",
         "{% test at_least(model, column_name, min_value) %}\n"
         "select * from {{ model }} where {{ column_name }} < {{ min_value }}\n{% endtest %}\n"},
        {"models/pkg_numbers.sql",
         "select n, n * {{ var('helpers_factor') }} as scaled, {{ pkg_only() }} as tag from {{ ref('pkg_seed') }}\n"},
        {"models/schema.yml",
         "version: 2\nmodels:\n  - name: pkg_numbers\n    columns:\n      - name: scaled\n        tests:\n"
         "          - is_even\n"},
        {"seeds/pkg_seed.csv", "n\n1\n2\n3\n"},
    });
    testing::write_files(project_, {
        {"dbt_project.yml", kRootProject},
        {"profiles.yml", "lab:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                         "      path: \"{{ env_var('LAB_DB') }}\"\n      schema: main\n      threads: 2\n"},
        {"packages.yml", "packages:\n  - local: ../helpers_src\n"},
        {"models/uses_pkg.sql",
         "select {{ helpers.shout(\"'abc'\") }} as shouted, n, scaled from {{ ref('helpers', 'pkg_numbers') }}\n"},
        {"models/dispatched.sql", "select {{ helpers.label() }} as label\n"},
        {"models/schema.yml",
         "version: 2\nmodels:\n  - name: uses_pkg\n    columns:\n      - name: scaled\n        tests:\n"
         "          - helpers.is_even\n"
         "      - name: n\n        tests:\n"
         "          - helpers.at_least:\n              min_value: 1\n"
         "          - helpers.at_least:\n              min_value: 2\n"},
    });
  }

  // `strata deps`; the lines it printed.
  std::string deps() {
    EXPECT_EQ(invoke_with(options("deps")), 0) << output_;
    return output_;
  }

  int invoke(const std::string& command, std::vector<std::string> select = {}) {
    InvocationOptions o = options(command);
    o.select = std::move(select);
    return invoke_with(o);
  }

  std::string package_;
};

TEST_F(PackagesProject, DepsInstallsALocalPackageUnderItsProjectName) {
  std::string out = deps();
  EXPECT_NE(out.find("Installed helpers"), std::string::npos) << out;
  const fs::path installed = fs::path(project_) / "dbt_packages" / "helpers";
  EXPECT_TRUE(fs::is_symlink(installed));
  EXPECT_TRUE(fs::exists(installed / "dbt_project.yml"));
  // A second run replaces the installed package.
  deps();
  EXPECT_TRUE(fs::exists(installed / "macros" / "util.sql"));
}

TEST_F(PackagesProject, PackageModelsMacrosTestsAndConfigsWorkAsInDbt) {
  deps();
  ASSERT_EQ(invoke("build"), 1) << output_;  // one package generic test fails, below
  // The package's model: its own var overridden by the root's `vars: {helpers: ...}`; its local
  // macro called unqualified; the root's `models: helpers:` tree wins over the package's (table in
  // schema main_pkg, not a view in main_pkg_default).
  EXPECT_EQ(rows("select n, scaled, tag from main_pkg.pkg_numbers order by n"),
            (std::vector<std::string>{"1|10|pkg_only", "2|20|pkg_only", "3|30|pkg_only"}));
  EXPECT_EQ(rows("select table_schema, table_type from information_schema.tables where table_name = 'pkg_numbers'"),
            (std::vector<std::string>{"main_pkg|BASE TABLE"}));
  // The package's seed, in the target schema.
  EXPECT_EQ(rows("select count(*) from main.pkg_seed"), (std::vector<std::string>{"3"}));
  // A qualified macro call and a two-argument ref from the root project.
  EXPECT_EQ(rows("select shouted, sum(scaled) from main.uses_pkg group by 1"), (std::vector<std::string>{"ABC|60"}));
  // adapter.dispatch('label', 'helpers'): the package's duckdb__ implementation.
  EXPECT_EQ(rows("select label from main.dispatched"), (std::vector<std::string>{"pkg duckdb"}));
  // Package generic tests: is_even (a macro-path {% test %}) in the package and the root pass;
  // at_least (tests/generic) passes with min 1 and fails with min 2 (n = 1).
  Json results = artifact("run_results.json");
  std::map<std::string, std::string> status;
  for (const auto& r : results["results"]) status[r["unique_id"].get<std::string>()] = r["status"].get<std::string>();
  int fails = 0, passes = 0;
  for (const auto& [id, s] : status) {
    if (id.rfind("test.", 0) != 0) continue;
    if (id.find("at_least") != std::string::npos && id.find("__2") != std::string::npos) {
      EXPECT_EQ(s, "fail") << id;
    } else {
      EXPECT_EQ(s, "pass") << id;
    }
    fails += s == "fail";
    passes += s == "pass";
  }
  EXPECT_EQ(fails, 1);
  EXPECT_EQ(passes, 3);  // is_even in the package, is_even and at_least(1) in the root
  // manifest.json: package nodes and macros carry the package's name.
  Json manifest = artifact("manifest.json");
  EXPECT_EQ(manifest["nodes"]["model.helpers.pkg_numbers"]["package_name"], "helpers");
  EXPECT_EQ(manifest["nodes"]["seed.helpers.pkg_seed"]["package_name"], "helpers");
  EXPECT_EQ(manifest["macros"]["macro.helpers.shout"]["package_name"], "helpers");
  EXPECT_EQ(manifest["macros"]["macro.helpers.test_at_least"]["package_name"], "helpers");
  // Selection by package.
  ASSERT_EQ(invoke("ls", {"package:helpers"}), 0) << output_;
  EXPECT_NE(output_.find("pkg_numbers"), std::string::npos) << output_;
  EXPECT_EQ(output_.find("uses_pkg"), std::string::npos) << output_;
}

TEST_F(PackagesProject, RootDispatchConfigOverridesThePackagesImplementation) {
  deps();
  // A root implementation wins by default (dbt searches [root, package] for an installed package).
  testing::write_files(project_, {{"macros/label.sql", "{% macro duckdb__label() %}'root duckdb'{% endmacro %}\n"}});
  ASSERT_EQ(invoke("run", {"dispatched"}), 0) << output_;
  EXPECT_EQ(rows("select label from main.dispatched"), (std::vector<std::string>{"root duckdb"}));
  // `dispatch:` sets the search order: the package first.
  testing::write_files(project_, {{"dbt_project.yml", std::string(kRootProject) +
                                                          "dispatch:\n  - macro_namespace: helpers\n"
                                                          "    search_order: ['helpers', 'root']\n"}});
  ASSERT_EQ(invoke("run", {"dispatched"}), 0) << output_;
  EXPECT_EQ(rows("select label from main.dispatched"), (std::vector<std::string>{"pkg duckdb"}));
  // Only the root in the search order, with only a default__ there: the root's default__.
  testing::write_files(project_, {{"dbt_project.yml", std::string(kRootProject) +
                                                          "dispatch:\n  - macro_namespace: helpers\n"
                                                          "    search_order: ['root']\n"},
                                  {"macros/label.sql", "{% macro default__label() %}'root default'{% endmacro %}\n"}});
  ASSERT_EQ(invoke("run", {"dispatched"}), 0) << output_;
  EXPECT_EQ(rows("select label from main.dispatched"), (std::vector<std::string>{"root default"}));
}

TEST_F(PackagesProject, PackageMacroCalledUnqualifiedFromTheRootIsUndefined) {
  deps();
  testing::write_files(project_, {{"models/bad.sql", "select {{ pkg_only() }} as x\n"}});
  ASSERT_EQ(invoke("compile", {"bad"}), 2) << output_;
  EXPECT_NE(output_.find("'pkg_only' is undefined"), std::string::npos) << output_;
  EXPECT_NE(output_.find("bad.sql"), std::string::npos) << output_;
  // Qualified, it works.
  testing::write_files(project_, {{"models/bad.sql", "select {{ helpers.pkg_only() }} as x\n"}});
  ASSERT_EQ(invoke("run", {"bad"}), 0) << output_;
  EXPECT_EQ(rows("select x from main.bad"), (std::vector<std::string>{"pkg_only"}));
}

TEST_F(PackagesProject, HubPackageNotInstalledIsALocatedUserError) {
  testing::write_files(project_, {{"packages.yml", "packages:\n  - local: ../helpers_src\n"
                                                   "  - package: dbt-labs/dbt_utils\n    version: 1.1.1\n"}});
  std::ostringstream out;
  auto r = run_invocation(options("deps"), out);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().exit_code(), 2);
  EXPECT_EQ(r.error().where().file, project_ + "/packages.yml");
  EXPECT_EQ(r.error().where().line, 3);
  EXPECT_NE(r.error().message().find("dbt-labs/dbt_utils"), std::string::npos) << r.error().to_string();
  EXPECT_NE(r.error().hint().find("dbt deps"), std::string::npos) << r.error().to_string();
  EXPECT_NE(r.error().hint().find("local:"), std::string::npos) << r.error().to_string();
  // The local entry before it was installed; a dbt_utils folder copied in makes deps pass.
  EXPECT_TRUE(fs::exists(fs::path(project_) / "dbt_packages" / "helpers" / "dbt_project.yml"));
  testing::write_files(project_, {{"dbt_packages/dbt_utils/dbt_project.yml", "name: dbt_utils\nconfig-version: 2\n"},
                                  {"dbt_packages/dbt_utils/macros/star.sql",
                                   "{% macro star(from) %}*{% endmacro %}\n"}});
  std::string printed = deps();
  EXPECT_NE(printed.find("Using dbt-labs/dbt_utils"), std::string::npos) << printed;
  testing::write_files(project_, {{"models/starred.sql", "select {{ dbt_utils.star(ref('uses_pkg')) }} from "
                                                         "{{ ref('uses_pkg') }}\n"}});
  ASSERT_EQ(invoke("compile", {"starred"}), 0) << output_;
}

TEST(Packages, CandidateNamesOfRemoteEntries) {
  PackageSpec hub{PackageSpec::Kind::kHub, "dbt-labs/dbt_utils", "", {}};
  EXPECT_EQ(candidate_package_names(hub)[0], "dbt_utils");
  PackageSpec git{PackageSpec::Kind::kGit, "https://github.com/dbt-labs/dbt-utils.git", "", {}};
  auto names = candidate_package_names(git);
  EXPECT_NE(std::find(names.begin(), names.end(), "dbt_utils"), names.end());
}

}  // namespace
}  // namespace strata::transform

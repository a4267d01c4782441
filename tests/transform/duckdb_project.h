#pragma once
// A test fixture for a dbt project written to a temporary folder and run against a real DuckDB
// file: the profile reads the file's path from env_var('LAB_DB'); helpers run SQL on the file, run
// invocations (as the CLI does) and read target/ artifacts.

#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/strings.h"
#include "result_rows.h"
#include "support/temp_dir.h"
#include "transform/invocation.h"
#include "transform/node.h"
#include "warehouse/warehouse.h"

namespace strata::transform::testing {

class DuckdbProject : public ::testing::Test {
 protected:
  // The project goes to <temp>/<name>, the DuckDB file to <temp>/<name>.duckdb.
  void set_paths(const std::string& name) {
    project_ = dir_.path() + "/" + name;
    db_path_ = dir_.path() + "/" + name + ".duckdb";
  }

  // Runs SQL on the DuckDB file (a failure fails the test).
  void exec(const std::string& sql) {
    auto db = warehouse::open_duckdb(db_path_);
    ASSERT_TRUE(db.ok()) << db.error().to_string();
    auto wh = (*db)->connect();
    ASSERT_TRUE(wh.ok());
    auto st = (*wh)->execute(sql);
    ASSERT_TRUE(st.ok()) << st.error().to_string();
  }

  // The rows of a query, each as its cells joined with '|' (NULL for a null).
  std::vector<std::string> rows(const std::string& sql) {
    std::vector<std::string> out;
    auto db = warehouse::open_duckdb(db_path_);
    if (!db.ok()) return {"open failed"};
    auto wh = (*db)->connect();
    auto r = (*wh)->query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.error().to_string();
    return r.ok() ? result_rows(*r) : out;
  }

  // Options for `command` on this project; tests set more fields and call invoke_with().
  InvocationOptions options(const std::string& command) {
    InvocationOptions o;
    o.command = command;
    o.project_dir = project_;
    o.profiles_dir = project_;
    o.threads = 2;
    o.env = map_env({{"LAB_DB", db_path_}});
    return o;
  }

  // Runs an invocation; output_ gets what it printed and its error. The exit code (2 for an error).
  int invoke_with(const InvocationOptions& o) { return invoke_capturing(o, output_); }

  // A JSON artifact of target/ (null when missing).
  Json artifact(const std::string& name) {
    std::string text;
    EXPECT_TRUE(read_file(project_ + "/target/" + name, text)) << name;
    return text.empty() ? Json() : Json::parse(text);
  }

  strata::testing::TempDir dir_;
  std::string project_, db_path_, output_;
};

}  // namespace strata::transform::testing

#pragma once
// A test fixture for a dbt project written to a temporary folder and run against a real
// PostgreSQL warehouse: a fresh database of the shared throwaway cluster (tests/support), a
// profiles.yml whose `pg` target points at it (schema `main`, as the DuckDB tests' targets), and
// helpers that run SQL there, run invocations as the CLI does and read target/ artifacts.

#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/strings.h"
#include "result_rows.h"
#include "support/pg_cluster.h"
#include "support/temp_dir.h"
#include "test_util.h"
#include "transform/invocation.h"
#include "warehouse/warehouse.h"

namespace strata::transform::testing {

class PostgresProject : public ::testing::Test {
 protected:
  // The project goes to <temp>/<name>, its warehouse to a fresh database `db_name`; profiles.yml
  // gets a profile `profile` whose only target is the database.
  void set_up_project(const std::string& name, const std::string& db_name, const std::string& profile) {
    pg_ = &strata::testing::shared_pg_cluster();
    db_name_ = db_name;
    pg_->create_database(db_name_);
    project_ = dir_.path() + "/" + name;
    write_files(project_, {{"profiles.yml", profile + ":\n  target: pg\n  outputs:\n    pg:\n      type: postgres\n"
                                                      "      host: 127.0.0.1\n      port: " +
                                                std::to_string(pg_->port()) + "\n      user: " + pg_->superuser() +
                                                "\n      dbname: " + db_name_ + "\n      schema: main\n"
                                                "      threads: 4\n"}});
  }

  // Runs SQL (several statements allowed) in the warehouse database; a failure fails the test.
  void exec(const std::string& sql) {
    try {
      pg_->execute(sql, db_name_);
    } catch (const std::exception& e) {
      ADD_FAILURE() << sql << ": " << e.what();
    }
  }

  // The rows of a query, each as its cells joined with '|' (NULL for a null).
  std::vector<std::string> rows(const std::string& sql) {
    auto db = warehouse::open_postgres(pg_->conninfo(db_name_));
    if (!db.ok()) return {"open failed: " + db.error().to_string()};
    auto wh = (*db)->connect();
    if (!wh.ok()) return {"connect failed: " + wh.error().to_string()};
    auto r = (*wh)->query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.error().to_string();
    return r.ok() ? result_rows(*r) : std::vector<std::string>{};
  }

  // Options for `command` on this project; tests set more fields and call invoke_with().
  InvocationOptions options(const std::string& command, std::vector<std::string> select = {}) {
    InvocationOptions o;
    o.command = command;
    o.project_dir = project_;
    o.profiles_dir = project_;
    o.select = std::move(select);
    o.threads = 3;
    o.env = map_env({});
    return o;
  }

  // Runs an invocation; output_ gets what it printed and its error. The exit code (2 for an error).
  int invoke_with(const InvocationOptions& o) { return invoke_capturing(o, output_); }
  int invoke(const std::string& command, std::vector<std::string> select = {}, bool full_refresh = false) {
    InvocationOptions o = options(command, std::move(select));
    o.full_refresh = full_refresh;
    return invoke_with(o);
  }

  // A JSON artifact of target/ (null when missing).
  Json artifact(const std::string& name) {
    std::string text;
    EXPECT_TRUE(read_file(project_ + "/target/" + name, text)) << name;
    return text.empty() ? Json() : Json::parse(text);
  }

  // The status of each result of run_results.json by node name (its unique_id's third part:
  // `test.shop.unique_orders_order_id.<hash>` → unique_orders_order_id).
  std::map<std::string, std::string> result_statuses() {
    std::map<std::string, std::string> out;
    Json results = artifact("run_results.json");
    if (!results.is_object()) return out;
    for (const auto& r : results["results"]) {
      std::vector<std::string> parts = split(r.value("unique_id", std::string()), '.');
      out[parts.size() > 2 ? parts[2] : ""] = r.value("status", std::string());
    }
    return out;
  }

  strata::testing::PgCluster* pg_ = nullptr;
  strata::testing::TempDir dir_;
  std::string project_, db_name_, output_;
};

}  // namespace strata::transform::testing

// Pipeline build tasks on a postgres target (the shared test cluster): the orchestrate test
// project's silver and gold models built by the runtime into PostgreSQL, their tests' results in
// the store, the run's vars in the models.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "orchestrate/runtime.h"
#include "pg/connection.h"
#include "support/pg_cluster.h"
#include "support/temp_dir.h"

namespace strata::orchestrate {
namespace {

namespace fs = std::filesystem;

TEST(PgDbtTasksTest, BuildTasksRunOnAPostgresTarget) {
  auto& cluster = strata::testing::shared_pg_cluster();
  const std::string conninfo = cluster.create_database("orch_dbt_pg");
  cluster.execute(
      "create schema bronze;"
      "create table bronze.customers (id integer, name text, country text);"
      "insert into bronze.customers values (1, 'Ada', 'PT'), (2, 'Bob', 'BR');"
      "create table bronze.orders (id integer, customer_id integer, amount numeric(10,1), updated_at timestamp);"
      "insert into bronze.orders values (10, 1, 5.5, '2026-01-01'), (11, 1, 4.5, '2026-01-01'),"
      " (12, 2, 1.0, '2026-01-01');",
      "orch_dbt_pg");
  strata::testing::TempDir temp;
  const std::string dir = temp.file("shop");
  fs::copy(std::string(STRATA_SOURCE_DIR) + "/tests/e2e/projects/orchestrate", dir, fs::copy_options::recursive);
  fs::remove_all(dir + "/pipelines");
  fs::create_directories(dir + "/pipelines");
  std::ofstream(dir + "/profiles.yml") << "orch_shop:\n  target: pg\n  outputs:\n    pg:\n      type: postgres\n"
                                          "      host: 127.0.0.1\n      port: "
                                       << cluster.port() << "\n      user: " << cluster.superuser()
                                       << "\n      dbname: orch_dbt_pg\n      schema: main\n      threads: 2\n";
  std::ofstream(dir + "/pipelines/p.yml") << "tasks:\n  - id: silver\n    build: \"path:models/silver\"\n"
                                             "  - id: gold\n    build: \"path:models/gold\"\n    depends_on: [silver]\n";
  RuntimeOptions options;
  options.project_dir = dir;
  options.workers = 4;
  auto rt = Runtime::open(options);
  ASSERT_TRUE(rt.ok()) << rt.error().to_string();
  ASSERT_TRUE((*rt)->start().ok());
  auto run = (*rt)->scheduler().trigger("p", "{}");
  ASSERT_TRUE(run.ok()) << run.error().to_string();
  ASSERT_TRUE((*rt)->scheduler().start_now(run->pipeline, run->run_id).ok());
  EXPECT_EQ((*rt)->executor().wait(run->pipeline, run->run_id), RunState::kSuccess);
  auto tis = (*rt)->store().task_instances(run->pipeline, run->run_id);
  ASSERT_TRUE(tis.ok());
  EXPECT_EQ(tis->size(), 6u);  // three models, each with its tests
  for (const auto& ti : *tis) EXPECT_EQ(ti.state, TaskState::kSuccess) << ti.task_id;
  auto results = (*rt)->store().test_results(run->pipeline, run->run_id);
  ASSERT_TRUE(results.ok());
  EXPECT_EQ(results->size(), 7u);
  for (const auto& r : *results) EXPECT_EQ(r.status, "pass") << r.test_name;

  auto conn = pg::Connection::connect(conninfo);
  ASSERT_TRUE(conn.ok()) << conn.error().to_string();
  auto gold = conn->exec("select customer_id, orders, revenue from main_gold.customer_revenue order by 1");
  ASSERT_TRUE(gold.ok()) << gold.error().to_string();
  ASSERT_EQ(gold->rows(), 2);
  EXPECT_EQ(std::string(gold->value(0, 1)), "2");
  EXPECT_EQ(std::string(gold->value(0, 2)), "10.0");
  EXPECT_EQ(std::string(gold->value(1, 2)), "1.0");
  auto ds = conn->exec("select count(distinct ds) from main_silver.stg_orders");
  ASSERT_TRUE(ds.ok()) << ds.error().to_string();
  EXPECT_EQ(std::string(ds->value(0, 0)), "1");
}

}  // namespace
}  // namespace strata::orchestrate

// End to end: the built `strata` binary runs the pipeline `sync → build silver group → build gold
// group` of tests/e2e/projects/orchestrate against a real PostgreSQL (the shared test cluster)
// and a DuckDB file, twice (the second after source changes): gold equals the same aggregate
// computed in PostgreSQL, bronze has no duplicates, tests and freshness pass, and `pipeline show`
// lists the expanded per-model tasks.
#include <gtest/gtest.h>

#include <filesystem>

#include "e2e_support.h"
#include "support/pg_cluster.h"
#include "support/temp_dir.h"

namespace strata::testing {
namespace {

namespace fs = std::filesystem;

const char* kGoldInPg =
    "select c.id, count(o.id), coalesce(sum(o.amount), 0)::double precision from customers c "
    "left join orders o on o.customer_id = c.id group by c.id";
const char* kGoldInDuck =
    "select customer_id, orders, revenue::double from main_gold.customer_revenue";

TEST(OrchestratePipelineE2E, SyncThenSilverThenGoldTwice) {
  auto& cluster = shared_pg_cluster();
  const std::string conninfo = cluster.create_database("orch_e2e");
  cluster.execute(
      "create table customers(id int primary key, name text not null, country text, updated_at timestamp not null); "
      "create table orders(id int primary key, customer_id int not null references customers, amount numeric(10,2), "
      "updated_at timestamp not null); "
      "insert into customers select g, 'customer ' || g, 'PT', now() from generate_series(1, 50) g; "
      "insert into orders select g, 1 + g % 50, (g % 97) + 0.25, now() from generate_series(1, 2000) g",
      "orch_e2e");
  TempDir temp;
  const std::string dir = temp.file("shop");
  fs::copy(std::string(STRATA_SOURCE_DIR) + "/tests/e2e/projects/orchestrate", dir, fs::copy_options::recursive);
  const std::map<std::string, std::string> env{{"ORCH_PG_PORT", std::to_string(cluster.port())},
                                               {"ORCH_PG_DATABASE", "orch_e2e"}};
  const std::string duck = dir + "/.strata/warehouse.duckdb";

  auto show = run_strata({"pipeline", "--project-dir", dir, "show", "shop_hourly"}, env);
  ASSERT_EQ(show.exit_code, 0) << show.output;
  for (const char* id : {"sync_shop", "model.stg_orders", "model.stg_orders.test", "model.customer_revenue"})
    EXPECT_NE(show.output.find(id), std::string::npos) << id << "\n" << show.output;

  auto first = run_strata({"pipeline", "--project-dir", dir, "run", "shop_hourly", "--wait"}, env, {}, 300);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_EQ(duck_rows(duck, kGoldInDuck), pg_rows(conninfo, kGoldInPg));
  EXPECT_EQ(duck_rows(duck, "select count(*), count(distinct id) from bronze.orders"),
            std::vector<std::string>{"2000|2000"});

  // New and changed rows arrive incrementally; nothing is duplicated.
  cluster.execute("insert into customers values (51, 'late', 'BR', now()); "
                  "insert into orders select g, 51, 10, now() from generate_series(2001, 2100) g; "
                  "update orders set amount = amount + 1, updated_at = now() + interval '1 second' where id <= 100",
                  "orch_e2e");
  auto second = run_strata({"pipeline", "--project-dir", dir, "run", "shop_hourly", "--wait"}, env, {}, 300);
  ASSERT_EQ(second.exit_code, 0) << second.output;
  EXPECT_EQ(duck_rows(duck, kGoldInDuck), pg_rows(conninfo, kGoldInPg));
  EXPECT_EQ(duck_rows(duck, "select count(*), count(distinct id) from bronze.orders"),
            std::vector<std::string>{"2100|2100"});

  auto runs = run_strata({"pipeline", "--project-dir", dir, "runs", "shop_hourly"}, env);
  ASSERT_EQ(runs.exit_code, 0) << runs.output;
  EXPECT_EQ(runs.output.find("failed"), std::string::npos) << runs.output;
}

}  // namespace
}  // namespace strata::testing

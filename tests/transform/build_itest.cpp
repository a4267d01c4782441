// The shop project built end to end on a real DuckDB file: every relation's contents asserted,
// an incremental model run twice with new data, a snapshot over changing data, artifacts.
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "common/strings.h"
#include "support/temp_dir.h"
#include "duckdb_project.h"
#include "test_util.h"
#include "transform/invocation.h"
#include "warehouse/warehouse.h"

namespace strata::transform {
namespace {

namespace fs = std::filesystem;

class ShopBuild : public testing::DuckdbProject {
 protected:
  void SetUp() override {
    fs::copy(testing::shop_project_dir(), dir_.path() + "/shop", fs::copy_options::recursive);
    set_paths("shop");
    fs::remove_all(project_ + "/target");
    exec("create schema if not exists bronze;"
         "create table bronze.order_events (event_id integer, order_id integer, status varchar, changed_at timestamp,"
         " _loaded_at timestamp);"
         "insert into bronze.order_events values (1, 1, 'placed', '2024-05-01 09:00', now()),"
         " (2, 1, 'completed', '2024-05-02 09:00', now()), (3, 2, 'placed', '2024-05-03 09:00', now());"
         "create table bronze.customer_updates (customer_id integer, tier varchar, updated_at timestamp);"
         "insert into bronze.customer_updates values (1, 'gold', '2024-01-01'), (2, 'silver', '2024-01-01'),"
         " (3, 'bronze', '2024-01-01');");
  }

  int invoke(const std::string& command, std::vector<std::string> select = {}, bool full_refresh = false) {
    InvocationOptions o;
    o.command = command;
    o.project_dir = project_;
    o.profiles_dir = project_;
    o.select = std::move(select);
    o.full_refresh = full_refresh;
    o.env = map_env({{"SHOP_DUCKDB_PATH", db_path_}});
    o.threads = 3;
    std::ostringstream out;
    auto r = run_invocation(o, out);
    output_ = out.str();
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    return r.ok() ? *r : -1;
  }
};

TEST_F(ShopBuild, BuildsEveryRelationTwiceWithIncrementalAndSnapshot) {
  int code = invoke("build");
  EXPECT_EQ(code, 0) << output_;
  EXPECT_NE(output_.find("WARN=1"), std::string::npos) << output_;
  EXPECT_NE(output_.find("ERROR=0"), std::string::npos) << output_;
  // Seeds: CRLF, quoted fields with commas and quotes, empty = NULL, inferred types.
  EXPECT_EQ(rows("select id, first_name, email, signed_up from main.raw_customers order by id"),
            (std::vector<std::string>{"1|Ada|ada@example.com|2024-01-05", "2|Alan|alan@example.com|2024-02-11",
                                      "3|Grace|NULL|2024-03-20", "4|Smith, Jr.|ed \"the\" smith@example.com|2024-04-02"}));
  EXPECT_EQ(rows("select data_type from information_schema.columns where table_name = 'raw_orders' order by ordinal_position"),
            (std::vector<std::string>{"INTEGER", "INTEGER", "DATE", "VARCHAR", "BOOLEAN"}));
  EXPECT_EQ(rows("select data_type from information_schema.columns where table_name = 'raw_payments' and column_name = 'amount'"),
            (std::vector<std::string>{"INTEGER"}));
  // Staging views in the custom schema (generate_schema_name override: no prefix), alias respected.
  EXPECT_EQ(rows("select table_schema, table_name, table_type from information_schema.tables where table_schema in "
                 "('staging', 'finance', 'main') and table_name not like 'raw_%' order by 1, 2"),
            (std::vector<std::string>{"finance|daily_revenue|BASE TABLE", "finance|order_status_history|BASE TABLE",
                                      "main|customers|BASE TABLE", "main|orders|BASE TABLE",
                                      "staging|stg_customers|VIEW", "staging|stg_orders_v|VIEW",
                                      "staging|stg_payments|VIEW"}));
  // The ephemeral model is not a relation; orders uses it as a CTE; vars resolved.
  EXPECT_EQ(rows("select order_id, customer_id, status, amount, currency from main.orders order by order_id"),
            (std::vector<std::string>{"1|1|completed|10|EUR", "2|1|completed|10|EUR", "3|2|shipped|12.5|EUR",
                                      "4|3|returned|5|EUR", "5|4|placed|3.01|EUR"}));
  EXPECT_EQ(rows("select customer_id, order_count, lifetime_value from main.customers order by 1"),
            (std::vector<std::string>{"1|2|20", "2|1|12.5", "3|1|5", "4|1|3.01"}));
  EXPECT_EQ(rows("select order_date, credit_card_amount, coupon_amount from finance.daily_revenue order by 1"),
            (std::vector<std::string>{"2024-05-01|10|0", "2024-05-03|7.5|2.5", "2024-05-04|0|0",
                                      "2024-05-07|5|0", "2024-05-09|0|0"}));
  EXPECT_EQ(rows("select order_id, status from finance.order_status_history order by 1, 2"),
            (std::vector<std::string>{"1|completed", "1|placed", "2|placed"}));
  // Hooks: on-run-start created the log table, the post-hook and on-run-end wrote to it.
  EXPECT_EQ(rows("select event from main_audit.run_log order by event"),
            (std::vector<std::string>{"built orders", "end"}));
  // Snapshot, first run.
  EXPECT_EQ(rows("select customer_id, tier, dbt_valid_to is null from snapshots.customers_snapshot order by 1"),
            (std::vector<std::string>{"1|gold|true", "2|silver|true", "3|bronze|true"}));

  // Second run: new events, changed and deleted customers.
  exec("insert into bronze.order_events values (4, 2, 'shipped', '2024-05-05 09:00', now()),"
       " (5, 3, 'placed', '2024-05-06 09:00', now());"
       "update bronze.customer_updates set tier = 'platinum', updated_at = '2024-02-01' where customer_id = 1;"
       "delete from bronze.customer_updates where customer_id = 3;"
       "insert into bronze.customer_updates values (4, 'gold', '2024-02-01');");
  code = invoke("build", {"order_status_history", "customers_snapshot"});
  EXPECT_EQ(code, 0) << output_;
  EXPECT_EQ(rows("select order_id, status from finance.order_status_history order by 1, 2"),
            (std::vector<std::string>{"1|completed", "1|placed", "2|placed", "2|shipped", "3|placed"}));
  EXPECT_EQ(rows("select customer_id, tier, cast(dbt_valid_from as date), dbt_valid_to is null "
                 "from snapshots.customers_snapshot order by 1, 3"),
            (std::vector<std::string>{"1|gold|2024-01-01|false", "1|platinum|2024-02-01|true",
                                      "2|silver|2024-01-01|true", "3|bronze|2024-01-01|false",
                                      "4|gold|2024-02-01|true"}));
  EXPECT_EQ(rows("select count(distinct dbt_scd_id) from snapshots.customers_snapshot"), (std::vector<std::string>{"5"}));

  // Artifacts.
  std::string manifest_text, results_text;
  ASSERT_TRUE(read_file(project_ + "/target/manifest.json", manifest_text));
  ASSERT_TRUE(read_file(project_ + "/target/run_results.json", results_text));
  Json manifest = Json::parse(manifest_text);
  Json results = Json::parse(results_text);
  EXPECT_EQ(manifest["metadata"]["dbt_schema_version"], "https://schemas.getdbt.com/dbt/manifest/v12.json");
  for (const char* key : {"nodes", "sources", "macros", "docs", "parent_map", "child_map", "exposures", "metrics",
                          "selectors", "disabled"})
    EXPECT_TRUE(manifest.contains(key)) << key;
  const Json& orders = manifest["nodes"]["model.shop.orders"];
  for (const char* key : {"database", "schema", "name", "resource_type", "package_name", "path", "original_file_path",
                          "unique_id", "fqn", "alias", "checksum", "config", "tags", "description", "columns",
                          "depends_on", "refs", "sources", "raw_code", "language", "relation_name"})
    EXPECT_TRUE(orders.contains(key)) << key;
  EXPECT_TRUE(orders["fqn"].is_array());
  EXPECT_TRUE(orders["depends_on"]["nodes"].is_array());
  EXPECT_TRUE(manifest["sources"].contains("source.shop.bronze.order_events"));
  EXPECT_EQ(manifest["child_map"]["model.shop.orders"].size(), 4u);
  EXPECT_EQ(results["metadata"]["dbt_schema_version"], "https://schemas.getdbt.com/dbt/run-results/v5.json");
  ASSERT_TRUE(results["results"].is_array());
  for (const auto& r : results["results"]) {
    for (const char* key : {"status", "timing", "thread_id", "execution_time", "adapter_response", "message",
                            "failures", "unique_id"})
      EXPECT_TRUE(r.contains(key)) << key;
    EXPECT_TRUE(r["execution_time"].is_number());
  }
  EXPECT_TRUE(fs::exists(project_ + "/target/compiled/shop/models/marts/orders.sql"));
  EXPECT_TRUE(fs::exists(project_ + "/target/run/shop/models/marts/orders.sql"));
}

TEST_F(ShopBuild, SqlErrorFailsOneNodeAndSkipsItsChildrenOnly) {
  ASSERT_EQ(invoke("seed"), 0) << output_;
  testing::write_files(project_, {{"models/marts/orders.sql", "select no_such_column from {{ ref('stg_orders') }}"}});
  int code = invoke("run");
  EXPECT_EQ(code, 1) << output_;
  EXPECT_NE(output_.find("ERROR=1"), std::string::npos) << output_;
  EXPECT_NE(output_.find("SKIP=2"), std::string::npos) << output_;  // customers, daily_revenue
  EXPECT_EQ(rows("select count(*) from finance.order_status_history"), (std::vector<std::string>{"3"}));
  EXPECT_EQ(rows("select count(*) from staging.stg_payments"), (std::vector<std::string>{"6"}));
  EXPECT_EQ(rows("select count(*) from information_schema.tables where table_name = 'customers'"),
            (std::vector<std::string>{"0"}));
}

TEST_F(ShopBuild, CompileInlineAndLs) {
  InvocationOptions o;
  o.command = "compile";
  o.project_dir = project_;
  o.profiles_dir = project_;
  o.inline_sql = "select * from {{ ref('orders') }} where currency = '{{ var(\"currency\") }}'";
  o.env = map_env({{"SHOP_DUCKDB_PATH", db_path_}});
  std::ostringstream out;
  auto r = run_invocation(o, out);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(out.str(), "select * from \"shop\".\"main\".\"orders\" where currency = 'EUR'\n");
  o.command = "ls";
  o.inline_sql.clear();
  o.select = {"tag:finance"};
  o.output = "name";
  std::ostringstream ls;
  r = run_invocation(o, ls);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(ls.str(), "daily_revenue\norder_status_history\n");
}

}  // namespace
}  // namespace strata::transform

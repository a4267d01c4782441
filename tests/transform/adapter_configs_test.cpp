// Unit tests for the adapter-specific table configs (adapter_configs.h) and the DDL they give
// (adapter_sql.h): PostgreSQL's unlogged and indexes, BigQuery's partition_by, cluster_by, labels,
// require_partition_filter and partition_expiration_days, DuckDB ignoring them all, and the
// located errors of bad values.
#include <gtest/gtest.h>

#include "transform/adapter_configs.h"
#include "transform/adapter_sql.h"

namespace strata::transform::detail {
namespace {

using warehouse::RelationKind;

Node model(const std::string& config_json) {
  Node n;
  n.name = "orders";
  n.where = SourceLocation{"models/orders.sql", 1, 0};
  n.config = Json::parse(config_json);
  return n;
}

TableConfig config_for(const sql::Dialect& d, const std::string& config_json) {
  auto table = table_config_of(model(config_json), d);
  EXPECT_TRUE(table.ok()) << table.error().to_string();
  return table.ok() ? *table : TableConfig();
}

// The error of a bad config, as the CLI prints it.
std::string error_for(const sql::Dialect& d, const std::string& config_json) {
  auto table = table_config_of(model(config_json), d);
  EXPECT_FALSE(table.ok()) << config_json;
  if (table.ok()) return "";
  EXPECT_EQ(table.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(table.error().where().file, "models/orders.sql");
  return table.error().to_string();
}

TEST(AdapterConfigs, PostgresTableIsUnloggedAndGetsItsIndexesInTheSameTransaction) {
  const sql::Dialect& pg = sql::postgres_dialect();
  TableConfig table = config_for(pg, R"j({"unlogged": true, "indexes": [{"columns": ["id"], "unique": true},
      {"columns": ["status", "lower(email)"], "type": "HASH"}]})j");
  EXPECT_TRUE(table.unlogged);
  ASSERT_EQ(table.indexes.size(), 2u);
  EXPECT_EQ(table.indexes[1].type, "hash");
  const std::string rel = "\"db\".\"main\".\"orders\"";
  DdlPlan plan = adapter_sql(pg).replace_relation(rel, std::nullopt, RelationKind::kTable, "select 1 as id", table);
  EXPECT_TRUE(plan.atomic);  // an index that fails leaves nothing built
  ASSERT_EQ(plan.statements.size(), 3u);
  EXPECT_EQ(plan.statements[0], "create unlogged table " + rel + " as (\nselect 1 as id\n)");
  EXPECT_EQ(plan.statements[1], "create unique index if not exists \"" + index_name(rel, table.indexes[0]) + "\" on " +
                                    rel + " (id)");
  EXPECT_EQ(plan.statements[2], "create index if not exists \"" + index_name(rel, table.indexes[1]) + "\" on " + rel +
                                    " using hash (status, lower(email))");
  // Names: the same on every build, different between relations and between definitions.
  EXPECT_EQ(index_name(rel, table.indexes[0]).size(), 32u);
  EXPECT_EQ(index_name(rel, table.indexes[0]), index_name(rel, table.indexes[0]));
  EXPECT_NE(index_name(rel, table.indexes[0]), index_name("\"db\".\"main\".\"other\"", table.indexes[0]));
  TableIndex not_unique = table.indexes[0];
  not_unique.unique = false;
  EXPECT_NE(index_name(rel, table.indexes[0]), index_name(rel, not_unique));
  // A replaced relation: drop, create and indexes in one transaction; a view takes none of it.
  plan = adapter_sql(pg).replace_relation(rel, RelationKind::kTable, RelationKind::kTable, "select 1 as id", table);
  ASSERT_EQ(plan.statements.size(), 4u);
  EXPECT_EQ(plan.statements[0], "drop table if exists " + rel + " cascade");
  plan = adapter_sql(pg).replace_relation(rel, std::nullopt, RelationKind::kView, "select 1 as id", table);
  EXPECT_EQ(plan.statements, (std::vector<std::string>{"create view " + rel + " as (\nselect 1 as id\n)"}));
  // A contracted table.
  plan = adapter_sql(pg).replace_with_table(rel, std::nullopt, "id integer", table);
  ASSERT_EQ(plan.statements.size(), 3u);
  EXPECT_EQ(plan.statements[0], "create unlogged table " + rel + " (\nid integer\n)");
  // BigQuery's keys mean nothing to PostgreSQL.
  EXPECT_TRUE(config_for(pg, R"({"partition_by": {"field": "x"}, "cluster_by": "y", "labels": {"a": "b"}})").empty());
}

TEST(AdapterConfigs, PostgresBadValuesAreLocatedErrors) {
  const sql::Dialect& pg = sql::postgres_dialect();
  EXPECT_NE(error_for(pg, R"({"indexes": [{"columns": []}]})").find("models/orders.sql:1: error: model orders: config "
                                                                    "`indexes` entry 1 has no columns"),
            std::string::npos);
  EXPECT_NE(error_for(pg, R"({"indexes": [{"columns": ["a"]}, {"columns": ["b"], "unique": "yes"}]})")
                .find("entry 2: unique must be true or false, not \"yes\""),
            std::string::npos);
  EXPECT_NE(error_for(pg, R"({"indexes": [{"column": ["a"]}]})").find("has 'column', which is not an index setting"),
            std::string::npos);
  EXPECT_NE(error_for(pg, R"({"indexes": {"columns": ["a"]}})").find("`indexes` must be a list of indexes"),
            std::string::npos);
  EXPECT_NE(error_for(pg, R"({"indexes": [{"columns": ["a"], "type": 3}]})").find("type must be an index method"),
            std::string::npos);
  EXPECT_NE(error_for(pg, R"({"unlogged": "maybe"})").find("`unlogged` must be true or false, not \"maybe\""),
            std::string::npos);
  // An unknown method is accepted here: table_config() asks the server's pg_am.
  EXPECT_EQ(config_for(pg, R"({"indexes": [{"columns": ["a"], "type": "bloom"}]})").indexes.at(0).type, "bloom");
}

TEST(AdapterConfigs, AnErrorPointsAtWhereTheConfigIsWritten) {
  Node n = model(R"({"indexes": [{"columns": []}], "unlogged": true})");
  n.config_where["indexes"] = config_origin({"models/schema.yml", 7, 16});
  auto table = table_config_of(n, sql::postgres_dialect());
  ASSERT_FALSE(table.ok());
  EXPECT_EQ(table.error().where().to_string(), "models/schema.yml:7:16");
}

TEST(AdapterConfigs, BigQueryPartitionsClustersAndOptionsAsDbtBigQueryRendersThem) {
  const sql::Dialect& bq = sql::bigquery_dialect();
  auto partition = [&](const std::string& spec) { return config_for(bq, R"({"partition_by": )" + spec + "}").partition_by; };
  EXPECT_EQ(partition(R"({"field": "created_at", "data_type": "timestamp"})"), "timestamp_trunc(created_at, day)");
  EXPECT_EQ(partition(R"({"field": "created_at", "data_type": "TIMESTAMP", "granularity": "Hour"})"),
            "timestamp_trunc(created_at, hour)");
  EXPECT_EQ(partition(R"({"field": "order_date"})"), "order_date");
  EXPECT_EQ(partition(R"({"field": "order_date", "data_type": "date", "granularity": "month"})"),
            "date_trunc(order_date, month)");
  EXPECT_EQ(partition(R"({"field": "at", "data_type": "datetime", "granularity": "year"})"),
            "datetime_trunc(at, year)");
  EXPECT_EQ(partition(R"({"field": "id", "data_type": "int64", "range": {"start": 0, "end": 100, "interval": 10}})"),
            "range_bucket(id, generate_array(0, 100, 10))");

  TableConfig table = config_for(bq, R"({"partition_by": {"field": "created_at", "data_type": "timestamp"},
      "cluster_by": ["customer_id", "status"], "labels": {"team": "analytics", "tier": 1},
      "require_partition_filter": true, "partition_expiration_days": 30})");
  const std::string rel = "`p`.`d`.`orders`";
  DdlPlan plan = adapter_sql(bq).replace_relation(rel, RelationKind::kTable, RelationKind::kTable, "select 1", table);
  ASSERT_EQ(plan.statements.size(), 1u);
  EXPECT_EQ(plan.statements[0],
            "create or replace table `p`.`d`.`orders`\npartition by timestamp_trunc(created_at, day)\n"
            "cluster by customer_id, status\noptions(labels=[('team', 'analytics'), ('tier', '1')], "
            "require_partition_filter=true, partition_expiration_days=30) as (\nselect 1\n)");
  EXPECT_EQ(config_for(bq, R"({"cluster_by": "customer_id"})").cluster_by, (std::vector<std::string>{"customer_id"}));
  // A contracted table: the clauses follow the column list.
  plan = adapter_sql(bq).replace_with_table(rel, std::nullopt, "id int64", config_for(bq, R"({"cluster_by": "id"})"));
  EXPECT_EQ(plan.statements.at(0), "create or replace table `p`.`d`.`orders` (\nid int64\n)\ncluster by id");
  // PostgreSQL's keys mean nothing to BigQuery; DuckDB takes none of them.
  EXPECT_TRUE(config_for(bq, R"({"indexes": [{"columns": []}], "unlogged": "maybe"})").empty());
  TableConfig everything = config_for(sql::duckdb_dialect(), R"({"partition_by": 1, "indexes": 2, "unlogged": 3})");
  EXPECT_TRUE(everything.empty());
  EXPECT_EQ(adapter_sql(sql::duckdb_dialect()).replace_relation("t", std::nullopt, RelationKind::kTable, "select 1", table)
                .statements,
            (std::vector<std::string>{"create or replace table t as (\nselect 1\n)"}));
}

TEST(AdapterConfigs, BigQueryBadValuesAreLocatedErrors) {
  const sql::Dialect& bq = sql::bigquery_dialect();
  EXPECT_NE(error_for(bq, R"({"partition_by": {"field": "x", "data_type": "string"}})")
                .find("models/orders.sql:1: error: model orders: config `partition_by` has data_type 'string', which "
                      "BigQuery cannot partition by"),
            std::string::npos);
  EXPECT_NE(error_for(bq, R"({"partition_by": {"field": "x", "granularity": "week"}})").find("granularity 'week'"),
            std::string::npos);
  EXPECT_NE(error_for(bq, R"({"partition_by": {"data_type": "date"}})").find("needs a field"), std::string::npos);
  EXPECT_NE(error_for(bq, R"({"partition_by": "created_at"})").find("`partition_by` must be a mapping"),
            std::string::npos);
  EXPECT_NE(error_for(bq, R"({"partition_by": {"field": "id", "data_type": "int64"}})").find("needs range"),
            std::string::npos);
  EXPECT_NE(error_for(bq, R"({"partition_by": {"field": "id", "data_type": "int64", "range": {"start": 0, "end": 10}}})")
                .find("range needs an integer interval"),
            std::string::npos);
  EXPECT_NE(error_for(bq, R"({"partition_by": {"field": "d", "granularity": "hour"}})").find("partitions a date by hour"),
            std::string::npos);
  EXPECT_NE(error_for(bq, R"({"cluster_by": ["a", "b", "c", "d", "e"]})").find("lists 5 columns"), std::string::npos);
  EXPECT_NE(error_for(bq, R"({"cluster_by": 7})").find("must be a column or a list of columns"), std::string::npos);
  EXPECT_NE(error_for(bq, R"({"labels": {"Team": "x"}})").find("the key 'Team'"), std::string::npos);
  EXPECT_NE(error_for(bq, R"({"labels": ["team"]})").find("`labels` must be a mapping"), std::string::npos);
  EXPECT_NE(error_for(bq, R"({"partition_by": {"field": "d"}, "require_partition_filter": "yes"})")
                .find("`require_partition_filter` must be true or false"),
            std::string::npos);
  EXPECT_NE(error_for(bq, R"({"require_partition_filter": true})").find("has no partition_by"), std::string::npos);
  EXPECT_NE(error_for(bq, R"({"partition_by": {"field": "d"}, "partition_expiration_days": -1})")
                .find("must be a positive number of days"),
            std::string::npos);
}

}  // namespace
}  // namespace strata::transform::detail

// dbt projects built on a PostgreSQL target, as dbt-postgres builds them, on a real PostgreSQL 15:
// the shop project end to end (seeds with dbt-postgres' types loaded by binary COPY, views,
// tables, an ephemeral CTE, a merge incremental, a snapshot over two runs, tests, hooks, a full
// refresh), the incremental strategies, snapshots' check strategy and hard deletes, tests storing
// their failures, show / run_query / statement / adapter introspection, the cross-database macros
// and the docs catalog. Every value is asserted.
#include <filesystem>

#include <gtest/gtest.h>

#include "macro_cases.h"
#include "postgres_project.h"

namespace strata::transform {
namespace {

namespace fs = std::filesystem;
using Rows = std::vector<std::string>;

// The shop project of build_itest.cpp on PostgreSQL. Its one DuckDB-only macro (a cast to DuckDB's
// `double`) is given PostgreSQL's types here, as a project moving to dbt-postgres would.
class ShopOnPostgres : public testing::PostgresProject {
 protected:
  void SetUp() override {
    fs::copy(testing::shop_project_dir(), dir_.path() + "/shop", fs::copy_options::recursive);
    set_up_project("shop", "shop_pg_target", "shop");
    fs::remove_all(project_ + "/target");
    testing::write_files(project_, {{"macros/cents_to_currency.sql",
                                     "{% macro cents_to_currency(column_name, scale=2) -%}\n"
                                     "    round(cast({{ column_name }} as numeric) / 100, {{ scale }})\n"
                                     "{%- endmacro %}\n"}});
    exec("create schema bronze;"
         "create table bronze.order_events (event_id integer, order_id integer, status varchar,"
         " changed_at timestamp, _loaded_at timestamp);"
         "insert into bronze.order_events values (1, 1, 'placed', '2024-05-01 09:00', now()),"
         " (2, 1, 'completed', '2024-05-02 09:00', now()), (3, 2, 'placed', '2024-05-03 09:00', now());"
         "create table bronze.customer_updates (customer_id integer, tier varchar, updated_at timestamp);"
         "insert into bronze.customer_updates values (1, 'gold', '2024-01-01'), (2, 'silver', '2024-01-01'),"
         " (3, 'bronze', '2024-01-01');");
  }
};

TEST_F(ShopOnPostgres, BuildsEveryRelationThenIncrementsSnapshotsAndRefreshes) {
  ASSERT_EQ(invoke("build"), 0) << output_;
  EXPECT_NE(output_.find("WARN=1"), std::string::npos) << output_;
  EXPECT_NE(output_.find("ERROR=0"), std::string::npos) << output_;
  // Seeds: values (CRLF, quoted commas and quotes, empty = NULL) and dbt-postgres' types.
  EXPECT_EQ(rows("select id, first_name, email, signed_up from main.raw_customers order by id"),
            (Rows{"1|Ada|ada@example.com|2024-01-05", "2|Alan|alan@example.com|2024-02-11", "3|Grace|NULL|2024-03-20",
                  "4|Smith, Jr.|ed \"the\" smith@example.com|2024-04-02"}));
  EXPECT_EQ(rows("select column_name, data_type from information_schema.columns where table_schema = 'main' and "
                 "table_name = 'raw_orders' order by ordinal_position"),
            (Rows{"id|integer", "customer_id|integer", "order_date|date", "status|text", "is_gift|boolean"}));
  EXPECT_EQ(rows("select column_name, data_type from information_schema.columns where table_schema = 'main' and "
                 "table_name = 'raw_payments' order by ordinal_position"),
            (Rows{"id|integer", "order_id|integer", "payment_method|text", "amount|integer",
                  "paid_at|timestamp without time zone"}));
  // Views and tables where the project puts them; the ephemeral model is no relation.
  EXPECT_EQ(rows("select table_schema, table_name, table_type from information_schema.tables where table_schema in "
                 "('staging', 'finance', 'main') and table_name not like 'raw_%' order by 1, 2"),
            (Rows{"finance|daily_revenue|BASE TABLE", "finance|order_status_history|BASE TABLE",
                  "main|customers|BASE TABLE", "main|orders|BASE TABLE", "staging|stg_customers|VIEW",
                  "staging|stg_orders_v|VIEW", "staging|stg_payments|VIEW"}));
  EXPECT_EQ(rows("select order_id, customer_id, status, amount, currency from main.orders order by order_id"),
            (Rows{"1|1|completed|10.00|EUR", "2|1|completed|10.00|EUR", "3|2|shipped|12.50|EUR",
                  "4|3|returned|5.00|EUR", "5|4|placed|3.01|EUR"}));
  EXPECT_EQ(rows("select customer_id, order_count, lifetime_value from main.customers order by 1"),
            (Rows{"1|2|20.00", "2|1|12.50", "3|1|5.00", "4|1|3.01"}));
  EXPECT_EQ(rows("select order_date, credit_card_amount, coupon_amount from finance.daily_revenue order by 1"),
            (Rows{"2024-05-01|10.00|0", "2024-05-03|7.50|2.50", "2024-05-04|0|0", "2024-05-07|5.00|0",
                  "2024-05-09|0|0"}));
  EXPECT_EQ(rows("select order_id, status from finance.order_status_history order by 1, 2"),
            (Rows{"1|completed", "1|placed", "2|placed"}));
  EXPECT_EQ(rows("select event from main_audit.run_log order by event"), (Rows{"built orders", "end"}));
  EXPECT_EQ(rows("select customer_id, tier, dbt_valid_to is null from snapshots.customers_snapshot order by 1"),
            (Rows{"1|gold|true", "2|silver|true", "3|bronze|true"}));
  // Tests: the singular one and the generic ones pass; is_positive warns (severity from its config).
  auto statuses = result_statuses();
  EXPECT_EQ(statuses["assert_order_amounts_match_payments"], "pass");
  EXPECT_EQ(statuses["unique_customers_customer_id"], "pass");
  EXPECT_EQ(statuses["orders"], "success");
  EXPECT_EQ(statuses["customers_snapshot"], "success");

  // Second run: new events merge into the incremental model; the snapshot closes changed and
  // deleted customers' versions and opens new ones.
  exec("insert into bronze.order_events values (4, 2, 'shipped', '2024-05-05 09:00', now()),"
       " (5, 3, 'placed', '2024-05-06 09:00', now()), (6, 1, 'completed', '2024-05-07 09:00', now());"
       "update bronze.customer_updates set tier = 'platinum', updated_at = '2024-02-01' where customer_id = 1;"
       "delete from bronze.customer_updates where customer_id = 3;"
       "insert into bronze.customer_updates values (4, 'gold', '2024-02-01');");
  ASSERT_EQ(invoke("build", {"order_status_history", "customers_snapshot"}), 0) << output_;
  // (1, completed) matched the merge's unique key: updated in place, not duplicated.
  EXPECT_EQ(rows("select order_id, status, changed_at from finance.order_status_history order by 1, 2"),
            (Rows{"1|completed|2024-05-07 09:00:00", "1|placed|2024-05-01 09:00:00", "2|placed|2024-05-03 09:00:00",
                  "2|shipped|2024-05-05 09:00:00", "3|placed|2024-05-06 09:00:00"}));
  // Customer 3, deleted (invalidate_hard_deletes), is closed at the run's start.
  EXPECT_EQ(rows("select customer_id, tier, dbt_valid_from, coalesce(cast(dbt_valid_to as text), 'open') from "
                 "snapshots.customers_snapshot where customer_id <> 3 order by 1, 3"),
            (Rows{"1|gold|2024-01-01 00:00:00|2024-02-01 00:00:00", "1|platinum|2024-02-01 00:00:00|open",
                  "2|silver|2024-01-01 00:00:00|open", "4|gold|2024-02-01 00:00:00|open"}));
  EXPECT_EQ(rows("select tier, dbt_valid_to > dbt_valid_from, dbt_valid_to > timestamp '2024-06-01' from "
                 "snapshots.customers_snapshot where customer_id = 3"),
            (Rows{"bronze|true|true"}));
  EXPECT_EQ(rows("select count(distinct dbt_scd_id) from snapshots.customers_snapshot"), (Rows{"5"}));

  // A full refresh rebuilds the incremental model from its source: a deleted event goes.
  exec("delete from bronze.order_events where event_id = 1;");
  ASSERT_EQ(invoke("run", {"order_status_history"}), 0) << output_;
  EXPECT_EQ(rows("select count(*) from finance.order_status_history"), (Rows{"5"}));
  ASSERT_EQ(invoke("run", {"order_status_history"}, true), 0) << output_;
  EXPECT_EQ(rows("select order_id, status, changed_at from finance.order_status_history order by 1, 2, 3"),
            (Rows{"1|completed|2024-05-02 09:00:00", "1|completed|2024-05-07 09:00:00", "2|placed|2024-05-03 09:00:00",
                  "2|shipped|2024-05-05 09:00:00", "3|placed|2024-05-06 09:00:00"}));

  // A model rebuilt as a table on a view's name (and back) replaces it.
  testing::write_files(project_, {{"models/staging/stg_customers.sql",
                                   "{{ config(materialized='table') }}\nselect id as customer_id, first_name, "
                                   "last_name from {{ ref('raw_customers') }}"}});
  ASSERT_EQ(invoke("run", {"stg_customers", "customers"}), 0) << output_;
  EXPECT_EQ(rows("select table_type from information_schema.tables where table_name = 'stg_customers'"),
            (Rows{"BASE TABLE"}));
  EXPECT_EQ(rows("select count(*) from main.customers"), (Rows{"4"}));
}


// A small project exercising one feature per model on PostgreSQL.
class LabOnPostgres : public testing::PostgresProject {
 protected:
  void SetUp() override {
    set_up_project("lab", "lab_pg_target", "lab");
    testing::write_files(project_, {
        {"dbt_project.yml", "name: lab\nversion: '1.0'\nconfig-version: 2\nprofile: lab\n"
                            "models:\n  lab:\n    +materialized: table\n"},
        {"models/sources.yml", "version: 2\nsources:\n  - name: src\n    tables:\n      - name: events\n"},
        // Incremental strategies: append (no unique_key), delete+insert (dbt-postgres' default
        // with one), merge updating only `amount`; a column added by on_schema_change.
        {"models/inc_append.sql",
         "{{ config(materialized='incremental') }}\nselect id, kind, amount from {{ source('src', 'events') }}\n"
         "{% if is_incremental() %}where id > (select max(id) from {{ this }}){% endif %}"},
        {"models/inc_delete_insert.sql",
         "{{ config(materialized='incremental', unique_key='id') }}\n"
         "select id, kind, amount, updated_at from {{ source('src', 'events') }}\n"
         "{% if is_incremental() %}where updated_at > (select max(updated_at) from {{ this }}){% endif %}"},
        {"models/inc_merge.sql",
         "{{ config(materialized='incremental', unique_key=['id'], incremental_strategy='merge',\n"
         "          merge_update_columns=['amount', 'updated_at'], on_schema_change='append_new_columns') }}\n"
         "select id, kind, amount, updated_at{% if var('with_note', false) %}, 'n' || id as note{% endif %}\n"
         "from {{ source('src', 'events') }}\n"
         "{% if is_incremental() %}where updated_at > (select max(updated_at) from {{ this }}){% endif %}"},
        {"models/schema.yml",
         "version: 2\nmodels:\n  - name: inc_append\n    columns:\n      - name: id\n        tests: [unique, not_null]\n"
         "      - name: kind\n        tests:\n          - accepted_values:\n              values: ['a', 'b']\n"
         "              config:\n                store_failures: true\n"},
        {"tests/no_big_amounts.sql",
         "{{ config(severity='warn') }}\nselect * from {{ ref('inc_append') }} where amount > 100"},
        {"snapshots/snap_check.sql",
         "{% snapshot snap_check %}\n{{ config(target_schema='snapshots', unique_key='id', strategy='check',\n"
         "   check_cols=['kind', 'amount'], hard_deletes='new_record') }}\n"
         "select id, kind, amount from {{ source('src', 'events') }}\n{% endsnapshot %}"},
    });
    exec("create schema src;"
         "create table src.events (id integer, kind text, amount numeric(10,2), updated_at timestamp);"
         "insert into src.events values (1, 'a', 10.50, '2024-01-01'), (2, 'b', 20, '2024-01-01'),"
         " (3, 'c', 200, '2024-01-01');");
  }
};

TEST_F(LabOnPostgres, IncrementalStrategiesTestsAndStoredFailures) {
  EXPECT_EQ(invoke("build"), 1) << output_;  // accepted_values fails
  auto statuses = result_statuses();
  EXPECT_EQ(statuses["accepted_values_inc_append_kind__a__b"], "fail") << output_;
  EXPECT_EQ(statuses["unique_inc_append_id"], "pass");
  EXPECT_EQ(statuses["not_null_inc_append_id"], "pass");
  EXPECT_EQ(statuses["no_big_amounts"], "warn");
  EXPECT_EQ(statuses["inc_merge"], "success");
  // The failing rows are stored, in <target schema>_dbt_test__audit.
  EXPECT_EQ(rows("select value_field, n_records from main_dbt_test__audit.accepted_values_inc_append_kind__a__b"),
            (Rows{"c|1"}));
  for (const char* model : {"inc_append", "inc_delete_insert", "inc_merge"})
    EXPECT_EQ(rows(std::string("select count(*) from main.") + model), (Rows{"3"})) << model;

  exec("update src.events set kind = 'b2', amount = 25, updated_at = '2024-02-01' where id = 2;"
       "insert into src.events values (4, 'a', 5, '2024-02-01');");
  InvocationOptions o = options("run");
  o.vars = "{with_note: true}";
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_EQ(rows("select id, kind, amount from main.inc_append order by id"),
            (Rows{"1|a|10.50", "2|b|20.00", "3|c|200.00", "4|a|5.00"}));
  EXPECT_EQ(rows("select id, kind, amount, updated_at from main.inc_delete_insert order by id"),
            (Rows{"1|a|10.50|2024-01-01 00:00:00", "2|b2|25.00|2024-02-01 00:00:00",
                  "3|c|200.00|2024-01-01 00:00:00", "4|a|5.00|2024-02-01 00:00:00"}));
  // merge: a matched row takes only the merge_update_columns; the new column is NULL in old rows
  // and, not being an update column, in updated ones too.
  EXPECT_EQ(rows("select id, kind, amount, note from main.inc_merge order by id"),
            (Rows{"1|a|10.50|NULL", "2|b|25.00|NULL", "3|c|200.00|NULL", "4|a|5.00|n4"}));
  EXPECT_EQ(rows("select count(*) from information_schema.tables where table_name like '%dbt_tmp%'"), (Rows{"0"}));

  // --full-refresh rebuilds them from the source.
  o.full_refresh = true;
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_EQ(rows("select id, kind, amount, note from main.inc_merge order by id"),
            (Rows{"1|a|10.50|n1", "2|b2|25.00|n2", "3|c|200.00|n3", "4|a|5.00|n4"}));
  EXPECT_EQ(rows("select id, kind from main.inc_append order by id"), (Rows{"1|a", "2|b2", "3|c", "4|a"}));
}

TEST_F(LabOnPostgres, CheckSnapshotWithNewRecordHardDeletesOverFourRuns) {
  auto versions = [&] {
    return rows("select id, kind, amount, dbt_valid_to is null, coalesce(dbt_is_deleted, 'False') from "
                "snapshots.snap_check order by id, dbt_valid_from, dbt_is_deleted");
  };
  ASSERT_EQ(invoke("snapshot"), 0) << output_;
  EXPECT_EQ(versions(), (Rows{"1|a|10.50|true|False", "2|b|20.00|true|False", "3|c|200.00|true|False"}));
  // A changed checked column closes the version and opens one; an unchecked change does nothing.
  exec("update src.events set amount = 21 where id = 2; update src.events set updated_at = now() where id = 3;");
  ASSERT_EQ(invoke("snapshot"), 0) << output_;
  EXPECT_EQ(versions(), (Rows{"1|a|10.50|true|False", "2|b|20.00|false|False", "2|b|21.00|true|False",
                              "3|c|200.00|true|False"}));
  EXPECT_EQ(rows("select count(*) from snapshots.snap_check a join snapshots.snap_check b on a.id = b.id and "
                 "a.dbt_valid_to = b.dbt_valid_from where a.id = 2"),
            (Rows{"1"}));
  // A deleted key: its version closes and a deletion version opens.
  exec("delete from src.events where id = 1;");
  ASSERT_EQ(invoke("snapshot"), 0) << output_;
  EXPECT_EQ(rows("select kind, dbt_valid_to is null, dbt_is_deleted from snapshots.snap_check where id = 1 "
                 "order by dbt_valid_from"),
            (Rows{"a|false|False", "a|true|True"}));
  // Back again: the deletion version closes, a live one opens.
  exec("insert into src.events values (1, 'a', 11, '2024-03-01');");
  ASSERT_EQ(invoke("snapshot"), 0) << output_;
  EXPECT_EQ(rows("select amount, dbt_valid_to is null, dbt_is_deleted from snapshots.snap_check where id = 1 "
                 "order by dbt_valid_from"),
            (Rows{"10.50|false|False", "10.50|false|True", "11.00|true|False"}));
  // id 1: three versions, id 2: two, id 3: one; each with an id of its own.
  EXPECT_EQ(rows("select count(*), count(distinct dbt_scd_id) from snapshots.snap_check"), (Rows{"6|6"}));
  EXPECT_EQ(rows("select data_type from information_schema.columns where table_schema = 'snapshots' and "
                 "column_name = 'dbt_valid_from'"),
            (Rows{"timestamp without time zone"}));
}

TEST_F(LabOnPostgres, IntrospectionQueriesShowAndCatalog) {
  testing::write_files(project_, {
      {"models/introspect.sql",
       "-- depends_on: {{ ref('inc_merge') }}\n"
       "{% set rel = adapter.get_relation(database=target.database, schema='main', identifier='inc_merge') %}\n"
       "{% set names = [] %}{% if execute %}\n"
       "{% for c in adapter.get_columns_in_relation(rel) %}{% do names.append(c.name ~ ':' ~ c.data_type) %}{% endfor %}\n"
       "{% endif %}\n"
       "{% set listed = [] %}{% if execute %}"
       "{% for r in adapter.list_relations(database=target.database, schema='main') %}"
       "{% do listed.append(r.identifier ~ ':' ~ r.type) %}{% endfor %}{% endif %}\n"
       "{% set totals = run_query('select count(*) as n, sum(amount) as total from ' ~ rel) %}\n"
       "{% call statement('kinds', fetch_result=True) %}select kind from {{ rel }} order by id{% endcall %}\n"
       "select '{{ rel.type if rel else 'none' }}' as rel_type,\n"
       "  '{{ names | join(',') }}' as cols,\n"
       "  '{{ listed | join(',') }}' as listed,\n"
       "  '{{ totals.rows[0][0] if execute else '' }}|{{ totals.rows[0][1] if execute else '' }}' as totals,\n"
       "  '{{ load_result('kinds')['data'] | map('first') | join(',') if execute else '' }}' as kinds,\n"
       "  '{{ adapter.get_relation(target.database, 'main', 'no_such') }}' as missing"},
  });
  ASSERT_EQ(invoke("run", {"inc_merge", "introspect"}), 0) << output_;
  EXPECT_EQ(rows("select rel_type, cols, listed, totals, kinds, missing from main.introspect"),
            (Rows{"table|id:integer,kind:text,amount:numeric(10,2),updated_at:timestamp without time zone|"
                  "inc_merge:table|3|230.50|a,b,c|None"}));
  // show: the node's rows, limited.
  InvocationOptions o = options("show");
  o.inline_sql = "select id, kind from {{ ref('inc_merge') }} order by id";
  o.limit = 2;
  ASSERT_EQ(invoke_with(o), 0) << output_;
  EXPECT_NE(output_.find("| 1  | a    |"), std::string::npos) << output_;
  EXPECT_NE(output_.find("| 2  | b    |"), std::string::npos) << output_;
  EXPECT_EQ(output_.find("| 3  |"), std::string::npos) << output_;
  // docs generate: the catalog has PostgreSQL's column types.
  ASSERT_EQ(invoke("docs"), 0) << output_;
  Json catalog = artifact("catalog.json");
  const Json& merge = catalog["nodes"]["model.lab.inc_merge"];
  EXPECT_EQ(merge["metadata"]["type"], "BASE TABLE");
  EXPECT_EQ(merge["columns"]["amount"]["type"], "numeric(10,2)");
  EXPECT_EQ(merge["columns"]["id"]["index"], 1);
  EXPECT_EQ(catalog["nodes"]["model.lab.introspect"]["columns"]["rel_type"]["type"], "text");
}


// dbt-core's cross-database macros as a postgres target dispatches them (postgres__ variants, else
// default__), computed by PostgreSQL.
const std::vector<testing::MacroCase>& postgres_macro_cases() {
  static const std::vector<testing::MacroCase> cases = testing::with_portable_macro_cases({
      {"type_string", "pg_typeof(cast('a' as {{ dbt.type_string() }}))", "text"},
      {"type_timestamp", "pg_typeof(cast('2024-01-01' as {{ type_timestamp() }}))", "timestamp without time zone"},
      {"type_float", "pg_typeof(cast(1 as {{ dbt.type_float() }}))", "double precision"},
      {"type_numeric", "pg_typeof(cast(1 as {{ type_numeric() }}))", "numeric"},
      {"type_bigint", "pg_typeof(cast(1 as {{ dbt.type_bigint() }}))", "bigint"},
      {"type_int", "pg_typeof(cast(1 as {{ type_int() }}))", "integer"},
      {"type_boolean", "pg_typeof(cast(1 as {{ dbt.type_boolean() }}))", "boolean"},
      {"safe_cast", "{{ safe_cast(\"'12'\", 'int') }} + 1", "13"},
      {"array_construct", "{{ array_construct(['1', '2']) }}", "{1,2}"},
      {"array_append", "{{ dbt.array_append(array_construct(['1', '2']), '3') }}", "{1,2,3}"},
      {"array_concat", "{{ array_concat(array_construct(['1']), dbt.array_construct(['2', '3'])) }}", "{1,2,3}"},
      {"current_timestamp", "pg_typeof({{ current_timestamp() }})", "timestamp with time zone"},
      {"snapshot_get_time", "pg_typeof({{ snapshot_get_time() }})", "timestamp without time zone"},
      {"any_value", "(select {{ any_value('n') }} from (values (2), (1)) v(n))", "1"},
      {"bool_or", "(select {{ bool_or('f') }} from (values (false), (true)) v(f))", "true"},
      {"listagg", "(select {{ listagg('s', \"','\", 'order by s') }} from (values ('b'), ('a'), ('c')) v(s))", "a,b,c"},
      {"listagg_limit",
       "(select {{ dbt.listagg('s', \"'/'\", 'order by s desc', 2) }} from (values ('a'), ('c'), ('b')) v(s))", "c/b"},
      {"except", "(select count(*) from (select 1 union all select 2 {{ except() }} select 2) x)", "1"},
      {"generate_series", "(select sum(generated_number) from ({{ dbt.generate_series(4) }}) g)", "10"},
      {"date_spine",
       "(select count(*) || ' ' || min(cast(date_day as date)) || ' ' || max(cast(date_day as date)) from ("
       "{{ date_spine('day', \"cast('2024-01-01' as date)\", \"cast('2024-01-10' as date)\") }}) s)",
       "9 2024-01-01 2024-01-09"},
  });
  return cases;
}

TEST_F(LabOnPostgres, CrossDatabaseMacrosComputeAsDbtPostgres) {
  testing::write_files(project_, {{"models/macro_values.sql", testing::macro_values_model(postgres_macro_cases())}});
  ASSERT_EQ(invoke("run", {"macro_values"}), 0) << output_;
  std::map<std::string, std::string> got;
  for (const auto& row : rows("select name || '|' || coalesce(value, 'NULL') from main.macro_values")) {
    auto bar = row.find('|');
    got[row.substr(0, bar)] = row.substr(bar + 1);
  }
  for (const auto& c : postgres_macro_cases()) EXPECT_EQ(got[c.name], c.expected) << c.name << ": " << c.expression;
}

}  // namespace
}  // namespace strata::transform

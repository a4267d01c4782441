// dbt-postgres' table configs on a real PostgreSQL 15 warehouse: `indexes` (unique, method) and
// `unlogged` on table and incremental models, `indexes` on seeds and snapshots (an incremental model's indexes on its first build and
// a full refresh only, as dbt's), a bad config that fails the model with a located error before
// anything is built, an index the server rejects that leaves the old table as it was, and the same
// project on DuckDB ignoring the keys.
#include <gtest/gtest.h>

#include "common/time.h"
#include "duckdb_project.h"
#include "postgres_project.h"

namespace strata::transform {
namespace {

using Rows = std::vector<std::string>;

// Each index of main.<table> as "unique|method|columns", in the order of its definition.
const char* kIndexesOf =
    "select i.indisunique, am.amname, pg_get_indexdef(i.indexrelid, 1, true) ||"
    " coalesce(',' || nullif(pg_get_indexdef(i.indexrelid, 2, true), ''), '')"
    " from pg_index i join pg_class c on c.oid = i.indexrelid join pg_am am on am.oid = c.relam"
    " where i.indrelid = 'main.%s'::regclass order by 3, 1";

std::string indexes_of(const std::string& table) {
  std::string sql = kIndexesOf;
  return sql.replace(sql.find("%s"), 2, table);
}

class AdapterConfigsOnPostgres : public testing::PostgresProject {
 protected:
  void SetUp() override {
    set_up_project("pgconfigs", "pg_adapter_configs", "pgconfigs");
    testing::write_files(project_, {
        {"dbt_project.yml", "name: pgconfigs\nconfig-version: 2\nprofile: pgconfigs\n"},
        {"models/customers.sql",
         "{{ config(materialized='table', unlogged=true, indexes=[\n"
         "    {'columns': ['id'], 'unique': true},\n"
         "    {'columns': ['email'], 'type': 'hash'},\n"
         "    {'columns': ['tier', 'id'], 'type': 'brin'}]) }}\n"
         "select 1 as id, 'ann@example.com'::text as email, 'gold'::text as tier\n"
         "union all select 2, 'bob@example.com', 'silver'\n"},
        {"models/events.sql",
         "{{ config(materialized='incremental', unique_key='event_id') }}\n"
         "select * from (values (1, 'a'), (2, 'b')) as v(event_id, kind)\n"
         "{% if is_incremental() %} where event_id > (select max(event_id) from {{ this }}) {% endif %}\n"},
        {"models/schema.yml",
         "version: 2\nmodels:\n  - name: events\n    config:\n"
         "      indexes: [{columns: [event_id], unique: true, type: btree}]\n"},
    });
  }
};

TEST_F(AdapterConfigsOnPostgres, TablesGetTheirIndexesAndUnloggedIncrementalsOnlyWhenBuiltAnew) {
  ASSERT_EQ(invoke("run"), 0) << output_;
  EXPECT_EQ(rows(indexes_of("customers")), (Rows{"false|hash|email", "true|btree|id", "false|brin|tier,id"}));
  EXPECT_EQ(rows("select relpersistence from pg_class where oid = 'main.customers'::regclass"), (Rows{"u"}));
  EXPECT_EQ(rows("select relpersistence from pg_class where oid = 'main.events'::regclass"), (Rows{"p"}));
  EXPECT_EQ(rows(indexes_of("events")), (Rows{"true|btree|event_id"}));
  // A rebuild drops the table with its indexes and creates both again, under the same names.
  const Rows names = rows("select indexname from pg_indexes where schemaname = 'main' order by 1");
  ASSERT_EQ(names.size(), 4u);
  ASSERT_EQ(invoke("run"), 0) << output_;
  EXPECT_EQ(rows("select indexname from pg_indexes where schemaname = 'main' order by 1"), names);

  // An incremental run leaves the table's indexes alone (an index added to the config waits for a
  // full refresh, as with dbt), and the unique index holds.
  testing::write_files(project_, {{"models/schema.yml",
                                   "version: 2\nmodels:\n  - name: events\n    config:\n"
                                   "      indexes: [{columns: [event_id], unique: true}, {columns: [kind]}]\n"}});
  ASSERT_EQ(invoke("run", {"events"}), 0) << output_;
  EXPECT_EQ(rows(indexes_of("events")), (Rows{"true|btree|event_id"}));
  ASSERT_EQ(invoke("run", {"events"}, /*full_refresh=*/true), 0) << output_;
  EXPECT_EQ(rows(indexes_of("events")), (Rows{"true|btree|event_id", "false|btree|kind"}));
  exec("insert into main.events values (3, 'c')");
  EXPECT_EQ(rows("select count(*) from main.events"), (Rows{"3"}));
}

// A microbatch model's first batch creates its table with the configs; the later batches fill it.
TEST_F(AdapterConfigsOnPostgres, AMicrobatchModelsTableGetsThemOnItsFirstBatch) {
  const std::string yesterday = format_iso8601(now_micros() - 86400LL * 1000000).substr(0, 10);
  testing::write_files(project_, {{"models/daily.sql",
                                   "{{ config(materialized='incremental', incremental_strategy='microbatch', "
                                   "event_time='day', batch_size='day', begin='" + yesterday +
                                       "', concurrent_batches=false, unlogged=true, "
                                       "indexes=[{'columns': ['day'], 'type': 'brin'}]) }}\n"
                                       "select current_date as day, 1 as n\n"}});
  ASSERT_EQ(invoke("run", {"daily"}), 0) << output_;
  EXPECT_EQ(rows(indexes_of("daily")), (Rows{"false|brin|day"}));
  EXPECT_EQ(rows("select relpersistence from pg_class where oid = 'main.daily'::regclass"), (Rows{"u"}));
  EXPECT_EQ(rows("select distinct n from main.daily"), (Rows{"1"}));
}

// dbt-postgres creates a seed's and a snapshot's configured indexes with their tables: a seed's on
// its first load and on each full refresh (a reload keeps the table and its indexes), a
// snapshot's on its first run.
TEST_F(AdapterConfigsOnPostgres, SeedsAndSnapshotsGetTheirIndexes) {
  testing::write_files(project_, {
      {"seeds/tiers.csv", "id,name\n1,gold\n2,silver\n"},
      {"seeds/properties.yml",
       "version: 2\nseeds:\n  - name: tiers\n    config:\n"
       "      indexes: [{columns: [id], unique: true}, {columns: [name], type: hash}]\n"},
      {"snapshots/tier_history.sql",
       "{% snapshot tier_history %}\n"
       "{{ config(target_schema='main', unique_key='id', strategy='check', check_cols='all',"
       " indexes=[{'columns': ['id', 'dbt_valid_from']}]) }}\n"
       "select * from {{ ref('tiers') }}\n{% endsnapshot %}\n"},
  });
  ASSERT_EQ(invoke("seed"), 0) << output_;
  const Rows seed_indexes{"true|btree|id", "false|hash|name"};
  EXPECT_EQ(rows(indexes_of("tiers")), seed_indexes);
  ASSERT_EQ(invoke("seed"), 0) << output_;
  EXPECT_EQ(rows(indexes_of("tiers")), seed_indexes);
  ASSERT_EQ(invoke("seed", {}, true), 0) << output_;
  EXPECT_EQ(rows(indexes_of("tiers")), seed_indexes);
  EXPECT_EQ(rows("select count(*) from main.tiers"), (Rows{"2"}));
  ASSERT_EQ(invoke("snapshot"), 0) << output_;
  EXPECT_EQ(rows(indexes_of("tier_history")), (Rows{"false|btree|id,dbt_valid_from"}));
  ASSERT_EQ(invoke("snapshot"), 0) << output_;
  EXPECT_EQ(rows("select count(*) from main.tier_history"), (Rows{"2"}));
  // A bad value fails the seed before anything is written: no staging table, the old table stays.
  testing::write_files(project_, {{"seeds/properties.yml",
                                   "version: 2\nseeds:\n  - name: tiers\n    config:\n"
                                   "      indexes: [{columns: []}]\n"}});
  EXPECT_NE(invoke("seed", {}, true), 0);
  EXPECT_NE(output_.find("config `indexes` entry 1 has no columns"), std::string::npos) << output_;
  EXPECT_EQ(rows("select count(*) from pg_tables where tablename like '%dbt_seed_stage'"), (Rows{"0"}));
  EXPECT_EQ(rows(indexes_of("tiers")), seed_indexes);
  EXPECT_EQ(rows("select count(*) from main.tiers"), (Rows{"2"}));
}

TEST_F(AdapterConfigsOnPostgres, BadConfigsFailWithALocatedErrorAndBuildNothing) {
  struct Case {
    std::string config, message;
  };
  const Case cases[] = {
      {"indexes=[{'columns': []}]", "config `indexes` entry 1 has no columns"},
      {"indexes=[{'columns': ['id'], 'type': 'nosuch'}]",
       "config `indexes` has type 'nosuch', which is not an index method of the server"},
      {"unlogged='maybe'", "config `unlogged` must be true or false, not \"maybe\""},
  };
  for (const auto& c : cases) {
    testing::write_files(project_, {{"models/customers.sql", "{{ config(materialized='table', " + c.config +
                                                                 ") }}\nselect 1 as id\n"}});
    EXPECT_EQ(invoke("run", {"customers"}), 1) << c.config << "\n" << output_;
    EXPECT_NE(output_.find("models/customers.sql:1"), std::string::npos) << output_;
    EXPECT_NE(output_.find(c.message), std::string::npos) << output_;
    EXPECT_EQ(rows("select to_regclass('main.customers') is null"), (Rows{"true"})) << c.config;
  }
  // The same model on an incremental that exists: checked before its new rows are staged.
  ASSERT_EQ(invoke("run", {"events"}), 0) << output_;
  testing::write_files(project_, {{"models/schema.yml",
                                   "version: 2\nmodels:\n  - name: events\n    config:\n"
                                   "      indexes: [{columns: [event_id], unique: maybe}]\n"}});
  EXPECT_EQ(invoke("run", {"events"}), 1) << output_;
  EXPECT_NE(output_.find("unique must be true or false"), std::string::npos) << output_;
  EXPECT_EQ(rows("select to_regclass('main.events__dbt_tmp') is null"), (Rows{"true"}));
  // insert_overwrite is BigQuery's.
  testing::write_files(project_, {{"models/schema.yml",
                                   "version: 2\nmodels:\n  - name: events\n    config:\n"
                                   "      incremental_strategy: insert_overwrite\n"}});
  EXPECT_EQ(invoke("run", {"events"}), 1) << output_;
  EXPECT_NE(output_.find("incremental_strategy 'insert_overwrite' is BigQuery's"), std::string::npos) << output_;
  EXPECT_EQ(rows("select to_regclass('main.events__dbt_tmp') is null"), (Rows{"true"}));
}

TEST_F(AdapterConfigsOnPostgres, AnIndexTheServerRejectsLeavesTheOldTable) {
  ASSERT_EQ(invoke("run", {"customers"}), 0) << output_;
  // Duplicate ids under a unique index: the rebuild fails and rolls back the drop and the create.
  testing::write_files(project_, {{"models/customers.sql",
                                   "{{ config(materialized='table', indexes=[{'columns': ['id'], 'unique': true}]) }}\n"
                                   "select 7 as id union all select 7\n"}});
  EXPECT_EQ(invoke("run", {"customers"}), 1) << output_;
  EXPECT_NE(output_.find("could not create unique index"), std::string::npos) << output_;
  EXPECT_EQ(rows("select id, email from main.customers order by id"),
            (Rows{"1|ann@example.com", "2|bob@example.com"}));
  EXPECT_EQ(rows(indexes_of("customers")), (Rows{"false|hash|email", "true|btree|id", "false|brin|tier,id"}));
  // A first build that fails leaves no table at all.
  testing::write_files(project_, {{"models/fresh.sql",
                                   "{{ config(materialized='table', indexes=[{'columns': ['no_such_column']}]) }}\n"
                                   "select 1 as id\n"}});
  EXPECT_EQ(invoke("run", {"fresh"}), 1) << output_;
  EXPECT_EQ(rows("select to_regclass('main.fresh') is null"), (Rows{"true"}));
}

// DuckDB ignores both adapters' keys, as dbt-duckdb does, even values the others would refuse.
class AdapterConfigsOnDuckdb : public testing::DuckdbProject {};

TEST_F(AdapterConfigsOnDuckdb, IgnoresTheOtherWarehousesKeys) {
  set_paths("ddconfigs");
  testing::write_files(project_, {
      {"dbt_project.yml", "name: ddconfigs\nprofile: ddconfigs\nconfig-version: 2\n"},
      {"profiles.yml", "ddconfigs:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                       "      path: \"{{ env_var('LAB_DB') }}\"\n      schema: main\n      threads: 2\n"},
      {"models/t.sql", "{{ config(materialized='table', unlogged='maybe', indexes=[{'columns': []}],"
                       " partition_by={'field': 'x', 'data_type': 'string'}, cluster_by=['x'], labels={'A': 'b'}) }}\n"
                       "select 1 as x\n"},
      {"models/i.sql", "{{ config(materialized='incremental', indexes=[{'columns': ['x']}],"
                       " partition_by={'field': 'x'}) }}\nselect 2 as x\n"},
  });
  ASSERT_EQ(invoke_with(options("run")), 0) << output_;
  EXPECT_EQ(rows("select (select x from main.t), (select x from main.i)"), (Rows{"1|2"}));
  ASSERT_EQ(invoke_with(options("run")), 0) << output_;
  EXPECT_EQ(rows("select count(*) from main.i"), (Rows{"2"}));
}

}  // namespace
}  // namespace strata::transform

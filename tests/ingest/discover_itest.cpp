// Discovery against a real PostgreSQL: relation kinds, partitions read through their parent,
// columns and their logical types, primary keys, row estimates and suggested cursors; and the
// `strata discover` command.

#include "ingest/discover.h"

#include <sqlite3.h>

#include <thread>

#include "common/time.h"
#include "ingest_fixture.h"

namespace strata::ingest::testing {
namespace {

class Discover : public IngestTest {};

TEST_F(Discover, FindsKindsKeysTypesAndCursors) {
  source(R"sql(
    CREATE DOMAIN cents AS bigint;
    CREATE TABLE orders (id bigint, line int, total numeric(12,2), amount cents, tags text[], updated_at timestamptz,
                         created_at timestamptz, PRIMARY KEY (line, id));
    INSERT INTO orders SELECT g, 1, g, g, '{a}', now(), now() FROM generate_series(1, 1000) g;
    ANALYZE orders;
    CREATE VIEW recent AS SELECT id FROM orders;
    CREATE MATERIALIZED VIEW totals AS SELECT sum(total) AS s FROM orders;
    CREATE TABLE parted (id int, modified date) PARTITION BY RANGE (modified);
    CREATE TABLE parted_2020 PARTITION OF parted FOR VALUES FROM ('2020-01-01') TO ('2021-01-01');
    CREATE SCHEMA other; CREATE TABLE other.hidden (x int);
  )sql");
  auto conn = pg::Connection::connect(pg_->conninfo(db_name_));
  ASSERT_TRUE(conn.ok());
  auto catalog = discover_catalog(*conn, {"public"});
  ASSERT_TRUE(catalog.ok()) << catalog.error().to_string();
  // The server's shared_buffers, which decides whether a large table is read in parallel.
  auto buffers = conn->exec("SELECT pg_size_bytes(current_setting('shared_buffers'))");
  ASSERT_TRUE(buffers.ok());
  EXPECT_EQ(catalog->shared_buffers_bytes, std::stoll(std::string(buffers->value(0, 0))));
  EXPECT_GT(catalog->shared_buffers_bytes, 0);
  std::vector<std::string> names;
  for (const auto& t : catalog->tables) names.push_back(t.full_name() + ":" + table_kind_name(t.kind));
  EXPECT_EQ(names, (std::vector<std::string>{"public.orders:table", "public.parted:partitioned table",
                                             "public.recent:view", "public.totals:materialized view"}));
  const CatalogTable* orders = catalog->find("public", "orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(orders->primary_key, (std::vector<std::string>{"line", "id"}));
  EXPECT_EQ(orders->estimated_rows, 1000);
  EXPECT_GT(orders->size_bytes, 0);
  EXPECT_EQ(orders->column("total")->mapping.type, sql::LogicalType::decimal(12, 2));
  EXPECT_EQ(orders->column("amount")->mapping.type, sql::LogicalType::int64());  // domain → base
  EXPECT_EQ(orders->column("tags")->mapping.type, sql::LogicalType::list(sql::LogicalType::varchar()));
  EXPECT_EQ(orders->column("total")->pg_type, "numeric(12,2)");
  EXPECT_EQ(orders->suggested_cursors, (std::vector<std::string>{"updated_at", "created_at"}));
  EXPECT_EQ(catalog->find("public", "parted")->suggested_cursors, (std::vector<std::string>{"modified"}));
  auto all = discover_catalog(*conn, {});
  ASSERT_TRUE(all.ok());
  EXPECT_NE(all->find("other", "hidden"), nullptr);
  EXPECT_EQ(all->find("public", "parted_2020"), nullptr);
}

TEST_F(Discover, InheritedRowsPrivilegesAndUnanalyzedPartitions) {
  source(R"sql(
    CREATE TABLE par (id int); CREATE TABLE kid () INHERITS (par);
    INSERT INTO par SELECT generate_series(1, 1000); INSERT INTO kid VALUES (100001), (100002);
    CREATE TABLE secret (id int);
    CREATE TABLE pp (id int, k int) PARTITION BY LIST (k);
    CREATE TABLE pp1 PARTITION OF pp FOR VALUES IN (1);
    INSERT INTO pp SELECT g, 1 FROM generate_series(1, 50) g;
    DO $$ BEGIN CREATE ROLE strata_reader LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
    GRANT USAGE ON SCHEMA public TO strata_reader;
    GRANT SELECT ON par, kid, pp TO strata_reader;
  )sql");
  // A table that others inherit from is read as a query of it reads it: with its children's rows,
  // whether one reader copies it or several read ctid ranges.
  for (const std::string parallelism : {"1", "2"}) {
    SCOPED_TRACE("parallelism " + parallelism);
    auto r = sync(write_connection("streams:\n  - name: public.par\n    parallelism: " + parallelism + "\n", "par"));
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    ASSERT_TRUE(r->ok()) << report_to_text(*r);
    EXPECT_EQ(r->streams[0].parallelism, std::stoi(parallelism));
    EXPECT_EQ(bronze_rows("SELECT count(*), count(DISTINCT id), max(id) FROM bronze.par")[0],
              (std::vector<std::string>{"1002", "1002", "100002"}));
  }
  // A role without SELECT on a table: discover says so, a sync without streams: leaves it out, and
  // a stream that names it is a located error.
  auto as_reader = [&](const std::string& body, const std::string& name) {
    std::string path = write_connection(body, name);
    std::string text = slurp(path);
    text.replace(text.find("user: postgres"), 14, "user: strata_reader");
    std::ofstream(path) << text;
    return path;
  };
  auto conn = pg::Connection::connect(pg_->conninfo(db_name_) + " user=strata_reader");
  ASSERT_TRUE(conn.ok()) << conn.error().to_string();
  auto catalog = discover_catalog(*conn, {"public"});
  ASSERT_TRUE(catalog.ok()) << catalog.error().to_string();
  EXPECT_FALSE(catalog->find("public", "secret")->readable);
  EXPECT_TRUE(catalog->find("public", "par")->readable);
  EXPECT_NE(catalog_to_text(*catalog).find("public.secret  (table, not readable: no SELECT privilege)"),
            std::string::npos)
      << catalog_to_text(*catalog);
  // A partition never analyzed leaves the partitioned table's estimate unknown, not 0.
  EXPECT_EQ(catalog->find("public", "pp")->estimated_rows, -1);
  auto all = sync(as_reader("", "reader_all"));
  ASSERT_TRUE(all.ok()) << all.error().to_string();
  EXPECT_TRUE(all->ok()) << report_to_text(*all);
  std::vector<std::string> streams;
  for (const auto& s : all->streams) streams.push_back(s.stream);
  EXPECT_EQ(streams, (std::vector<std::string>{"public.kid", "public.par", "public.pp"}));
  auto listed = sync(as_reader("streams:\n  - name: public.secret\n", "reader_secret"));
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().exit_code(), 2);
  EXPECT_EQ(listed.error().where().line, 12) << listed.error().to_string();
  EXPECT_NE(listed.error().message().find("cannot read public.secret (no SELECT privilege)"), std::string::npos)
      << listed.error().to_string();
  // A stream naming a partition is pointed at the partitioned table it is read through.
  auto partition = sync(write_connection("streams:\n  - name: public.pp1\n", "partition"));
  ASSERT_FALSE(partition.ok());
  EXPECT_EQ(partition.error().exit_code(), 2);
  EXPECT_NE(partition.error().message().find("public.pp1 is a partition of public.pp"), std::string::npos)
      << partition.error().to_string();
}

// A hot standby has no rows of an unlogged table (reading one fails: "could not open file"):
// discover marks it not readable, a sync without streams: leaves it out, and a stream naming it
// is a located error that points at the primary. The other tables sync from the standby.
TEST_F(Discover, UnloggedTablesOnAStandbyAreNotReadable) {
  source("CREATE TABLE kept (id int PRIMARY KEY); INSERT INTO kept SELECT generate_series(1, 10);"
         "CREATE UNLOGGED TABLE scratch (id int); INSERT INTO scratch VALUES (1)");
  strata::testing::PgCluster standby(strata::testing::PgCluster::StandbyOf{*pg_});
  auto conn = pg::Connection::connect("host=127.0.0.1 port=" + std::to_string(standby.port()) +
                                      " user=postgres dbname=" + db_name_);
  ASSERT_TRUE(conn.ok()) << conn.error().to_string();
  // The standby replays the primary's log: wait until it has the rows.
  const int64_t deadline = monotonic_micros() + 30'000'000;
  while (monotonic_micros() < deadline) {
    auto r = conn->exec("SELECT count(*) FROM pg_class WHERE relname = 'scratch'");
    if (r.ok() && r->value(0, 0) == "1") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto catalog = discover_catalog(*conn, {"public"});
  ASSERT_TRUE(catalog.ok()) << catalog.error().to_string();
  ASSERT_NE(catalog->find("public", "scratch"), nullptr) << catalog_to_text(*catalog);
  EXPECT_FALSE(catalog->find("public", "scratch")->readable);
  EXPECT_TRUE(catalog->find("public", "kept")->readable);
  EXPECT_NE(catalog_to_text(*catalog).find("public.scratch  (table, not readable: an unlogged table, whose rows a "
                                           "standby server does not have)"),
            std::string::npos)
      << catalog_to_text(*catalog);
  auto on_standby = [&](const std::string& body, const std::string& name) {
    std::string path = write_connection(body, name);
    std::string text = slurp(path);
    const std::string port = "port: " + std::to_string(pg_->port());
    text.replace(text.find(port), port.size(), "port: " + std::to_string(standby.port()));
    std::ofstream(path) << text;
    return path;
  };
  auto all = sync(on_standby("", "standby_all"));
  ASSERT_TRUE(all.ok()) << all.error().to_string();
  ASSERT_TRUE(all->ok()) << report_to_text(*all);
  ASSERT_EQ(all->streams.size(), 1u) << report_to_text(*all);
  EXPECT_EQ(all->streams[0].stream, "public.kept");
  EXPECT_EQ(all->streams[0].rows, 10u);
  auto listed = sync(on_standby("streams:\n  - name: public.scratch\n", "standby_scratch"));
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().exit_code(), 2);
  EXPECT_NE(listed.error().to_string().find("read it from the primary server"), std::string::npos)
      << listed.error().to_string();
  // On the primary the same table is readable.
  auto primary = pg::Connection::connect(pg_->conninfo(db_name_));
  ASSERT_TRUE(primary.ok());
  auto on_primary = discover_catalog(*primary, {"public"});
  ASSERT_TRUE(on_primary.ok());
  EXPECT_TRUE(on_primary->find("public", "scratch")->readable);
}

TEST_F(Discover, CommandPrintsTextAndJson) {
  source("CREATE TABLE t (id int PRIMARY KEY, updated_at timestamp)");
  std::string conn = write_connection("");
  std::string out, err;
  ASSERT_EQ(run_strata({"discover", conn}, &out, &err), 0) << err;
  EXPECT_NE(out.find("public.t  (table"), std::string::npos) << out;
  EXPECT_NE(out.find("suggested cursor: updated_at"), std::string::npos) << out;
  ASSERT_EQ(run_strata({"discover", "--json", "--project-dir", dir_.path(), "src"}, &out, &err), 0) << err;
  auto json = nlohmann::json::parse(out);
  ASSERT_EQ(json["tables"].size(), 1u);
  EXPECT_EQ(json["tables"][0]["primary_key"][0], "id");
  EXPECT_EQ(json["tables"][0]["columns"][1]["logical_type"], "TIMESTAMP");
}

// The report JSON of every sync of `connection` in a metadata store file, oldest first.
std::vector<std::string> metadata_sync_reports(const std::string& path, const std::string& connection) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path;
    sqlite3_close(db);
    return out;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT report FROM sync_reports WHERE connection = ? AND task_id = 'cli' ORDER BY at",
                         -1, &stmt, nullptr) == SQLITE_OK) {
    sqlite3_bind_text(stmt, 1, connection.c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(stmt) == SQLITE_ROW) out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  } else {
    ADD_FAILURE() << sqlite3_errmsg(db);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

TEST_F(Discover, SyncCommandPrintsAndStoresItsReport) {
  source("CREATE TABLE t (id int PRIMARY KEY, updated_at timestamp); INSERT INTO t SELECT g, '2024-01-01' FROM"
         " generate_series(1, 25) g");
  std::string conn = write_connection("streams:\n  - name: public.t\n    sync_mode: incremental_dedup\n"
                                      "    cursor_field: updated_at\n");
  std::string out, err;
  ASSERT_EQ(run_strata({"sync", conn}, &out, &err), 0) << err;
  EXPECT_NE(out.find("public.t -> bronze.t  [incremental_dedup]  25 rows"), std::string::npos) << out;
  ASSERT_EQ(run_strata({"sync", "--json", "--project-dir", dir_.path(), "src", "--stream", "t"}, &out, &err), 0) << err;
  auto json = nlohmann::json::parse(out);
  EXPECT_EQ(json["status"], "success");
  EXPECT_EQ(json["streams"][0]["cursor_before"], "2024-01-01 00:00:00");
  EXPECT_EQ(json["streams"][0]["rows"], 25);
  std::string stored = dir_.path() + "/.strata/syncs/" + json["sync_id"].get<std::string>() + ".json";
  ASSERT_TRUE(std::filesystem::exists(stored));
  EXPECT_EQ(nlohmann::json::parse(slurp(stored))["sync_id"], json["sync_id"]);
  // Also in the metadata store, where the UI's sync history reads it.
  std::vector<std::string> reports = metadata_sync_reports(dir_.path() + "/.strata/strata.db", "src");
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(reports[1])["sync_id"], json["sync_id"]);
  EXPECT_EQ(run_strata({"sync", conn, "--stream", "public.nope"}, &out, &err), 2);
  EXPECT_NE(err.find("--stream public.nope is not a stream"), std::string::npos) << err;
  // With --json, an error before the report is JSON on stdout too.
  EXPECT_EQ(run_strata({"sync", conn, "--stream", "public.nope", "--json"}, &out, &err), 2);
  auto error = nlohmann::json::parse(out);
  EXPECT_EQ(error["status"], "error");
  EXPECT_EQ(error["error"]["exit_code"], 2);
  EXPECT_NE(error["error"]["message"].get<std::string>().find("--stream public.nope is not a stream"),
            std::string::npos) << out;
  // A stream named twice runs once; a table name two streams share must carry its schema.
  ASSERT_EQ(run_strata({"sync", conn, "--json", "--stream", "t", "--stream", "public.t"}, &out, &err), 0) << err;
  EXPECT_EQ(nlohmann::json::parse(out)["streams"].size(), 1u) << out;
  source("CREATE SCHEMA other; CREATE TABLE other.t (id int PRIMARY KEY)");
  std::string both = write_connection("streams:\n  - name: public.t\n  - name: other.t\n", "both");
  EXPECT_EQ(run_strata({"sync", both, "--stream", "t"}, &out, &err), 2);
  EXPECT_NE(err.find("--stream t names several streams"), std::string::npos) << err;
  EXPECT_NE(err.find("public.t or other.t"), std::string::npos) << err;
}

}  // namespace
}  // namespace strata::ingest::testing

#pragma once
// Helpers shared by the ingest integration tests: a fresh source database in the shared test
// cluster, a project folder with a connection file and a DuckDB (or PostgreSQL) destination, running a sync
// through the library or the `strata` binary, and reading rows from both sides as text.

#include <gtest/gtest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "ingest/connection_config.h"
#include "ingest/sync.h"
#include "pg/connection.h"
#include "support/pg_cluster.h"
#include "support/temp_dir.h"
#include "warehouse/warehouse.h"

extern char** environ;  // posix_spawn passes it on

namespace strata::ingest::testing {

using Rows = std::vector<std::vector<std::string>>;

inline const char* kNull = "<NULL>";

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pg_ = &strata::testing::shared_pg_cluster();
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    db_name_ = "ingest_" + std::string(info->name());
    for (char& c : db_name_) c = std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
    db_name_ = db_name_.substr(0, 60);
    pg_->create_database(db_name_);
    std::filesystem::create_directories(dir_.path() + "/connections");
    std::filesystem::create_directories(dir_.path() + "/.strata");
  }

  // Makes bronze a PostgreSQL warehouse: a database of its own in the same cluster (or in
  // `cluster`, which must outlive the test), reached through a `wh` target in the project's
  // profiles.yml (connection files written afterwards use it).
  void use_postgres_destination(strata::testing::PgCluster* cluster = nullptr) {
    warehouse_pg_ = cluster ? cluster : pg_;
    warehouse_db_ = "wh_" + db_name_.substr(0, 56);
    warehouse_pg_->create_database(warehouse_db_);
    warehouse_pg_->execute("ALTER DATABASE " + warehouse_db_ + " SET TimeZone = 'UTC'");  // text forms as the source's
    std::ofstream f(dir_.path() + "/profiles.yml");
    f << "bronze_wh:\n  target: wh\n  outputs:\n    wh:\n      type: postgres\n      host: 127.0.0.1\n      port: "
      << warehouse_pg_->port() << "\n      user: postgres\n      password: ''\n      dbname: " << warehouse_db_
      << "\n      schema: public\n";
  }
  bool postgres_destination() const { return !warehouse_db_.empty(); }

  // Opens the destination: the DuckDB file, or the PostgreSQL warehouse database.
  Result<std::unique_ptr<warehouse::Database>> open_warehouse() {
    if (postgres_destination()) return warehouse::open_postgres(warehouse_pg_->conninfo(warehouse_db_));
    return warehouse::open_duckdb(duckdb_path());
  }

  // Runs SQL on the source database.
  void source(const std::string& sql) { pg_->execute(sql, db_name_); }

  std::string duckdb_path() const { return dir_.path() + "/.strata/warehouse.duckdb"; }

  // Writes connections/<name>.yml with the source block filled in, then `body` (destination,
  // streams …). Returns its path.
  std::string write_connection(const std::string& body, const std::string& name = "src",
                               const std::string& extra_source = "") {
    std::string path = dir_.path() + "/connections/" + name + ".yml";
    std::ofstream f(path);
    f << "source:\n  type: postgres\n  host: 127.0.0.1\n  port: " << pg_->port() << "\n  database: " << db_name_
      << "\n  user: postgres\n  sslmode: disable\n" << extra_source
      << (postgres_destination() ? "destination:\n  schema: bronze\n  target: wh\n"
                                 : "destination:\n  schema: bronze\n  duckdb_path: .strata/warehouse.duckdb\n")
      << body;
    return path;
  }

  // Loads the connection file and runs a sync through the library.
  Result<SyncReport> sync(const std::string& path, SyncOptions options = {}) {
    STRATA_ASSIGN(ConnectionConfig config, load_connection_config(path));
    STRATA_ASSIGN(auto db, open_warehouse());
    return run_sync(config, *db, options);
  }

  // Runs `sql` on the source as text rows (NULL as <NULL>), with TimeZone UTC.
  Rows source_rows(const std::string& sql) {
    auto conn = pg::Connection::connect(pg_->conninfo(db_name_));
    EXPECT_TRUE(conn.ok()) << conn.error().to_string();
    EXPECT_TRUE(conn->execute("SET TimeZone = 'UTC'; SET extra_float_digits = 1").ok());
    auto r = conn->exec(sql);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    Rows rows;
    if (!r.ok()) return rows;
    for (int i = 0; i < r->rows(); ++i) {
      std::vector<std::string> row;
      for (int c = 0; c < r->columns(); ++c) row.push_back(r->is_null(i, c) ? kNull : std::string(r->value(i, c)));
      rows.push_back(std::move(row));
    }
    return rows;
  }

  // Runs `sql` on the destination as text rows (QueryResult::cell_text; NULL as <NULL>).
  Rows bronze_rows(const std::string& sql) {
    auto db = open_warehouse();
    EXPECT_TRUE(db.ok()) << db.error().to_string();
    if (!db.ok()) return {};
    auto wh = (*db)->connect();
    EXPECT_TRUE(wh.ok());
    return wh.ok() ? rows_of(**wh, sql) : Rows{};
  }

  // Runs `sql` in a warehouse session as text rows (as bronze_rows).
  static Rows rows_of(warehouse::Warehouse& wh, const std::string& sql) {
    Rows rows;
    auto r = wh.query(sql);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    if (!r.ok()) return rows;
    for (size_t i = 0; i < r->num_rows(); ++i) {
      std::vector<std::string> row;
      for (size_t c = 0; c < r->schema.size(); ++c) row.push_back(r->is_null(i, c) ? kNull : r->cell_text(i, c));
      rows.push_back(std::move(row));
    }
    return rows;
  }

  // Compares `pg_select` on the source with `duck_select` in bronze, value by value as text;
  // `interval_column` is compared in the warehouse's spelling of intervals.
  void expect_same(const std::string& pg_select, const std::string& duck_select, size_t interval_column) {
    Rows want = source_rows(pg_select);
    // PostgreSQL spells interval units "mons" and "-1 days"; the warehouse "months" and "-1 day".
    for (auto& row : want) {
      std::string& iv = row[interval_column];
      iv = std::regex_replace(iv, std::regex(" mons\\b"), " months");
      iv = std::regex_replace(iv, std::regex(" mon\\b"), " month");
      iv = std::regex_replace(iv, std::regex("(^|[^0-9])(-?1) days\\b"), "$1$2 day");
    }
    Rows got = bronze_rows(duck_select);
    ASSERT_EQ(got.size(), want.size());
    for (size_t r = 0; r < want.size(); ++r) {
      ASSERT_EQ(got[r].size(), want[r].size());
      for (size_t c = 0; c < want[r].size(); ++c) {
        EXPECT_EQ(got[r][c].substr(0, 200), want[r][c].substr(0, 200)) << "row " << r << " column " << c;
        EXPECT_EQ(got[r][c], want[r][c]) << "row " << r << " column " << c << " (long values differ past 200 chars)";
      }
    }
  }
  // Table t with every scalar type the issue lists (type mood, domain price, extension citext):
  // extremes (row 2), NULLs (row 3), large values (row 4). The schema and the rows can come apart.
  void create_scalars_table() {
    create_scalars_schema();
    insert_scalars_rows();
  }
  void create_scalars_schema() {
    source(R"sql(
      CREATE TYPE mood AS ENUM ('sad', 'happy');
      CREATE DOMAIN price AS numeric(12,3);
      CREATE EXTENSION IF NOT EXISTS citext;
      CREATE TABLE t (
        id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
        n numeric(38,10), n2 numeric(5,2), nu numeric, m money, tx text, vc varchar(20), ch char(5), nm name,
        ci citext, e mood, p price, bya bytea, d date, tm time, ttz timetz, ts timestamp, tstz timestamptz,
        iv interval, u uuid, j json, jb jsonb, ip inet, cidr_ cidr, mac macaddr, tsv tsvector, pt point, rng int4range);
    )sql");
  }
  void insert_scalars_rows() {
    source(R"sql(
      INSERT INTO t VALUES
        (1, true, -32768, -2147483648, -9223372036854775808, 1.5, -2.25e300,
         -9999999999999999999999999999.9999999999, -999.99, 123456789012345678901234567890123456789012345.678901, -92233720368547758.08,
         'héllo wörld ✓', 'varchar', 'ab', 'nm', 'CaseLess', 'happy', 12.345, '\x00ff10', '0001-01-01', '00:00:00', '23:59:59.999999+14',
         '1970-01-01 00:00:00', '2024-02-29 12:34:56.789012+00', '-178000000 years', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
         '{"a": [1, 2, {"b": null}]}', '{"z": 1, "a": "ü"}', '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03',
         'a fat cat', '(1.5,2)', '[1,10)'),
        (2, false, 32767, 2147483647, 9223372036854775807, 'Infinity', 'NaN',
         9999999999999999999999999999.9999999999, 999.99, 'NaN', 92233720368547758.07,
         '', '', '', '', '', 'sad', -0.001, '', '9999-12-31', '24:00:00', '00:00:00-15:59',
         '294276-12-31 23:59:59.999999', 'infinity', '1 year 2 mons 3 days 04:05:06.5', '00000000-0000-0000-0000-000000000000',
         '[]', '{}', '::1', '::/0', 'ff:ff:ff:ff:ff:ff', '', '(0,0)', 'empty'),
        (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
         NULL, NULL, NULL, NULL, '-infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (4, true, 0, 0, 0, '-Infinity', 0, 0, 0, 0.000000000000000000001, 0, repeat('x', 1048576), 'x', 'x', 'x', 'x', 'sad', 0,
         decode(repeat('ab', 1048576), 'hex'), '2000-01-01', '12:00:00', '12:00:00+00', '2000-01-01 00:00:00',
         '1999-12-31 23:59:59.5-01', '-1 days -00:00:00.000001', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
         'null', '[1, 2.5, "x"]', '0.0.0.0', '0.0.0.0/0', '00:00:00:00:00:00', 'x:1 y:2', '(-1,-1)', '(,5]');
    )sql");
  }
  // Runs the strata binary with args; returns its exit status and fills stdout/stderr.
  int run_strata(const std::vector<std::string>& args, std::string* out = nullptr, std::string* err = nullptr) {
    std::string cmd = std::string(STRATA_BINARY_DIR) + "/strata";
    for (const auto& a : args) cmd += " '" + a + "'";
    std::string out_file = dir_.file("cli.out"), err_file = dir_.file("cli.err");
    cmd += " >" + out_file + " 2>" + err_file;
    int status = std::system(cmd.c_str());
    if (out) *out = slurp(out_file);
    if (err) *err = slurp(err_file);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static std::string slurp(const std::string& path) {
    std::ifstream f(path);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  }

  strata::testing::PgCluster* pg_ = nullptr;
  std::string db_name_;
  std::string warehouse_db_;  // set by use_postgres_destination()
  strata::testing::PgCluster* warehouse_pg_ = nullptr;
  strata::testing::TempDir dir_;
};

// Starts the strata binary (stdout and stderr to the given files), with SIGINT and SIGTERM at
// their default handling whatever this process inherited (a background job may ignore SIGINT).
inline pid_t spawn_strata(const std::vector<std::string>& args, const std::string& out = "/dev/null",
                   const std::string& err = "/dev/null") {
  std::string bin = std::string(STRATA_BINARY_DIR) + "/strata";
  std::vector<char*> argv;
  argv.push_back(bin.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&fa, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, bin.c_str(), &fa, &attr, argv.data(), environ), 0);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  return pid;
}

inline std::string dump(const Rows& rows, size_t limit = 20) {
  std::string out;
  for (size_t i = 0; i < rows.size() && i < limit; ++i) {
    for (const auto& v : rows[i]) out += v.substr(0, 80) + " | ";
    out += "\n";
  }
  return out;
}

}  // namespace strata::ingest::testing

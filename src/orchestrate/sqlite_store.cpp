#include "orchestrate/sqlite_store.h"

#include <filesystem>
#include <map>

#include <sqlite3.h>

namespace strata::orchestrate {
namespace {

// Numbered migrations; index + 1 is the version. Never edit one that shipped: append a new one.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE pipelines (
  name TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  pipeline TEXT NOT NULL,
  run_type TEXT NOT NULL,
  state TEXT NOT NULL,
  logical_date BIGINT NOT NULL,
  interval_start BIGINT NOT NULL,
  interval_end BIGINT NOT NULL,
  params TEXT NOT NULL,
  queued_at BIGINT NOT NULL,
  start_at BIGINT NOT NULL,
  end_at BIGINT NOT NULL,
  owner TEXT NOT NULL
);
CREATE INDEX runs_by_pipeline ON runs (pipeline, logical_date);
CREATE INDEX runs_by_state ON runs (state);
CREATE TABLE task_instances (
  run_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  task_group TEXT NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  try_number INTEGER NOT NULL,
  max_tries INTEGER NOT NULL,
  start_at BIGINT NOT NULL,
  end_at BIGINT NOT NULL,
  next_retry_at BIGINT NOT NULL,
  pool TEXT NOT NULL,
  priority INTEGER NOT NULL,
  PRIMARY KEY (run_id, task_id)
);
CREATE TABLE attempts (
  run_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  try_number INTEGER NOT NULL,
  state TEXT NOT NULL,
  start_at BIGINT NOT NULL,
  end_at BIGINT NOT NULL,
  log_path TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  error TEXT NOT NULL,
  owner TEXT NOT NULL,
  PRIMARY KEY (run_id, task_id, try_number)
);
CREATE INDEX attempts_by_state ON attempts (state);
CREATE TABLE heartbeats (
  owner TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid BIGINT NOT NULL,
  started_at BIGINT NOT NULL,
  beat_at BIGINT NOT NULL
);
CREATE TABLE sync_reports (
  run_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  connection TEXT NOT NULL,
  report TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX sync_reports_by_run ON sync_reports (run_id);
CREATE TABLE test_results (
  run_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  test_name TEXT NOT NULL,
  status TEXT NOT NULL,
  failures BIGINT NOT NULL,
  message TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX test_results_by_run ON test_results (run_id);
)sql",
    // 2: runs are keyed by (pipeline, run_id), as Airflow's (dag_id, run_id): two pipelines may each
    // have "scheduled__<date>". Rows before it had unique run ids, so their pipeline comes from runs.
    R"sql(
CREATE TABLE runs_v2 (
  pipeline TEXT NOT NULL,
  run_id TEXT NOT NULL,
  run_type TEXT NOT NULL,
  state TEXT NOT NULL,
  logical_date BIGINT NOT NULL,
  interval_start BIGINT NOT NULL,
  interval_end BIGINT NOT NULL,
  params TEXT NOT NULL,
  queued_at BIGINT NOT NULL,
  start_at BIGINT NOT NULL,
  end_at BIGINT NOT NULL,
  owner TEXT NOT NULL,
  PRIMARY KEY (pipeline, run_id)
);
INSERT INTO runs_v2 (pipeline, run_id, run_type, state, logical_date, interval_start, interval_end, params, queued_at,
                     start_at, end_at, owner)
  SELECT pipeline, run_id, run_type, state, logical_date, interval_start, interval_end, params, queued_at, start_at,
         end_at, owner FROM runs;
CREATE TABLE task_instances_v2 (
  pipeline TEXT NOT NULL,
  run_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  task_group TEXT NOT NULL,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  try_number INTEGER NOT NULL,
  max_tries INTEGER NOT NULL,
  start_at BIGINT NOT NULL,
  end_at BIGINT NOT NULL,
  next_retry_at BIGINT NOT NULL,
  pool TEXT NOT NULL,
  priority INTEGER NOT NULL,
  PRIMARY KEY (pipeline, run_id, task_id)
);
INSERT INTO task_instances_v2 (pipeline, run_id, task_id, task_group, kind, state, try_number, max_tries, start_at,
                               end_at, next_retry_at, pool, priority)
  SELECT COALESCE((SELECT r.pipeline FROM runs r WHERE r.run_id = t.run_id), ''), t.run_id, t.task_id, t.task_group,
         t.kind, t.state, t.try_number, t.max_tries, t.start_at, t.end_at, t.next_retry_at, t.pool, t.priority
  FROM task_instances t;
CREATE TABLE attempts_v2 (
  pipeline TEXT NOT NULL,
  run_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  try_number INTEGER NOT NULL,
  state TEXT NOT NULL,
  start_at BIGINT NOT NULL,
  end_at BIGINT NOT NULL,
  log_path TEXT NOT NULL,
  exit_code INTEGER NOT NULL,
  error TEXT NOT NULL,
  owner TEXT NOT NULL,
  PRIMARY KEY (pipeline, run_id, task_id, try_number)
);
INSERT INTO attempts_v2 (pipeline, run_id, task_id, try_number, state, start_at, end_at, log_path, exit_code, error,
                         owner)
  SELECT COALESCE((SELECT r.pipeline FROM runs r WHERE r.run_id = a.run_id), ''), a.run_id, a.task_id, a.try_number,
         a.state, a.start_at, a.end_at, a.log_path, a.exit_code, a.error, a.owner
  FROM attempts a;
ALTER TABLE sync_reports ADD COLUMN pipeline TEXT NOT NULL DEFAULT '';
UPDATE sync_reports SET pipeline = COALESCE((SELECT r.pipeline FROM runs r WHERE r.run_id = sync_reports.run_id), '')
  WHERE run_id <> '';
ALTER TABLE test_results ADD COLUMN pipeline TEXT NOT NULL DEFAULT '';
UPDATE test_results SET pipeline = COALESCE((SELECT r.pipeline FROM runs r WHERE r.run_id = test_results.run_id), '');
DROP TABLE runs;
DROP TABLE task_instances;
DROP TABLE attempts;
ALTER TABLE runs_v2 RENAME TO runs;
ALTER TABLE task_instances_v2 RENAME TO task_instances;
ALTER TABLE attempts_v2 RENAME TO attempts;
CREATE INDEX runs_by_pipeline ON runs (pipeline, logical_date);
CREATE INDEX runs_by_state ON runs (state);
CREATE INDEX runs_by_id ON runs (run_id);
CREATE INDEX attempts_by_state ON attempts (state);
DROP INDEX sync_reports_by_run;
CREATE INDEX sync_reports_by_run ON sync_reports (pipeline, run_id);
CREATE INDEX sync_reports_by_connection ON sync_reports (connection, at);
DROP INDEX test_results_by_run;
CREATE INDEX test_results_by_run ON test_results (pipeline, run_id);
)sql",    // 3: the work queue of `strata worker` processes.
    kWorkQueueMigration,
    // 4: task instances by pool and state.
    kPoolIndexMigration,
    // 5: datasets (data-aware scheduling).
    kDatasetMigration,
    // 6: runs.note.
    kRunNoteMigration,
    // 7: task_instances.note.
    kTaskNoteMigration,
};

// A SqlSession on one SQLite connection, with its prepared statements cached by SQL text.
class SqliteSession final : public SqlSession {
 public:
  explicit SqliteSession(sqlite3* db) : db_(db) {}
  ~SqliteSession() override {
    for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
    sqlite3_close(db_);
  }
  SqliteSession(const SqliteSession&) = delete;
  SqliteSession& operator=(const SqliteSession&) = delete;

  Result<int64_t> execute(const std::string& sql, const std::vector<SqlValue>& params) override {
    if (params.empty() && sql.find('?') == std::string::npos) {
      STRATA_TRY(exec_script(sql));  // migrations: several statements
      return int64_t{sqlite3_changes(db_)};
    }
    STRATA_ASSIGN(sqlite3_stmt * stmt, prepare(sql, params));
    int rc = sqlite3_step(stmt);
    sqlite3_reset(stmt);
    if (rc == SQLITE_ROW) rc = SQLITE_DONE;
    if (rc != SQLITE_DONE) return error(rc);
    return int64_t{sqlite3_changes(db_)};
  }

  Result<SqlRows> query(const std::string& sql, const std::vector<SqlValue>& params) override {
    STRATA_ASSIGN(sqlite3_stmt * stmt, prepare(sql, params));
    SqlRows rows;
    const int columns = sqlite3_column_count(stmt);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      SqlRow row;
      row.values.reserve(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        const auto* p = sqlite3_column_text(stmt, c);
        row.values.emplace_back(p ? std::string(reinterpret_cast<const char*>(p),
                                                static_cast<size_t>(sqlite3_column_bytes(stmt, c)))
                                  : std::string());
      }
      rows.push_back(std::move(row));
    }
    sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) return error(rc);
    return rows;
  }

  Status begin() override { return exec_script("BEGIN IMMEDIATE"); }
  Status commit() override { return exec_script("COMMIT"); }
  void rollback() override { (void)exec_script("ROLLBACK"); }

  Status exec_script(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message ? message : "unknown error";
      sqlite3_free(message);
      return Error(ErrorCode::kFailed, "metadata store: " + text);
    }
    return ok_status();
  }

 private:
  Result<sqlite3_stmt*> prepare(const std::string& sql, const std::vector<SqlValue>& params) {
    sqlite3_stmt* stmt = nullptr;
    auto it = statements_.find(sql);
    if (it != statements_.end()) {
      stmt = it->second;
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    } else {
      if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK)
        return error(SQLITE_ERROR);
      statements_[sql] = stmt;
    }
    int i = 0;
    for (const auto& value : params) {
      ++i;
      if (const auto* n = std::get_if<int64_t>(&value)) {
        sqlite3_bind_int64(stmt, i, *n);
      } else {
        const auto& s = std::get<std::string>(value);
        sqlite3_bind_text(stmt, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
      }
    }
    return stmt;
  }

  Error error(int rc) {
    Error e(ErrorCode::kFailed, std::string("metadata store: ") + sqlite3_errmsg(db_));
    if ((rc & 0xff) == SQLITE_CONSTRAINT) return std::move(e).with_state(std::string(kUniqueViolation));
    return e;
  }

  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> statements_;
};

}  // namespace

Result<std::unique_ptr<SqlSession>> open_sqlite_session(const std::string& path, bool read_only) {
  sqlite3* db = nullptr;
  const int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error(ErrorCode::kConnection, "cannot open the metadata store '" + path + "': " + message, {},
                 "check that the folder exists and is writable");
  }
  sqlite3_busy_timeout(db, read_only ? 5000 : 10000);
  return std::unique_ptr<SqlSession>(std::make_unique<SqliteSession>(db));
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  STRATA_ASSIGN(std::unique_ptr<SqlSession> session, open_sqlite_session(path, false));
  STRATA_TRY(session->execute("PRAGMA journal_mode=WAL", {}));
  STRATA_TRY(session->execute("PRAGMA synchronous=NORMAL", {}));
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(session)));
  STRATA_TRY(store->migrate(std::vector<const char*>(std::begin(kMigrations), std::end(kMigrations)), ""));
  return store;
}

int SqliteStore::schema_version() { return applied_version(); }

}  // namespace strata::orchestrate

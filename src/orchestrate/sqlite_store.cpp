#include "orchestrate/sqlite_store.h"

#include <filesystem>

#include <sqlite3.h>

#include "common/time.h"

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
)sql",
};

constexpr const char* kRunColumns =
    "run_id, pipeline, run_type, state, logical_date, interval_start, interval_end, params, queued_at, start_at, "
    "end_at, owner";

void bind_one(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void bind_one(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void bind_one(sqlite3_stmt* s, int i, int64_t v) { sqlite3_bind_int64(s, i, v); }
void bind_one(sqlite3_stmt* s, int i, int v) { sqlite3_bind_int64(s, i, v); }
void bind_one(sqlite3_stmt* s, int i, bool v) { sqlite3_bind_int64(s, i, v ? 1 : 0); }

template <typename... Args>
void bind_all([[maybe_unused]] sqlite3_stmt* s, const Args&... args) {
  [[maybe_unused]] int i = 0;
  (bind_one(s, ++i, args), ...);
}

std::string text_at(sqlite3_stmt* s, int col) {
  const auto* p = sqlite3_column_text(s, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(s, col))) : "";
}
int64_t int_at(sqlite3_stmt* s, int col) { return sqlite3_column_int64(s, col); }

RunRecord read_run(sqlite3_stmt* s) {
  RunRecord r;
  r.run_id = text_at(s, 0);
  r.pipeline = text_at(s, 1);
  r.type = parse_run_type(text_at(s, 2)).value_or(RunType::kManual);
  r.state = parse_run_state(text_at(s, 3)).value_or(RunState::kFailed);
  r.logical_date = int_at(s, 4);
  r.interval_start = int_at(s, 5);
  r.interval_end = int_at(s, 6);
  r.params_json = text_at(s, 7);
  r.queued_at = int_at(s, 8);
  r.start_at = int_at(s, 9);
  r.end_at = int_at(s, 10);
  r.owner = text_at(s, 11);
  return r;
}

AttemptRecord read_attempt(sqlite3_stmt* s) {
  AttemptRecord a;
  a.run_id = text_at(s, 0);
  a.task_id = text_at(s, 1);
  a.try_number = static_cast<int>(int_at(s, 2));
  a.state = parse_task_state(text_at(s, 3)).value_or(TaskState::kFailed);
  a.start_at = int_at(s, 4);
  a.end_at = int_at(s, 5);
  a.log_path = text_at(s, 6);
  a.exit_code = static_cast<int>(int_at(s, 7));
  a.error = text_at(s, 8);
  a.owner = text_at(s, 9);
  a.pipeline = text_at(s, 10);
  return a;
}

constexpr const char* kAttemptColumns =
    "run_id, task_id, try_number, state, start_at, end_at, log_path, exit_code, error, owner, pipeline";

}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  std::error_code ec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error(ErrorCode::kConnection, "cannot open the metadata store '" + path + "': " + message, {},
                 "check that the folder exists and is writable");
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));
  sqlite3_busy_timeout(db, 10000);
  {
    std::lock_guard lock(store->mutex_);
    STRATA_TRY(store->exec_locked("PRAGMA journal_mode=WAL"));
    STRATA_TRY(store->exec_locked("PRAGMA synchronous=NORMAL"));
  }
  STRATA_TRY(store->migrate());
  return store;
}

SqliteStore::~SqliteStore() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Error SqliteStore::error_locked(const std::string& what) {
  return Error(ErrorCode::kFailed, "metadata store: " + what + ": " + sqlite3_errmsg(db_));
}

Status SqliteStore::exec_locked(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    return Error(ErrorCode::kFailed, "metadata store: " + text);
  }
  return ok_status();
}

Result<sqlite3_stmt*> SqliteStore::prepare_locked(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) {
    sqlite3_reset(it->second);
    sqlite3_clear_bindings(it->second);
    return it->second;
  }
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) return error_locked("prepare");
  statements_[sql] = stmt;
  return stmt;
}

Status SqliteStore::migrate() {
  std::lock_guard lock(mutex_);
  STRATA_TRY(exec_locked("CREATE TABLE IF NOT EXISTS schema_versions (version INTEGER PRIMARY KEY, "
                         "applied_at BIGINT NOT NULL)"));
  const int count = static_cast<int>(std::size(kMigrations));
  for (int version = 1; version <= count; ++version) {
    STRATA_TRY(exec_locked("BEGIN IMMEDIATE"));
    STRATA_ASSIGN(sqlite3_stmt * check, prepare_locked("SELECT 1 FROM schema_versions WHERE version = ?"));
    bind_all(check, version);
    const bool applied = sqlite3_step(check) == SQLITE_ROW;
    sqlite3_reset(check);
    Status status;
    if (!applied) {
      status = exec_locked(kMigrations[version - 1]);
      if (status.ok()) {
        auto insert = prepare_locked("INSERT INTO schema_versions (version, applied_at) VALUES (?, ?)");
        if (!insert.ok()) status = insert.error();
        else {
          bind_all(*insert, version, now_micros());
          if (sqlite3_step(*insert) != SQLITE_DONE) status = error_locked("record migration");
          sqlite3_reset(*insert);
        }
      }
    }
    if (!status.ok()) {
      (void)exec_locked("ROLLBACK");
      return std::move(status).error().context("migration " + std::to_string(version));
    }
    STRATA_TRY(exec_locked("COMMIT"));
  }
  return ok_status();
}

int SqliteStore::schema_version() {
  std::lock_guard lock(mutex_);
  auto stmt = prepare_locked("SELECT MAX(version) FROM schema_versions");
  if (!stmt.ok()) return 0;
  int v = sqlite3_step(*stmt) == SQLITE_ROW ? static_cast<int>(sqlite3_column_int64(*stmt, 0)) : 0;
  sqlite3_reset(*stmt);
  return v;
}

// Runs one statement that returns no rows; the caller holds mutex_.
#define STRATA_SQLITE_WRITE_LOCKED(sql, what, ...)                  \
  STRATA_ASSIGN(sqlite3_stmt * stmt, prepare_locked(sql));          \
  bind_all(stmt __VA_OPT__(,) __VA_ARGS__);                         \
  int rc = sqlite3_step(stmt);                                      \
  sqlite3_reset(stmt);                                              \
  if (rc != SQLITE_DONE) return error_locked(what);                 \
  return ok_status()

// Runs one statement that returns no rows.
#define STRATA_SQLITE_WRITE(sql, what, ...)                         \
  std::lock_guard lock(mutex_);                                     \
  STRATA_ASSIGN(sqlite3_stmt * stmt, prepare_locked(sql));          \
  bind_all(stmt __VA_OPT__(,) __VA_ARGS__);                                      \
  int rc = sqlite3_step(stmt);                                      \
  sqlite3_reset(stmt);                                              \
  if (rc != SQLITE_DONE) return error_locked(what);                 \
  return ok_status()

// Runs one query and reads each row with `reader`.
#define STRATA_SQLITE_READ(out, sql, reader, ...)                   \
  std::lock_guard lock(mutex_);                                     \
  STRATA_ASSIGN(sqlite3_stmt * stmt, prepare_locked(sql));          \
  bind_all(stmt __VA_OPT__(,) __VA_ARGS__);                                      \
  int rc;                                                           \
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) out.push_back(reader(stmt)); \
  sqlite3_reset(stmt);                                              \
  if (rc != SQLITE_DONE) return error_locked("query")

Status SqliteStore::ensure_pipeline(const std::string& name) {
  STRATA_SQLITE_WRITE("INSERT INTO pipelines (name, paused, created_at) VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING",
                      "register pipeline", name, now_micros());
}

Status SqliteStore::set_paused(const std::string& name, bool paused) {
  STRATA_SQLITE_WRITE("INSERT INTO pipelines (name, paused, created_at) VALUES (?, ?, ?) "
                      "ON CONFLICT (name) DO UPDATE SET paused = excluded.paused",
                      "pause pipeline", name, paused, now_micros());
}

Result<std::vector<PipelineRecord>> SqliteStore::pipelines() {
  std::vector<PipelineRecord> out;
  auto reader = [](sqlite3_stmt* s) { return PipelineRecord{text_at(s, 0), int_at(s, 1) != 0}; };
  STRATA_SQLITE_READ(out, "SELECT name, paused FROM pipelines ORDER BY name", reader);
  return out;
}

Status SqliteStore::create_run(const RunRecord& r) {
  static const std::string sql = std::string("INSERT INTO runs (") + kRunColumns +
                                 ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  std::lock_guard lock(mutex_);
  STRATA_ASSIGN(sqlite3_stmt * stmt, prepare_locked(sql.c_str()));
  bind_all(stmt, r.run_id, r.pipeline, run_type_name(r.type), run_state_name(r.state), r.logical_date,
           r.interval_start, r.interval_end, r.params_json, r.queued_at, r.start_at, r.end_at, r.owner);
  int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  if (rc == SQLITE_CONSTRAINT)
    return Error(ErrorCode::kFailed, "pipeline '" + r.pipeline + "' has a run '" + r.run_id + "' already", {},
                 "choose another logical date, or re-run the existing run");
  if (rc != SQLITE_DONE) return error_locked("create run");
  return ok_status();
}

Status SqliteStore::update_run(const RunRecord& r) {
  STRATA_SQLITE_WRITE("UPDATE runs SET state = ?, params = ?, start_at = ?, end_at = ?, owner = ?, run_type = ? "
                      "WHERE pipeline = ? AND run_id = ?",
                      "update run", run_state_name(r.state), r.params_json, r.start_at, r.end_at, r.owner,
                      run_type_name(r.type), r.pipeline, r.run_id);
}

Result<bool> SqliteStore::claim_run(const std::string& pipeline, const std::string& run_id, const std::string& owner,
                                     int64_t at) {
  std::lock_guard lock(mutex_);
  STRATA_ASSIGN(sqlite3_stmt * stmt,
                prepare_locked("UPDATE runs SET state = 'running', owner = ?, start_at = CASE WHEN start_at = 0 "
                               "THEN ? ELSE start_at END WHERE pipeline = ? AND run_id = ? AND state = 'queued'"));
  bind_all(stmt, owner, at, pipeline, run_id);
  int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  if (rc != SQLITE_DONE) return error_locked("claim run");
  return sqlite3_changes(db_) == 1;
}

Result<std::optional<RunRecord>> SqliteStore::run(const std::string& pipeline, const std::string& run_id) {
  static const std::string sql =
      std::string("SELECT ") + kRunColumns + " FROM runs WHERE pipeline = ? AND run_id = ?";
  std::vector<RunRecord> out;
  STRATA_SQLITE_READ(out, sql.c_str(), read_run, pipeline, run_id);
  if (out.empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(out.front());
}

Result<std::vector<RunRecord>> SqliteStore::runs_with_id(const std::string& run_id) {
  static const std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE run_id = ? ORDER BY pipeline";
  std::vector<RunRecord> out;
  STRATA_SQLITE_READ(out, sql.c_str(), read_run, run_id);
  return out;
}

Result<std::optional<RunRecord>> SqliteStore::run_at(const std::string& pipeline, int64_t logical_date) {
  static const std::string sql =
      std::string("SELECT ") + kRunColumns + " FROM runs WHERE pipeline = ? AND logical_date = ? " +
      "ORDER BY queued_at DESC LIMIT 1";
  std::vector<RunRecord> out;
  STRATA_SQLITE_READ(out, sql.c_str(), read_run, pipeline, logical_date);
  if (out.empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(out.front());
}

Result<std::vector<RunRecord>> SqliteStore::runs(const std::string& pipeline, std::optional<RunState> state,
                                                  int limit) {
  static const std::string sql =
      std::string("SELECT ") + kRunColumns + " FROM runs WHERE (? = '' OR pipeline = ?) AND (? = '' OR state = ?) " +
      "ORDER BY logical_date DESC, queued_at DESC LIMIT ?";
  std::string state_name = state ? std::string(run_state_name(*state)) : "";
  std::vector<RunRecord> out;
  STRATA_SQLITE_READ(out, sql.c_str(), read_run, pipeline, pipeline, state_name, state_name,
                     static_cast<int64_t>(limit));
  return out;
}

Result<std::optional<RunRecord>> SqliteStore::latest_run(const std::string& pipeline) {
  static const std::string sql =
      std::string("SELECT ") + kRunColumns + " FROM runs WHERE pipeline = ? AND run_type <> 'manual' " +
      "ORDER BY interval_end DESC LIMIT 1";
  std::vector<RunRecord> out;
  STRATA_SQLITE_READ(out, sql.c_str(), read_run, pipeline);
  if (out.empty()) return std::optional<RunRecord>();
  return std::optional<RunRecord>(out.front());
}

Status SqliteStore::upsert_task_instance(const TaskInstanceRecord& t) {
  std::lock_guard lock(mutex_);
  return upsert_task_instance_locked(t);
}

Status SqliteStore::upsert_attempt(const AttemptRecord& a) {
  std::lock_guard lock(mutex_);
  return upsert_attempt_locked(a);
}

Status SqliteStore::save_attempt(const TaskInstanceRecord& ti, const AttemptRecord& attempt) {
  std::lock_guard lock(mutex_);
  STRATA_TRY(exec_locked("BEGIN IMMEDIATE"));
  Status s = upsert_task_instance_locked(ti);
  if (s.ok()) s = upsert_attempt_locked(attempt);
  if (!s.ok()) {
    (void)exec_locked("ROLLBACK");
    return s;
  }
  return exec_locked("COMMIT");
}

Status SqliteStore::upsert_task_instance_locked(const TaskInstanceRecord& t) {
  STRATA_SQLITE_WRITE_LOCKED(
      "INSERT INTO task_instances (pipeline, run_id, task_id, task_group, kind, state, try_number, max_tries, "
      "start_at, end_at, next_retry_at, pool, priority) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (pipeline, run_id, task_id) DO UPDATE SET task_group = excluded.task_group, kind = excluded.kind, "
      "state = excluded.state, try_number = excluded.try_number, max_tries = excluded.max_tries, "
      "start_at = excluded.start_at, end_at = excluded.end_at, next_retry_at = excluded.next_retry_at, "
      "pool = excluded.pool, priority = excluded.priority",
      "save task instance", t.pipeline, t.run_id, t.task_id, t.group, task_kind_name(t.kind), task_state_name(t.state),
      t.try_number, t.max_tries, t.start_at, t.end_at, t.next_retry_at, t.pool, t.priority);
}

Result<std::vector<TaskInstanceRecord>> SqliteStore::task_instances(const std::string& pipeline,
                                                                    const std::string& run_id) {
  auto reader = [](sqlite3_stmt* s) {
    TaskInstanceRecord t;
    t.run_id = text_at(s, 0);
    t.task_id = text_at(s, 1);
    t.group = text_at(s, 2);
    t.kind = parse_task_kind(text_at(s, 3)).value_or(TaskKind::kShell);
    t.state = parse_task_state(text_at(s, 4)).value_or(TaskState::kNone);
    t.try_number = static_cast<int>(int_at(s, 5));
    t.max_tries = static_cast<int>(int_at(s, 6));
    t.start_at = int_at(s, 7);
    t.end_at = int_at(s, 8);
    t.next_retry_at = int_at(s, 9);
    t.pool = text_at(s, 10);
    t.priority = static_cast<int>(int_at(s, 11));
    t.pipeline = text_at(s, 12);
    return t;
  };
  std::vector<TaskInstanceRecord> out;
  STRATA_SQLITE_READ(out,
                     "SELECT run_id, task_id, task_group, kind, state, try_number, max_tries, start_at, end_at, "
                     "next_retry_at, pool, priority, pipeline FROM task_instances WHERE pipeline = ? AND run_id = ? "
                     "ORDER BY start_at, task_id",
                     reader, pipeline, run_id);
  return out;
}

Status SqliteStore::delete_task_instances(const std::string& pipeline, const std::string& run_id) {
  STRATA_SQLITE_WRITE("DELETE FROM task_instances WHERE pipeline = ? AND run_id = ?", "delete task instances",
                      pipeline, run_id);
}

Status SqliteStore::upsert_attempt_locked(const AttemptRecord& a) {
  STRATA_SQLITE_WRITE_LOCKED(
      "INSERT INTO attempts (pipeline, run_id, task_id, try_number, state, start_at, end_at, log_path, exit_code, "
      "error, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pipeline, run_id, task_id, try_number) "
      "DO UPDATE SET "
      "state = excluded.state, start_at = excluded.start_at, end_at = excluded.end_at, log_path = excluded.log_path, "
      "exit_code = excluded.exit_code, error = excluded.error, owner = excluded.owner",
      "save attempt", a.pipeline, a.run_id, a.task_id, a.try_number, task_state_name(a.state), a.start_at, a.end_at, a.log_path,
      a.exit_code, a.error, a.owner);
}

Result<std::vector<AttemptRecord>> SqliteStore::attempts(const std::string& pipeline, const std::string& run_id,
                                                          const std::string& task_id) {
  static const std::string sql = std::string("SELECT ") + kAttemptColumns +
                                 " FROM attempts WHERE pipeline = ? AND run_id = ? AND task_id = ? ORDER BY try_number";
  std::vector<AttemptRecord> out;
  STRATA_SQLITE_READ(out, sql.c_str(), read_attempt, pipeline, run_id, task_id);
  return out;
}

Result<std::vector<AttemptRecord>> SqliteStore::running_attempts() {
  static const std::string sql =
      std::string("SELECT ") + kAttemptColumns + " FROM attempts WHERE state = 'running' ORDER BY pipeline, run_id, task_id";
  std::vector<AttemptRecord> out;
  STRATA_SQLITE_READ(out, sql.c_str(), read_attempt);
  return out;
}

Status SqliteStore::heartbeat(const HeartbeatRecord& b) {
  STRATA_SQLITE_WRITE("INSERT INTO heartbeats (owner, host, pid, started_at, beat_at) VALUES (?, ?, ?, ?, ?) "
                      "ON CONFLICT (owner) DO UPDATE SET beat_at = excluded.beat_at",
                      "heartbeat", b.owner, b.host, b.pid, b.started_at, b.beat_at);
}

Result<std::vector<HeartbeatRecord>> SqliteStore::heartbeats() {
  auto reader = [](sqlite3_stmt* s) {
    return HeartbeatRecord{text_at(s, 0), text_at(s, 1), int_at(s, 2), int_at(s, 3), int_at(s, 4)};
  };
  std::vector<HeartbeatRecord> out;
  STRATA_SQLITE_READ(out, "SELECT owner, host, pid, started_at, beat_at FROM heartbeats ORDER BY beat_at DESC",
                     reader);
  return out;
}

Status SqliteStore::add_sync_report(const SyncReportRecord& r) {
  STRATA_SQLITE_WRITE("INSERT INTO sync_reports (pipeline, run_id, task_id, connection, report, at) "
                      "VALUES (?, ?, ?, ?, ?, ?)",
                      "save sync report", r.pipeline, r.run_id, r.task_id, r.connection, r.report_json, r.at);
}

Result<std::vector<SyncReportRecord>> SqliteStore::sync_reports(const std::string& pipeline,
                                                                const std::string& run_id) {
  auto reader = [](sqlite3_stmt* s) {
    return SyncReportRecord{text_at(s, 0), text_at(s, 1), text_at(s, 2), text_at(s, 3), int_at(s, 4), text_at(s, 5)};
  };
  std::vector<SyncReportRecord> out;
  STRATA_SQLITE_READ(out,
                     "SELECT run_id, task_id, connection, report, at, pipeline FROM sync_reports "
                     "WHERE pipeline = ? AND run_id = ? ORDER BY at",
                     reader, pipeline, run_id);
  return out;
}

Status SqliteStore::add_test_result(const TestResultRecord& r) {
  STRATA_SQLITE_WRITE("INSERT INTO test_results (pipeline, run_id, task_id, test_name, status, failures, message, "
                      "at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                      "save test result", r.pipeline, r.run_id, r.task_id, r.test_name, r.status, r.failures, r.message, r.at);
}

Result<std::vector<TestResultRecord>> SqliteStore::test_results(const std::string& pipeline,
                                                                const std::string& run_id) {
  auto reader = [](sqlite3_stmt* s) {
    TestResultRecord t;
    t.run_id = text_at(s, 0);
    t.task_id = text_at(s, 1);
    t.test_name = text_at(s, 2);
    t.status = text_at(s, 3);
    t.failures = int_at(s, 4);
    t.message = text_at(s, 5);
    t.at = int_at(s, 6);
    t.pipeline = text_at(s, 7);
    return t;
  };
  std::vector<TestResultRecord> out;
  STRATA_SQLITE_READ(out, "SELECT run_id, task_id, test_name, status, failures, message, at, pipeline "
                          "FROM test_results WHERE pipeline = ? AND run_id = ? ORDER BY at",
                     reader, pipeline, run_id);
  return out;
}

}  // namespace strata::orchestrate

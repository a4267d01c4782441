#include "orchestrate/sql_store.h"

#include <charconv>

#include "common/time.h"

namespace strata::orchestrate {

const char* const kPoolIndexMigration = "CREATE INDEX task_instances_by_pool ON task_instances (pool, state);";
const char* const kRunNoteMigration = "ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT '';";
// With the index start_attempt's count of a pipeline's running instances (max_active_tasks) uses.
const char* const kTaskNoteMigration =
    "ALTER TABLE task_instances ADD COLUMN note TEXT NOT NULL DEFAULT '';\n"
    "CREATE INDEX task_instances_by_pipeline_state ON task_instances (pipeline, state);";

namespace {

const std::string kAttemptColumns =
    "run_id, task_id, try_number, state, start_at, end_at, log_path, exit_code, error, owner, pipeline";

int to_int(int64_t v) { return static_cast<int>(v); }

AttemptRecord read_attempt(const SqlRow& row) {
  AttemptRecord a;
  a.run_id = row.text(0);
  a.task_id = row.text(1);
  a.try_number = to_int(row.integer(2));
  a.state = parse_task_state(row.text(3)).value_or(TaskState::kFailed);
  a.start_at = row.integer(4);
  a.end_at = row.integer(5);
  a.log_path = row.text(6);
  a.exit_code = to_int(row.integer(7));
  a.error = row.text(8);
  a.owner = row.text(9);
  a.pipeline = row.text(10);
  return a;
}

template <typename T>
std::optional<T> first(std::vector<T> rows) {
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

SqlValue text(std::string_view v) { return SqlValue(std::string(v)); }

}  // namespace

RunRecord read_run(const SqlRow& row) {
  RunRecord r;
  r.run_id = row.text(0);
  r.pipeline = row.text(1);
  r.type = parse_run_type(row.text(2)).value_or(RunType::kManual);
  r.state = parse_run_state(row.text(3)).value_or(RunState::kFailed);
  r.logical_date = row.integer(4);
  r.interval_start = row.integer(5);
  r.interval_end = row.integer(6);
  r.params_json = row.text(7);
  r.queued_at = row.integer(8);
  r.start_at = row.integer(9);
  r.end_at = row.integer(10);
  r.owner = row.text(11);
  r.note = row.text(12);
  return r;
}

TaskInstanceRecord read_task_instance(const SqlRow& row) {
  TaskInstanceRecord t;
  t.run_id = row.text(0);
  t.task_id = row.text(1);
  t.group = row.text(2);
  t.kind = parse_task_kind(row.text(3)).value_or(TaskKind::kShell);
  t.state = parse_task_state(row.text(4)).value_or(TaskState::kNone);
  t.try_number = to_int(row.integer(5));
  t.max_tries = to_int(row.integer(6));
  t.start_at = row.integer(7);
  t.end_at = row.integer(8);
  t.next_retry_at = row.integer(9);
  t.pool = row.text(10);
  t.priority = to_int(row.integer(11));
  t.pipeline = row.text(12);
  t.note = row.text(13);
  return t;
}


int64_t SqlRow::integer(size_t column) const {
  const std::string& v = values.at(column);
  int64_t out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

Result<int64_t> SqlStore::execute(const std::string& sql, const std::vector<SqlValue>& params) {
  std::lock_guard lock(mutex_);
  return session_->execute(sql, params);
}

Result<SqlRows> SqlStore::query(const std::string& sql, const std::vector<SqlValue>& params) {
  std::lock_guard lock(mutex_);
  return session_->query(sql, params);
}

Result<std::vector<RunRecord>> SqlStore::query_runs(const std::string& sql, const std::vector<SqlValue>& params) {
  STRATA_ASSIGN(SqlRows rows, query(sql, params));
  std::vector<RunRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(read_run(row));
  return out;
}

Result<std::vector<AttemptRecord>> SqlStore::query_attempts(const std::string& sql,
                                                            const std::vector<SqlValue>& params) {
  STRATA_ASSIGN(SqlRows rows, query(sql, params));
  std::vector<AttemptRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(read_attempt(row));
  return out;
}

Result<bool> SqlStore::in_transaction_locked(const std::function<Result<bool>()>& body) {
  STRATA_TRY(session_->begin());
  Result<bool> done = body();
  if (!done.ok() || !*done) {
    session_->rollback();
    return done;
  }
  STRATA_TRY(session_->commit());
  return true;
}

Status SqlStore::migrate(const std::vector<const char*>& migrations, const std::string& lock_sql) {
  std::lock_guard lock(mutex_);
  STRATA_TRY(session_->execute("CREATE TABLE IF NOT EXISTS schema_versions (version INTEGER PRIMARY KEY, "
                               "applied_at BIGINT NOT NULL)",
                               {}));
  const int count = static_cast<int>(migrations.size());
  for (int version = 1; version <= count; ++version) {
    STRATA_TRY(session_->begin());
    auto apply = [&]() -> Status {
      if (!lock_sql.empty()) STRATA_TRY(session_->execute(lock_sql, {}));
      STRATA_ASSIGN(SqlRows applied,
                    session_->query("SELECT 1 FROM schema_versions WHERE version = ?", {int64_t{version}}));
      if (!applied.empty()) return ok_status();
      STRATA_TRY(session_->execute(migrations[static_cast<size_t>(version - 1)], {}));
      STRATA_TRY(session_->execute("INSERT INTO schema_versions (version, applied_at) VALUES (?, ?)",
                                   {int64_t{version}, now_micros()}));
      return ok_status();
    };
    if (Status status = apply(); !status.ok()) {
      session_->rollback();
      return std::move(status).error().context("metadata store migration " + std::to_string(version));
    }
    STRATA_TRY(session_->commit());
  }
  return ok_status();
}

int SqlStore::applied_version() {
  auto rows = query("SELECT MAX(version) FROM schema_versions", {});
  if (!rows.ok() || rows->empty()) return 0;
  return to_int(rows->front().integer(0));
}

Status SqlStore::ensure_pipeline(const std::string& name) {
  STRATA_TRY(execute("INSERT INTO pipelines (name, paused, created_at) VALUES (?, 0, ?) ON CONFLICT (name) DO NOTHING",
                     {name, now_micros()}));
  return ok_status();
}

Status SqlStore::set_paused(const std::string& name, bool paused) {
  STRATA_TRY(execute("INSERT INTO pipelines (name, paused, created_at) VALUES (?, ?, ?) "
                     "ON CONFLICT (name) DO UPDATE SET paused = excluded.paused",
                     {name, int64_t{paused ? 1 : 0}, now_micros()}));
  return ok_status();
}

Result<std::vector<PipelineRecord>> SqlStore::pipelines() {
  STRATA_ASSIGN(SqlRows rows, query("SELECT name, paused FROM pipelines ORDER BY name", {}));
  std::vector<PipelineRecord> out;
  for (const auto& row : rows) out.push_back(PipelineRecord{row.text(0), row.integer(1) != 0});
  return out;
}

Status SqlStore::create_run(const RunRecord& r) {
  std::lock_guard lock(mutex_);
  return create_run_locked(r);
}

Status SqlStore::create_run_locked(const RunRecord& r) {
  static const std::string sql =
      "INSERT INTO runs (" + kRunColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  auto inserted = session_->execute(sql, {r.run_id, r.pipeline, text(run_type_name(r.type)), text(run_state_name(r.state)),
                                r.logical_date, r.interval_start, r.interval_end, r.params_json, r.queued_at,
                                r.start_at, r.end_at, r.owner, r.note});
  if (!inserted.ok() && inserted.error().state() == kUniqueViolation)
    return Error(ErrorCode::kFailed, "pipeline '" + r.pipeline + "' has a run '" + r.run_id + "' already", {},
                 "choose another logical date, or re-run the existing run")
        .with_state(std::string(kUniqueViolation));
  if (!inserted.ok()) return std::move(inserted).error().context("create run");
  return ok_status();
}

Status SqlStore::update_run(const RunRecord& r) {
  STRATA_TRY(execute("UPDATE runs SET state = ?, params = ?, start_at = ?, end_at = ?, owner = ?, run_type = ?, "
                     "note = ? WHERE pipeline = ? AND run_id = ?",
                     {text(run_state_name(r.state)), r.params_json, r.start_at, r.end_at, r.owner,
                      text(run_type_name(r.type)), r.note, r.pipeline, r.run_id}));
  return ok_status();
}

// One conditional UPDATE: the database applies it to the row under its row lock (PostgreSQL) or
// the database write lock (SQLite), and a second claimer re-checks `state = 'queued'` after the
// first committed, so exactly one claimer changes the row.
// With max_running, claims of one pipeline's runs take turns: a transaction first locks the
// pipeline's row (registered if missing, then a no-op UPDATE: PostgreSQL's row lock; SQLite's
// BEGIN IMMEDIATE holds the write lock already), and the claim, a statement of its own, counts the running runs in a snapshot taken
// after the lock, so it sees every claim committed before.
Result<bool> SqlStore::claim_run(const std::string& pipeline, const std::string& run_id, const std::string& owner,
                                 int64_t at, int max_running) {
  static const std::string kClaim =
      "UPDATE runs SET state = 'running', owner = ?, start_at = CASE WHEN start_at = 0 "
      "THEN CAST(? AS BIGINT) ELSE start_at END WHERE pipeline = ? AND run_id = ? AND state = 'queued'";
  if (max_running <= 0) {
    STRATA_ASSIGN(int64_t changed, execute(kClaim, {owner, at, pipeline, run_id}));
    return changed == 1;
  }
  std::lock_guard lock(mutex_);
  STRATA_TRY(session_->begin());
  auto claim = [&]() -> Result<int64_t> {
    STRATA_TRY(session_->execute("INSERT INTO pipelines (name, paused, created_at) VALUES (?, 0, ?) "
                                 "ON CONFLICT (name) DO NOTHING",
                                 {pipeline, now_micros()}));
    STRATA_TRY(session_->execute("UPDATE pipelines SET paused = paused WHERE name = ?", {pipeline}));
    return session_->execute(kClaim + " AND (SELECT count(*) FROM runs WHERE pipeline = ? AND state = 'running') < ?",
                             {owner, at, pipeline, run_id, pipeline, int64_t{max_running}});
  };
  Result<int64_t> changed = claim();
  if (!changed.ok()) {
    session_->rollback();
    return std::move(changed).error();
  }
  STRATA_TRY(session_->commit());
  return *changed == 1;
}

Result<bool> SqlStore::adopt_run(const std::string& pipeline, const std::string& run_id, const std::string& from_owner,
                                 const std::string& to_owner) {
  STRATA_ASSIGN(int64_t changed, execute("UPDATE runs SET owner = ? WHERE pipeline = ? AND run_id = ? AND "
                                         "state = 'running' AND owner = ?",
                                         {to_owner, pipeline, run_id, from_owner}));
  return changed == 1;
}

Result<std::optional<RunRecord>> SqlStore::run(const std::string& pipeline, const std::string& run_id) {
  static const std::string sql = "SELECT " + kRunColumns + " FROM runs WHERE pipeline = ? AND run_id = ?";
  STRATA_ASSIGN(auto runs, query_runs(sql, {pipeline, run_id}));
  return first(std::move(runs));
}

Result<std::vector<RunRecord>> SqlStore::runs_with_id(const std::string& run_id) {
  static const std::string sql = "SELECT " + kRunColumns + " FROM runs WHERE run_id = ? ORDER BY pipeline";
  return query_runs(sql, {run_id});
}

Result<std::optional<RunRecord>> SqlStore::run_at(const std::string& pipeline, int64_t logical_date) {
  static const std::string sql = "SELECT " + kRunColumns +
                                 " FROM runs WHERE pipeline = ? AND logical_date = ? ORDER BY queued_at DESC LIMIT 1";
  STRATA_ASSIGN(auto runs, query_runs(sql, {pipeline, logical_date}));
  return first(std::move(runs));
}

Result<std::vector<RunRecord>> SqlStore::runs(const std::string& pipeline, std::optional<RunState> state, int limit) {
  static const std::string sql =
      "SELECT " + kRunColumns + " FROM runs WHERE (? = '' OR pipeline = ?) AND (? = '' OR state = ?) " +
      "ORDER BY logical_date DESC, queued_at DESC LIMIT CAST(? AS BIGINT)";
  std::string state_name = state ? std::string(run_state_name(*state)) : "";
  return query_runs(sql, {pipeline, pipeline, state_name, state_name, int64_t{limit}});
}

Result<std::optional<RunRecord>> SqlStore::latest_run(const std::string& pipeline) {
  static const std::string sql = "SELECT " + kRunColumns +
                                 " FROM runs WHERE pipeline = ? AND run_type IN ('scheduled', 'backfill') "
                                 "ORDER BY interval_end DESC LIMIT 1";
  STRATA_ASSIGN(auto runs, query_runs(sql, {pipeline}));
  return first(std::move(runs));
}

Result<std::optional<RunRecord>> SqlStore::previous_run(const std::string& pipeline, int64_t logical_date,
                                                        bool skip_manual) {
  const std::string sql = "SELECT " + kRunColumns + " FROM runs WHERE pipeline = ? AND logical_date < ?" +
                          (skip_manual ? " AND run_type <> 'manual'" : "") + " ORDER BY logical_date DESC LIMIT 1";
  STRATA_ASSIGN(auto runs, query_runs(sql, {pipeline, logical_date}));
  return first(std::move(runs));
}

Status SqlStore::upsert_task_instance(const TaskInstanceRecord& t) {
  std::lock_guard lock(mutex_);
  return upsert_task_instance_locked(t);
}

Status SqlStore::upsert_attempt(const AttemptRecord& a) {
  std::lock_guard lock(mutex_);
  return upsert_attempt_locked(a);
}

Status SqlStore::save_attempt(const TaskInstanceRecord& ti, const AttemptRecord& attempt) {
  std::lock_guard lock(mutex_);
  STRATA_TRY(session_->begin());
  Status s = upsert_task_instance_locked(ti);
  if (s.ok()) s = upsert_attempt_locked(attempt);
  if (!s.ok()) {
    session_->rollback();
    return s;
  }
  return session_->commit();
}

Result<bool> SqlStore::start_attempt(const TaskInstanceRecord& ti, const AttemptRecord& attempt, int pool_slots,
                                     int pipeline_slots) {
  if (pool_slots <= 0 && pipeline_slots <= 0) {
    STRATA_TRY(save_attempt(ti, attempt));
    return true;
  }
  // Only instances of running runs hold a slot: one left running in a run that ended (a crash
  // between two writes) does not hold it forever. `column` is pool or pipeline.
  auto running_others = [&](const char* column, const std::string& value) -> Result<int64_t> {
    STRATA_ASSIGN(SqlRows held, session_->query(std::string("SELECT count(*) FROM task_instances t WHERE t.") + column +
                                                    " = ? AND t.state = 'running' AND NOT (t.pipeline = ? AND "
                                                    "t.run_id = ? AND t.task_id = ?) AND EXISTS (SELECT 1 FROM runs r "
                                                    "WHERE r.pipeline = t.pipeline AND r.run_id = t.run_id AND "
                                                    "r.state = 'running')",
                                                {value, ti.pipeline, ti.run_id, ti.task_id}));
    return held.front().integer(0);
  };
  std::lock_guard lock(mutex_);
  return in_transaction_locked([&]() -> Result<bool> {
    // Locks in one order (pipeline, then pool), so two starters never wait on each other.
    if (pipeline_slots > 0) {
      STRATA_TRY(session_->lock_until_end("pipeline tasks " + ti.pipeline));
      STRATA_ASSIGN(int64_t running, running_others("pipeline", ti.pipeline));
      if (running >= pipeline_slots) return false;
    }
    if (pool_slots > 0) {
      STRATA_TRY(session_->lock_until_end("pool " + ti.pool));
      STRATA_ASSIGN(int64_t held, running_others("pool", ti.pool));
      if (held >= pool_slots) return false;
    }
    STRATA_TRY(upsert_task_instance_locked(ti));
    STRATA_TRY(upsert_attempt_locked(attempt));
    return true;
  });
}

Status SqlStore::upsert_task_instance_locked(const TaskInstanceRecord& t) {
  auto done = session_->execute(
      "INSERT INTO task_instances (pipeline, run_id, task_id, task_group, kind, state, try_number, max_tries, "
      "start_at, end_at, next_retry_at, pool, priority, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (pipeline, run_id, task_id) DO UPDATE SET task_group = excluded.task_group, kind = excluded.kind, "
      "state = excluded.state, try_number = excluded.try_number, max_tries = excluded.max_tries, "
      "start_at = excluded.start_at, end_at = excluded.end_at, next_retry_at = excluded.next_retry_at, "
      "pool = excluded.pool, priority = excluded.priority, note = excluded.note",
      {t.pipeline, t.run_id, t.task_id, t.group, text(task_kind_name(t.kind)), text(task_state_name(t.state)),
       int64_t{t.try_number}, int64_t{t.max_tries}, t.start_at, t.end_at, t.next_retry_at, t.pool,
       int64_t{t.priority}, t.note});
  if (!done.ok()) return std::move(done).error().context("save task instance");
  return ok_status();
}

Result<std::vector<TaskInstanceRecord>> SqlStore::task_instances(const std::string& pipeline,
                                                                 const std::string& run_id) {
  STRATA_ASSIGN(SqlRows rows,
                query("SELECT " + kTaskInstanceColumns +
                          " FROM task_instances WHERE pipeline = ? AND run_id = ? ORDER BY start_at, task_id",
                      {pipeline, run_id}));
  std::vector<TaskInstanceRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(read_task_instance(row));
  return out;
}

Status SqlStore::delete_task_instances(const std::string& pipeline, const std::string& run_id) {
  STRATA_TRY(execute("DELETE FROM task_instances WHERE pipeline = ? AND run_id = ?", {pipeline, run_id}));
  return ok_status();
}

Status SqlStore::upsert_attempt_locked(const AttemptRecord& a) {
  auto done = session_->execute(
      "INSERT INTO attempts (pipeline, run_id, task_id, try_number, state, start_at, end_at, log_path, exit_code, "
      "error, owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (pipeline, run_id, task_id, try_number) "
      "DO UPDATE SET "
      "state = excluded.state, start_at = excluded.start_at, end_at = excluded.end_at, log_path = excluded.log_path, "
      "exit_code = excluded.exit_code, error = excluded.error, owner = excluded.owner",
      {a.pipeline, a.run_id, a.task_id, int64_t{a.try_number}, text(task_state_name(a.state)), a.start_at, a.end_at,
       a.log_path, int64_t{a.exit_code}, a.error, a.owner});
  if (!done.ok()) return std::move(done).error().context("save attempt");
  return ok_status();
}

Result<std::vector<AttemptRecord>> SqlStore::attempts(const std::string& pipeline, const std::string& run_id,
                                                      const std::string& task_id) {
  static const std::string sql = "SELECT " + kAttemptColumns +
                                 " FROM attempts WHERE pipeline = ? AND run_id = ? AND task_id = ? ORDER BY try_number";
  return query_attempts(sql, {pipeline, run_id, task_id});
}

Result<std::vector<AttemptRecord>> SqlStore::running_attempts() {
  static const std::string sql =
      "SELECT " + kAttemptColumns + " FROM attempts WHERE state = 'running' ORDER BY pipeline, run_id, task_id";
  return query_attempts(sql, {});
}

Status SqlStore::heartbeat(const HeartbeatRecord& b) {
  STRATA_TRY(execute("INSERT INTO heartbeats (owner, host, pid, started_at, beat_at) VALUES (?, ?, ?, ?, ?) "
                     "ON CONFLICT (owner) DO UPDATE SET beat_at = excluded.beat_at",
                     {b.owner, b.host, b.pid, b.started_at, b.beat_at}));
  return ok_status();
}

Result<std::vector<HeartbeatRecord>> SqlStore::heartbeats() {
  STRATA_ASSIGN(SqlRows rows,
                query("SELECT owner, host, pid, started_at, beat_at FROM heartbeats ORDER BY beat_at DESC", {}));
  std::vector<HeartbeatRecord> out;
  for (const auto& row : rows)
    out.push_back(HeartbeatRecord{row.text(0), row.text(1), row.integer(2), row.integer(3), row.integer(4)});
  return out;
}

Status SqlStore::add_sync_report(const SyncReportRecord& r) {
  STRATA_TRY(execute("INSERT INTO sync_reports (pipeline, run_id, task_id, connection, report, at) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     {r.pipeline, r.run_id, r.task_id, r.connection, r.report_json, r.at}));
  return ok_status();
}

Result<std::vector<SyncReportRecord>> SqlStore::sync_reports(const std::string& pipeline, const std::string& run_id) {
  STRATA_ASSIGN(SqlRows rows, query("SELECT run_id, task_id, connection, report, at, pipeline FROM sync_reports "
                                    "WHERE pipeline = ? AND run_id = ? ORDER BY at",
                                    {pipeline, run_id}));
  std::vector<SyncReportRecord> out;
  for (const auto& row : rows)
    out.push_back(SyncReportRecord{row.text(0), row.text(1), row.text(2), row.text(3), row.integer(4), row.text(5)});
  return out;
}

Status SqlStore::add_test_result(const TestResultRecord& r) {
  STRATA_TRY(execute("INSERT INTO test_results (pipeline, run_id, task_id, test_name, status, failures, message, "
                     "at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     {r.pipeline, r.run_id, r.task_id, r.test_name, r.status, r.failures, r.message, r.at}));
  return ok_status();
}

Result<std::vector<TestResultRecord>> SqlStore::test_results(const std::string& pipeline, const std::string& run_id) {
  STRATA_ASSIGN(SqlRows rows, query("SELECT run_id, task_id, test_name, status, failures, message, at, pipeline "
                                    "FROM test_results WHERE pipeline = ? AND run_id = ? ORDER BY at",
                                    {pipeline, run_id}));
  std::vector<TestResultRecord> out;
  for (const auto& row : rows) {
    TestResultRecord t;
    t.run_id = row.text(0);
    t.task_id = row.text(1);
    t.test_name = row.text(2);
    t.status = row.text(3);
    t.failures = row.integer(4);
    t.message = row.text(5);
    t.at = row.integer(6);
    t.pipeline = row.text(7);
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace strata::orchestrate

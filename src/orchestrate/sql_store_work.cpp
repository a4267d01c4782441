// SqlStore's work queue (metadata_store.h: work items), the same SQL on SQLite and PostgreSQL.
#include "orchestrate/sql_store.h"

#include <charconv>
#include <optional>
#include <string_view>

#include "common/strings.h"

namespace strata::orchestrate {

const char* const kWorkQueueMigration = R"sql(
CREATE TABLE work_items (
  pipeline TEXT NOT NULL,
  run_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  try_number INTEGER NOT NULL,
  kind TEXT NOT NULL,
  queue TEXT NOT NULL,
  command TEXT NOT NULL,
  state TEXT NOT NULL,
  worker TEXT NOT NULL,
  enqueued_at BIGINT NOT NULL,
  claimed_at BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL,
  exit_code INTEGER NOT NULL,
  has_exit_code INTEGER NOT NULL,
  error_code INTEGER NOT NULL,
  error TEXT NOT NULL,
  cancel_requested INTEGER NOT NULL,
  cancel_reason TEXT NOT NULL,
  PRIMARY KEY (pipeline, run_id, task_id, try_number)
);
CREATE INDEX work_items_by_state ON work_items (state, queue, enqueued_at);
CREATE TABLE work_log_chunks (
  pipeline TEXT NOT NULL,
  run_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  try_number INTEGER NOT NULL,
  seq BIGINT NOT NULL,
  text TEXT NOT NULL,
  PRIMARY KEY (pipeline, run_id, task_id, try_number, seq)
);
)sql";

namespace {

const std::string kWorkColumns =
    "pipeline, run_id, task_id, try_number, kind, queue, command, state, worker, enqueued_at, claimed_at, "
    "heartbeat_at, finished_at, exit_code, has_exit_code, error_code, error, cancel_requested, cancel_reason";
const std::string kWhereKey = " WHERE pipeline = ? AND run_id = ? AND task_id = ? AND try_number = ?";

WorkItemRecord read_work_item(const SqlRow& row) {
  WorkItemRecord w;
  w.key = WorkKey{row.text(0), row.text(1), row.text(2), static_cast<int>(row.integer(3))};
  w.kind = parse_task_kind(row.text(4)).value_or(TaskKind::kShell);
  w.queue = row.text(5);
  w.command = row.text(6);
  w.state = parse_task_state(row.text(7)).value_or(TaskState::kFailed);
  w.worker = row.text(8);
  w.enqueued_at = row.integer(9);
  w.claimed_at = row.integer(10);
  w.heartbeat_at = row.integer(11);
  w.finished_at = row.integer(12);
  w.exit_code = static_cast<int>(row.integer(13));
  w.has_exit_code = row.integer(14) != 0;
  w.error_code = static_cast<int>(row.integer(15));
  w.error = row.text(16);
  w.cancel_requested = row.integer(17) != 0;
  w.cancel_reason = row.text(18);
  return w;
}

// Separates the fields of a signal's payload; never part of a pipeline, run or task id.
constexpr char kSignalSeparator = '\x1f';

// The key's values, appended to a statement's parameters (in kWhereKey's order).
std::vector<SqlValue> with_key(std::vector<SqlValue> params, const WorkKey& key) {
  params.emplace_back(key.pipeline);
  params.emplace_back(key.run_id);
  params.emplace_back(key.task_id);
  params.emplace_back(int64_t{key.try_number});
  return params;
}

WorkSignal changed_signal(WorkSignal::Kind kind, const WorkKey& key) {
  WorkSignal signal;
  signal.kind = kind;
  signal.key = key;
  return signal;
}

}  // namespace

std::string work_signal_payload(const WorkSignal& signal) {
  const char s = kSignalSeparator;
  switch (signal.kind) {
    case WorkSignal::Kind::kQueued:
      return std::string("q") + s + signal.queue;
    case WorkSignal::Kind::kCancel:
    case WorkSignal::Kind::kChanged: {
      const WorkKey& k = signal.key;
      return std::string(signal.kind == WorkSignal::Kind::kCancel ? "x" : "c") + s + k.pipeline + s + k.run_id + s +
             k.task_id + s + std::to_string(k.try_number);
    }
    case WorkSignal::Kind::kMissed:
      break;
  }
  return "m";
}

std::optional<WorkSignal> parse_work_signal(std::string_view payload) {
  const std::vector<std::string> parts = split(payload, kSignalSeparator);
  WorkSignal signal;
  if (parts[0] == "m" && parts.size() == 1) return signal;
  if (parts[0] == "q" && parts.size() == 2) {
    signal.kind = WorkSignal::Kind::kQueued;
    signal.queue = parts[1];
    return signal;
  }
  if ((parts[0] == "x" || parts[0] == "c") && parts.size() == 5) {
    int try_number = 0;
    const std::string& text = parts[4];
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), try_number);
    if (ec != std::errc() || end != text.data() + text.size() || try_number < 0) return std::nullopt;
    signal.kind = parts[0] == "x" ? WorkSignal::Kind::kCancel : WorkSignal::Kind::kChanged;
    signal.key = WorkKey{parts[1], parts[2], parts[3], try_number};
    return signal;
  }
  return std::nullopt;
}

void SqlStore::notify(const WorkSignal& signal) {
  std::lock_guard lock(mutex_);
  (void)session_->notify_work(work_signal_payload(signal));
}

Status SqlStore::enqueue_work(const WorkItemRecord& w) {
  std::lock_guard lock(mutex_);
  STRATA_TRY(session_->begin());
  auto apply = [&]() -> Status {
    STRATA_TRY(session_->execute("DELETE FROM work_log_chunks" + kWhereKey, with_key({}, w.key)));
    STRATA_TRY(session_->execute("DELETE FROM work_items" + kWhereKey, with_key({}, w.key)));
    STRATA_TRY(session_->execute(
        "INSERT INTO work_items (" + kWorkColumns +
            ") VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', '', ?, 0, 0, 0, 0, 0, 0, '', 0, '')",
        {w.key.pipeline, w.key.run_id, w.key.task_id, int64_t{w.key.try_number}, std::string(task_kind_name(w.kind)),
         w.queue, w.command, w.enqueued_at}));
    WorkSignal queued;
    queued.kind = WorkSignal::Kind::kQueued;
    queued.queue = w.queue;
    return session_->notify_work(work_signal_payload(queued));
  };
  if (Status s = apply(); !s.ok()) {
    session_->rollback();
    return std::move(s).error().context("enqueue work item");
  }
  return session_->commit();
}

Result<std::vector<WorkItemRecord>> SqlStore::queued_work(const std::vector<std::string>& queues, int limit) {
  std::string sql = "SELECT " + kWorkColumns + " FROM work_items WHERE state = 'queued'";
  std::vector<SqlValue> params;
  if (!queues.empty()) {
    sql += " AND queue IN (";
    for (size_t i = 0; i < queues.size(); ++i) {
      sql += i ? ", ?" : "?";
      params.emplace_back(queues[i]);
    }
    sql += ")";
  }
  sql += " ORDER BY enqueued_at, pipeline, run_id, task_id LIMIT CAST(? AS BIGINT)";
  params.emplace_back(int64_t{limit});
  STRATA_ASSIGN(SqlRows rows, query(sql, params));
  std::vector<WorkItemRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(read_work_item(row));
  return out;
}

// As claim_run: one conditional UPDATE under the row lock (PostgreSQL) or the write lock (SQLite);
// a second claimer re-checks `state = 'queued'` after the first committed.
Result<bool> SqlStore::claim_work(const WorkKey& key, const std::string& worker, int64_t at) {
  STRATA_ASSIGN(int64_t changed,
                execute("UPDATE work_items SET state = 'running', worker = ?, claimed_at = ?, heartbeat_at = ?" +
                            kWhereKey + " AND state = 'queued'",
                        with_key({worker, at, at}, key)));
  if (changed == 1) notify(changed_signal(WorkSignal::Kind::kChanged, key));
  return changed == 1;
}

Result<bool> SqlStore::heartbeat_work(const WorkKey& key, const std::string& worker, int64_t at) {
  STRATA_ASSIGN(int64_t changed, execute("UPDATE work_items SET heartbeat_at = ?" + kWhereKey +
                                             " AND state = 'running' AND worker = ?",
                                         [&] {
                                           auto params = with_key({at}, key);
                                           params.emplace_back(worker);
                                           return params;
                                         }()));
  return changed == 1;
}

Result<bool> SqlStore::finish_work(const WorkKey& key, const std::string& worker, const WorkResult& r) {
  auto params = with_key({std::string(task_state_name(r.state)), r.at, int64_t{r.exit_code.value_or(0)},
                          int64_t{r.exit_code ? 1 : 0}, int64_t{r.error_code}, r.error},
                         key);
  params.emplace_back(worker);
  STRATA_ASSIGN(int64_t changed,
                execute("UPDATE work_items SET state = ?, finished_at = ?, exit_code = ?, has_exit_code = ?, "
                        "error_code = ?, error = ?" +
                            kWhereKey + " AND state = 'running' AND worker = ?",
                        params));
  if (changed == 1) notify(changed_signal(WorkSignal::Kind::kChanged, key));
  return changed == 1;
}

Status SqlStore::request_cancel_work(const WorkKey& key, const std::string& reason, int64_t at) {
  std::lock_guard lock(mutex_);
  STRATA_TRY(session_->begin());
  auto apply = [&]() -> Status {
    STRATA_TRY(session_->execute("UPDATE work_items SET cancel_requested = 1, cancel_reason = ?" + kWhereKey +
                                     " AND state IN ('queued', 'running')",
                                 with_key({reason}, key)));
    STRATA_TRY(session_->execute("UPDATE work_items SET state = 'failed', finished_at = ?, error_code = ?, error = ?" +
                                     kWhereKey + " AND state = 'queued'",
                                 with_key({at, int64_t{static_cast<int>(ErrorCode::kCancelled)}, reason}, key)));
    return session_->notify_work(work_signal_payload(changed_signal(WorkSignal::Kind::kCancel, key)));
  };
  if (Status s = apply(); !s.ok()) {
    session_->rollback();
    return std::move(s).error().context("cancel work item");
  }
  return session_->commit();
}

Result<std::optional<WorkItemRecord>> SqlStore::work_item(const WorkKey& key) {
  STRATA_ASSIGN(SqlRows rows, query("SELECT " + kWorkColumns + " FROM work_items" + kWhereKey, with_key({}, key)));
  if (rows.empty()) return std::optional<WorkItemRecord>();
  return std::optional<WorkItemRecord>(read_work_item(rows.front()));
}

Status SqlStore::append_work_log(const WorkKey& key, int64_t seq, const std::string& text) {
  STRATA_TRY(execute("INSERT INTO work_log_chunks (pipeline, run_id, task_id, try_number, seq, text) "
                     "VALUES (?, ?, ?, ?, ?, ?)",
                     {key.pipeline, key.run_id, key.task_id, int64_t{key.try_number}, seq, text}));
  notify(changed_signal(WorkSignal::Kind::kChanged, key));
  return ok_status();
}

Result<std::vector<std::pair<int64_t, std::string>>> SqlStore::work_log(const WorkKey& key, int64_t after_seq) {
  STRATA_ASSIGN(SqlRows rows, query("SELECT seq, text FROM work_log_chunks" + kWhereKey + " AND seq > ? ORDER BY seq",
                                    [&] {
                                      auto params = with_key({}, key);
                                      params.emplace_back(after_seq);
                                      return params;
                                    }()));
  std::vector<std::pair<int64_t, std::string>> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.emplace_back(row.integer(0), row.text(1));
  return out;
}

}  // namespace strata::orchestrate

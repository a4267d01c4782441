#include "server/history.h"

#include <sqlite3.h>

#include <string>
#include <variant>

namespace strata::server {
namespace {

using orchestrate::RunRecord;
using orchestrate::TaskInstanceRecord;

// One prepared statement; finalized on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status prepared() const {
    if (rc_ == SQLITE_OK) return ok_status();
    return Error(ErrorCode::kInternal, std::string("metadata query failed: ") + sqlite3_errmsg(db_));
  }
  void bind(int i, const std::string& v) { sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT); }
  void bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  // Steps; true for a row, false when done, an error otherwise.
  Result<bool> step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Error(ErrorCode::kInternal, std::string("metadata query failed: ") + sqlite3_errmsg(db_));
  }
  std::string text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

constexpr const char* kRunColumns =
    "run_id, pipeline, run_type, state, logical_date, interval_start, interval_end, params, queued_at, start_at, "
    "end_at, owner";
constexpr const char* kTaskColumns =
    "run_id, task_id, task_group, kind, state, try_number, max_tries, start_at, end_at, next_retry_at, pool, priority, "
    "pipeline";

RunRecord read_run(const Stmt& s) {
  RunRecord r;
  r.run_id = s.text(0);
  r.pipeline = s.text(1);
  r.type = orchestrate::parse_run_type(s.text(2)).value_or(orchestrate::RunType::kManual);
  r.state = orchestrate::parse_run_state(s.text(3)).value_or(orchestrate::RunState::kQueued);
  r.logical_date = s.integer(4);
  r.interval_start = s.integer(5);
  r.interval_end = s.integer(6);
  r.params_json = s.text(7);
  r.queued_at = s.integer(8);
  r.start_at = s.integer(9);
  r.end_at = s.integer(10);
  r.owner = s.text(11);
  return r;
}

TaskInstanceRecord read_task(const Stmt& s) {
  TaskInstanceRecord t;
  t.run_id = s.text(0);
  t.task_id = s.text(1);
  t.group = s.text(2);
  t.kind = orchestrate::parse_task_kind(s.text(3)).value_or(orchestrate::TaskKind::kShell);
  t.state = orchestrate::parse_task_state(s.text(4)).value_or(orchestrate::TaskState::kNone);
  t.try_number = static_cast<int>(s.integer(5));
  t.max_tries = static_cast<int>(s.integer(6));
  t.start_at = s.integer(7);
  t.end_at = s.integer(8);
  t.next_retry_at = s.integer(9);
  t.pool = s.text(10);
  t.priority = static_cast<int>(s.integer(11));
  t.pipeline = s.text(12);
  return t;
}

// WHERE clause and its bound values for a run filter.
struct Where {
  std::string sql;
  std::vector<std::variant<std::string, int64_t>> values;

  void add(const std::string& condition, std::variant<std::string, int64_t> value) {
    sql += sql.empty() ? " WHERE " : " AND ";
    sql += condition;
    values.push_back(std::move(value));
  }
  void bind(Stmt& s, int first = 1) const {
    int i = first;
    for (const auto& v : values) std::visit([&](const auto& x) { s.bind(i++, x); }, v);
  }
};

Where where_of(const RunFilter& f) {
  Where w;
  if (!f.pipeline.empty()) w.add("pipeline = ?", f.pipeline);
  if (f.state) w.add("state = ?", *f.state);
  if (f.type) w.add("run_type = ?", *f.type);
  if (f.from) w.add("logical_date >= ?", *f.from);
  if (f.to) w.add("logical_date <= ?", *f.to);
  return w;
}

}  // namespace

// Returns a connection to the pool when it goes out of scope.
class History::Lease {
 public:
  Lease(History& h, sqlite3* db) : h_(h), db_(db) {}
  ~Lease() { h_.release(db_); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  sqlite3* get() const { return db_; }

 private:
  History& h_;
  sqlite3* db_;
};

#define STRATA_LEASE(name)                  \
  STRATA_ASSIGN(sqlite3* name##_raw, acquire()); \
  Lease name(*this, name##_raw)

Result<std::unique_ptr<History>> History::open(const std::string& path) {
  std::unique_ptr<History> h(new History(path));
  STRATA_ASSIGN(sqlite3 * db, h->acquire());
  h->release(db);
  return h;
}

History::~History() {
  for (sqlite3* db : idle_) sqlite3_close_v2(db);
}

Result<sqlite3*> History::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      sqlite3* db = idle_.back();
      idle_.pop_back();
      return db;
    }
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return Error(ErrorCode::kConnection, "cannot open the metadata store " + path_ + ": " + message);
  }
  sqlite3_busy_timeout(db, 5000);
  return db;
}

void History::release(sqlite3* db) {
  std::lock_guard lock(mutex_);
  if (idle_.size() < 16) {
    idle_.push_back(db);
    return;
  }
  sqlite3_close_v2(db);
}

Result<RunPage> History::runs(const RunFilter& filter, int limit, int offset) {
  STRATA_LEASE(db);
  const Where w = where_of(filter);
  RunPage page;
  {
    Stmt count(db.get(), "SELECT COUNT(*) FROM runs" + w.sql);
    STRATA_TRY(count.prepared());
    w.bind(count);
    STRATA_ASSIGN(bool row, count.step());
    if (row) page.total = count.integer(0);
  }
  Stmt s(db.get(), std::string("SELECT ") + kRunColumns + " FROM runs" + w.sql +
                       " ORDER BY logical_date DESC, run_id DESC LIMIT ? OFFSET ?");
  STRATA_TRY(s.prepared());
  w.bind(s);
  s.bind(static_cast<int>(w.values.size()) + 1, static_cast<int64_t>(limit));
  s.bind(static_cast<int>(w.values.size()) + 2, static_cast<int64_t>(offset));
  for (;;) {
    STRATA_ASSIGN(bool row, s.step());
    if (!row) break;
    page.runs.push_back(read_run(s));
  }
  return page;
}

Result<std::vector<TaskInstanceRecord>> History::task_instances(const std::string& pipeline,
                                                                const std::vector<std::string>& run_ids) {
  std::vector<TaskInstanceRecord> out;
  if (run_ids.empty()) return out;
  STRATA_LEASE(db);
  // Chunks keep the number of bound values well under SQLite's limit.
  constexpr size_t kChunk = 200;
  for (size_t first = 0; first < run_ids.size(); first += kChunk) {
    const size_t n = std::min(kChunk, run_ids.size() - first);
    std::string sql = std::string("SELECT ") + kTaskColumns + " FROM task_instances WHERE pipeline = ? AND run_id IN (";
    for (size_t i = 0; i < n; ++i) sql += i ? ",?" : "?";
    sql += ")";
    Stmt s(db.get(), sql);
    STRATA_TRY(s.prepared());
    s.bind(1, pipeline);
    for (size_t i = 0; i < n; ++i) s.bind(static_cast<int>(i + 2), run_ids[first + i]);
    for (;;) {
      STRATA_ASSIGN(bool row, s.step());
      if (!row) break;
      out.push_back(read_task(s));
    }
  }
  return out;
}

Result<std::map<std::string, int64_t>> History::task_counts(const std::string& pipeline, const std::string& run_id) {
  STRATA_LEASE(db);
  Stmt s(db.get(), "SELECT state, COUNT(*) FROM task_instances WHERE pipeline = ? AND run_id = ? GROUP BY state");
  STRATA_TRY(s.prepared());
  s.bind(1, pipeline);
  s.bind(2, run_id);
  std::map<std::string, int64_t> out;
  for (;;) {
    STRATA_ASSIGN(bool row, s.step());
    if (!row) break;
    out[s.text(0)] = s.integer(1);
  }
  return out;
}

Result<std::vector<orchestrate::SyncReportRecord>> History::sync_reports(const std::string& connection, int limit) {
  STRATA_LEASE(db);
  Stmt s(db.get(),
         "SELECT run_id, task_id, connection, report, at, pipeline FROM sync_reports WHERE connection = ? "
         "ORDER BY at DESC, rowid DESC LIMIT ?");
  STRATA_TRY(s.prepared());
  s.bind(1, connection);
  s.bind(2, static_cast<int64_t>(limit));
  std::vector<orchestrate::SyncReportRecord> out;
  for (;;) {
    STRATA_ASSIGN(bool row, s.step());
    if (!row) break;
    out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.integer(4), s.text(5)});
  }
  return out;
}

Result<std::vector<SyncedStream>> History::synced_streams(const std::string& connection) {
  STRATA_LEASE(db);
  // The mode of each stream's latest report: the row with the greatest (at, rowid) per stream.
  Stmt s(db.get(),
         "SELECT stream, mode FROM (SELECT json_extract(j.value, '$.stream') AS stream, "
         "json_extract(j.value, '$.mode') AS mode, ROW_NUMBER() OVER (PARTITION BY json_extract(j.value, '$.stream') "
         "ORDER BY r.at DESC, r.id DESC) AS n FROM (SELECT rowid AS id, at, report FROM sync_reports "
         "WHERE connection = ? ORDER BY at DESC, rowid DESC LIMIT ?) r, json_each(r.report, '$.streams') j "
         "WHERE json_valid(r.report)) WHERE n = 1 AND stream IS NOT NULL ORDER BY stream");
  STRATA_TRY(s.prepared());
  s.bind(1, connection);
  s.bind(2, static_cast<int64_t>(kSyncedStreamsReports));
  std::vector<SyncedStream> out;
  for (;;) {
    STRATA_ASSIGN(bool row, s.step());
    if (!row) break;
    out.push_back({s.text(0), s.text(1)});
  }
  return out;
}

Result<std::vector<orchestrate::TestResultRecord>> History::recent_test_results(int runs) {
  STRATA_LEASE(db);
  Stmt s(db.get(),
         "WITH recent AS (SELECT pipeline, run_id, MAX(at) AS last_at FROM test_results GROUP BY pipeline, run_id "
         "ORDER BY last_at DESC LIMIT ?) "
         "SELECT t.run_id, t.task_id, t.test_name, t.status, t.message, t.failures, t.at, t.pipeline "
         "FROM test_results t JOIN recent r ON r.pipeline = t.pipeline AND r.run_id = t.run_id "
         "ORDER BY r.last_at, t.pipeline, t.run_id, t.at, t.rowid");
  STRATA_TRY(s.prepared());
  s.bind(1, static_cast<int64_t>(runs));
  std::vector<orchestrate::TestResultRecord> out;
  for (;;) {
    STRATA_ASSIGN(bool row, s.step());
    if (!row) break;
    out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.integer(5), s.integer(6), s.text(7)});
  }
  return out;
}

namespace {

Result<std::vector<StateCount>> state_counts(sqlite3* db, const char* sql) {
  Stmt s(db, sql);
  STRATA_TRY(s.prepared());
  std::vector<StateCount> out;
  for (;;) {
    STRATA_ASSIGN(bool row, s.step());
    if (!row) break;
    out.push_back({s.text(0), s.text(1), s.integer(2)});
  }
  return out;
}

}  // namespace

Result<std::vector<StateCount>> History::run_counts() {
  STRATA_LEASE(db);
  return state_counts(db.get(), "SELECT pipeline, state, COUNT(*) FROM runs GROUP BY pipeline, state");
}

Result<std::vector<StateCount>> History::task_counts_by_pipeline() {
  STRATA_LEASE(db);
  return state_counts(db.get(),
                      "SELECT pipeline, state, COUNT(*) FROM task_instances GROUP BY pipeline, state");
}

Result<std::vector<DurationHistogram>> History::task_durations() {
  STRATA_LEASE(db);
  std::string sql = "SELECT pipeline, COUNT(*), SUM(d)";
  for (double b : kDurationBuckets) sql += ", SUM(d <= " + std::to_string(b) + ")";
  sql += " FROM (SELECT pipeline, (end_at - start_at) / 1e6 AS d FROM task_instances WHERE start_at > 0 AND end_at >= "
         "start_at) t GROUP BY pipeline";
  Stmt s(db.get(), sql);
  STRATA_TRY(s.prepared());
  std::vector<DurationHistogram> out;
  for (;;) {
    STRATA_ASSIGN(bool row, s.step());
    if (!row) break;
    DurationHistogram h;
    h.pipeline = s.text(0);
    h.count = s.integer(1);
    h.sum = s.real(2);
    for (size_t i = 0; i < std::size(kDurationBuckets); ++i) h.cumulative.push_back(s.integer(3 + static_cast<int>(i)));
    h.cumulative.push_back(h.count);
    out.push_back(std::move(h));
  }
  return out;
}

Result<std::vector<RowsSynced>> History::rows_synced() {
  STRATA_LEASE(db);
  Stmt s(db.get(),
         "SELECT r.connection, json_extract(j.value, '$.stream'), SUM(json_extract(j.value, '$.rows')) "
         "FROM sync_reports r, json_each(r.report, '$.streams') j WHERE json_valid(r.report) "
         "GROUP BY 1, 2 ORDER BY 1, 2");
  STRATA_TRY(s.prepared());
  std::vector<RowsSynced> out;
  for (;;) {
    STRATA_ASSIGN(bool row, s.step());
    if (!row) break;
    out.push_back({s.text(0), s.text(1), s.integer(2)});
  }
  return out;
}

}  // namespace strata::server

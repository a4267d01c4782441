#include "server/history.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include "orchestrate/pg_store.h"
#include "orchestrate/sqlite_store.h"

namespace strata::server {
namespace {

using orchestrate::SqlRow;
using orchestrate::SqlRows;
using orchestrate::SqlValue;
using orchestrate::TaskInstanceRecord;

double real(const SqlRow& row, size_t column) { return std::strtod(row.text(column).c_str(), nullptr); }

// WHERE clause and its bound values for a run filter.
struct Where {
  std::string sql;
  std::vector<SqlValue> values;

  void add(const std::string& condition, SqlValue value) {
    sql += sql.empty() ? " WHERE " : " AND ";
    sql += condition;
    values.push_back(std::move(value));
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

// The rows of a report's `streams` array as (r, j) with j.value one stream object, and
// stream/mode/rows of j: SQLite's json_each and json_extract, PostgreSQL's jsonb functions (a
// report whose `streams` is not an array has no rows).
struct JsonSql {
  const char* streams_from;  // appended after "FROM <reports> r, "
  const char* stream;
  const char* mode;
  const char* rows;
  const char* valid;         // a condition on r
  const char* row_id;        // the insertion order column
};

constexpr JsonSql kSqliteJson{"json_each(r.report, '$.streams') j", "json_extract(j.value, '$.stream')",
                              "json_extract(j.value, '$.mode')", "json_extract(j.value, '$.rows')",
                              "json_valid(r.report)", "rowid"};
constexpr JsonSql kPostgresJson{
    "jsonb_array_elements(CASE WHEN jsonb_typeof(r.report::jsonb -> 'streams') = 'array' "
    "THEN r.report::jsonb -> 'streams' ELSE '[]'::jsonb END) j",
    "(j.value ->> 'stream')", "(j.value ->> 'mode')", "(j.value ->> 'rows')::numeric", "TRUE", "id"};

}  // namespace

// Returns a connection to the pool when it goes out of scope.
class History::Lease {
 public:
  Lease(History& h, Session session) : h_(h), session_(std::move(session)) {}
  ~Lease() { h_.release(std::move(session_)); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  orchestrate::SqlSession& get() const { return *session_; }

 private:
  History& h_;
  Session session_;
};

Result<std::unique_ptr<History>> History::open_with(SessionFactory connect, bool postgres) {
  std::unique_ptr<History> h(new History(std::move(connect), postgres));
  STRATA_ASSIGN(Session first, h->acquire());
  h->release(std::move(first));
  return h;
}

Result<std::unique_ptr<History>> History::open(const std::string& path) {
  return open_with([path] { return orchestrate::open_sqlite_session(path, true); }, false);
}

Result<std::unique_ptr<History>> History::open(const orchestrate::MetadataStoreConfig& config, SecretMasker* masker) {
  if (config.kind == orchestrate::MetadataStoreConfig::Kind::kSqlite) return open(config.sqlite_path);
  orchestrate::PgStoreOptions options{config.conninfo, config.schema, masker};
  return open_with([options] { return orchestrate::open_pg_session(options); }, true);
}

History::~History() = default;

Result<History::Session> History::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!idle_.empty()) {
      Session session = std::move(idle_.back());
      idle_.pop_back();
      return session;
    }
  }
  return connect_();
}

void History::release(Session session) {
  if (!session) return;
  std::lock_guard lock(mutex_);
  if (idle_.size() < 16) idle_.push_back(std::move(session));
}

Result<SqlRows> History::query(const std::string& sql, const std::vector<SqlValue>& params) {
  STRATA_ASSIGN(Session session, acquire());
  Lease lease(*this, std::move(session));
  auto rows = lease.get().query(sql, params);
  if (!rows.ok()) return Error(ErrorCode::kInternal, "metadata query failed: " + rows.error().message());
  return rows;
}

Result<RunPage> History::runs(const RunFilter& filter, int limit, int offset) {
  const Where w = where_of(filter);
  RunPage page;
  STRATA_ASSIGN(SqlRows count, query("SELECT COUNT(*) FROM runs" + w.sql, w.values));
  if (!count.empty()) page.total = count.front().integer(0);
  std::vector<SqlValue> values = w.values;
  values.emplace_back(int64_t{limit});
  values.emplace_back(int64_t{offset});
  STRATA_ASSIGN(SqlRows rows, query("SELECT " + orchestrate::kRunColumns + " FROM runs" + w.sql +
                                        " ORDER BY logical_date DESC, run_id DESC LIMIT CAST(? AS BIGINT) "
                                        "OFFSET CAST(? AS BIGINT)",
                                    values));
  for (const auto& row : rows) page.runs.push_back(orchestrate::read_run(row));
  return page;
}

Result<std::vector<TaskInstanceRecord>> History::task_instances(const std::string& pipeline,
                                                                const std::vector<std::string>& run_ids) {
  std::vector<TaskInstanceRecord> out;
  // Chunks keep the number of bound values well under SQLite's limit.
  constexpr size_t kChunk = 200;
  for (size_t first = 0; first < run_ids.size(); first += kChunk) {
    const size_t n = std::min(kChunk, run_ids.size() - first);
    std::string sql = "SELECT " + orchestrate::kTaskInstanceColumns + " FROM task_instances WHERE pipeline = ? AND run_id IN (";
    std::vector<SqlValue> values{pipeline};
    for (size_t i = 0; i < n; ++i) {
      sql += i ? ",?" : "?";
      values.emplace_back(run_ids[first + i]);
    }
    sql += ")";
    STRATA_ASSIGN(SqlRows rows, query(sql, values));
    for (const auto& row : rows) out.push_back(orchestrate::read_task_instance(row));
  }
  return out;
}

Result<std::map<std::string, int64_t>> History::task_counts(const std::string& pipeline, const std::string& run_id) {
  STRATA_ASSIGN(SqlRows rows,
                query("SELECT state, COUNT(*) FROM task_instances WHERE pipeline = ? AND run_id = ? GROUP BY state",
                      {pipeline, run_id}));
  std::map<std::string, int64_t> out;
  for (const auto& row : rows) out[row.text(0)] = row.integer(1);
  return out;
}

Result<std::vector<orchestrate::SyncReportRecord>> History::sync_reports(const std::string& connection, int limit) {
  const JsonSql& json = postgres_ ? kPostgresJson : kSqliteJson;
  STRATA_ASSIGN(SqlRows rows, query(std::string("SELECT run_id, task_id, connection, report, at, pipeline FROM "
                                                "sync_reports WHERE connection = ? ORDER BY at DESC, ") +
                                        json.row_id + " DESC LIMIT CAST(? AS BIGINT)",
                                    {connection, int64_t{limit}}));
  std::vector<orchestrate::SyncReportRecord> out;
  for (const auto& s : rows) out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.integer(4), s.text(5)});
  return out;
}

Result<std::vector<SyncedStream>> History::synced_streams(const std::string& connection) {
  const JsonSql& json = postgres_ ? kPostgresJson : kSqliteJson;
  const std::string id = json.row_id;
  // The mode of each stream's latest report: the row with the greatest (at, id) per stream.
  STRATA_ASSIGN(SqlRows rows,
                query(std::string("SELECT stream, mode FROM (SELECT ") + json.stream + " AS stream, " + json.mode +
                          " AS mode, ROW_NUMBER() OVER (PARTITION BY " + json.stream +
                          " ORDER BY r.at DESC, r.id DESC) AS n FROM (SELECT " + id + " AS id, at, report FROM "
                          "sync_reports WHERE connection = ? ORDER BY at DESC, " + id +
                          " DESC LIMIT CAST(? AS BIGINT)) r, " + json.streams_from + " WHERE " + json.valid +
                          ") s WHERE n = 1 AND stream IS NOT NULL ORDER BY stream",
                      {connection, int64_t{kSyncedStreamsReports}}));
  std::vector<SyncedStream> out;
  for (const auto& s : rows) out.push_back({s.text(0), s.text(1)});
  return out;
}

Result<std::vector<orchestrate::TestResultRecord>> History::recent_test_results(int runs) {
  const JsonSql& json = postgres_ ? kPostgresJson : kSqliteJson;
  STRATA_ASSIGN(SqlRows rows,
                query(std::string("WITH recent AS (SELECT pipeline, run_id, MAX(at) AS last_at FROM test_results "
                                  "GROUP BY pipeline, run_id ORDER BY last_at DESC LIMIT CAST(? AS BIGINT)) "
                                  "SELECT t.run_id, t.task_id, t.test_name, t.status, t.message, t.failures, t.at, "
                                  "t.pipeline FROM test_results t JOIN recent r ON r.pipeline = t.pipeline AND "
                                  "r.run_id = t.run_id ORDER BY r.last_at, t.pipeline, t.run_id, t.at, t.") +
                          json.row_id,
                      {int64_t{runs}}));
  std::vector<orchestrate::TestResultRecord> out;
  for (const auto& s : rows)
    out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.integer(5), s.integer(6), s.text(7)});
  return out;
}

Result<std::vector<StateCount>> History::run_counts() {
  STRATA_ASSIGN(SqlRows rows, query("SELECT pipeline, state, COUNT(*) FROM runs GROUP BY pipeline, state", {}));
  std::vector<StateCount> out;
  for (const auto& s : rows) out.push_back({s.text(0), s.text(1), s.integer(2)});
  return out;
}

Result<std::vector<StateCount>> History::task_counts_by_pipeline() {
  STRATA_ASSIGN(SqlRows rows,
                query("SELECT pipeline, state, COUNT(*) FROM task_instances GROUP BY pipeline, state", {}));
  std::vector<StateCount> out;
  for (const auto& s : rows) out.push_back({s.text(0), s.text(1), s.integer(2)});
  return out;
}

Result<std::vector<DurationHistogram>> History::task_durations() {
  std::string sql = "SELECT pipeline, COUNT(*), SUM(d)";
  for (double b : kDurationBuckets) sql += ", SUM(CASE WHEN d <= " + std::to_string(b) + " THEN 1 ELSE 0 END)";
  sql += " FROM (SELECT pipeline, (end_at - start_at) / 1e6 AS d FROM task_instances WHERE start_at > 0 AND end_at >= "
         "start_at) t GROUP BY pipeline";
  STRATA_ASSIGN(SqlRows rows, query(sql, {}));
  std::vector<DurationHistogram> out;
  for (const auto& s : rows) {
    DurationHistogram h;
    h.pipeline = s.text(0);
    h.count = s.integer(1);
    h.sum = real(s, 2);
    for (size_t i = 0; i < std::size(kDurationBuckets); ++i) h.cumulative.push_back(s.integer(3 + i));
    h.cumulative.push_back(h.count);
    out.push_back(std::move(h));
  }
  return out;
}

Result<std::vector<RowsSynced>> History::rows_synced() {
  const JsonSql& json = postgres_ ? kPostgresJson : kSqliteJson;
  STRATA_ASSIGN(SqlRows rows, query(std::string("SELECT r.connection, ") + json.stream + ", SUM(" + json.rows +
                                        ") FROM sync_reports r, " + json.streams_from + " WHERE " + json.valid +
                                        " GROUP BY 1, 2 ORDER BY 1, 2",
                                    {}));
  std::vector<RowsSynced> out;
  for (const auto& s : rows) out.push_back({s.text(0), s.text(1), s.integer(2)});
  return out;
}

}  // namespace strata::server

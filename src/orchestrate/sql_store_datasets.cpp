// SqlStore's datasets (metadata_store.h, datasets.h): events, each consumer pipeline's queue (a
// watermark per dataset: the last event id it consumed) and the events that triggered each run.
#include "orchestrate/sql_store.h"

#include <algorithm>

namespace strata::orchestrate {

const char* const kDatasetMigration = R"sql(
CREATE TABLE dataset_events (
  id BIGINT PRIMARY KEY,
  uri TEXT NOT NULL,
  at BIGINT NOT NULL,
  source_pipeline TEXT NOT NULL DEFAULT '',
  source_run_id TEXT NOT NULL DEFAULT '',
  source_task_id TEXT NOT NULL DEFAULT '',
  extra TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX dataset_events_by_uri ON dataset_events (uri, id);
CREATE INDEX dataset_events_by_source ON dataset_events (source_pipeline, source_run_id);
CREATE TABLE dataset_queues (
  pipeline TEXT NOT NULL,
  uri TEXT NOT NULL,
  consumed_id BIGINT NOT NULL,
  PRIMARY KEY (pipeline, uri)
);
CREATE TABLE dataset_run_events (
  pipeline TEXT NOT NULL,
  run_id TEXT NOT NULL,
  event_id BIGINT NOT NULL,
  PRIMARY KEY (pipeline, run_id, event_id)
);
)sql";

namespace {

const std::string kEventColumns = "id, uri, at, source_pipeline, source_run_id, source_task_id, extra";

std::vector<DatasetEventRecord> read_events(const SqlRows& rows) {
  std::vector<DatasetEventRecord> out;
  out.reserve(rows.size());
  for (const auto& row : rows) {
    out.push_back(DatasetEventRecord{row.integer(0), row.text(1), row.integer(2), row.text(3), row.text(4),
                                     row.text(5), row.text(6).empty() ? "{}" : row.text(6)});
  }
  return out;
}

}  // namespace

Result<int64_t> SqlStore::add_dataset_event(const DatasetEventRecord& e, int64_t at) {
  std::lock_guard lock(mutex_);
  int64_t id = 0;
  // Ids are taken under one lock shared by every session, so they ascend in commit order: a
  // queue's watermark never passes an event committed after it.
  STRATA_TRY(in_transaction_locked([&]() -> Result<bool> {
    STRATA_TRY(session_->lock_until_end("dataset events"));
    STRATA_ASSIGN(SqlRows last, session_->query("SELECT COALESCE(MAX(id), 0) FROM dataset_events", {}));
    id = last.front().integer(0) + 1;
    STRATA_TRY(session_->execute("INSERT INTO dataset_events (" + kEventColumns + ") VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 {id, e.uri, at, e.source_pipeline, e.source_run_id, e.source_task_id,
                                  e.extra_json.empty() ? std::string("{}") : e.extra_json}));
    return true;
  }));
  return id;
}

Result<std::vector<DatasetEventRecord>> SqlStore::dataset_events(const std::string& uri, int64_t after_id, int limit) {
  const std::string sql = "SELECT " + kEventColumns + " FROM dataset_events WHERE id > ?" +
                          (uri.empty() ? "" : " AND uri = ?") + " ORDER BY id " + (after_id > 0 ? "ASC" : "DESC") +
                          " LIMIT ?";
  std::vector<SqlValue> params{after_id};
  if (!uri.empty()) params.emplace_back(uri);
  params.emplace_back(int64_t{limit});
  STRATA_ASSIGN(SqlRows rows, query(sql, params));
  return read_events(rows);
}

Status SqlStore::start_dataset_queues(const std::string& pipeline, const std::vector<std::string>& uris) {
  std::lock_guard lock(mutex_);
  std::string listed;
  std::vector<SqlValue> params{pipeline};
  for (const auto& uri : uris) {
    listed += listed.empty() ? "?" : ", ?";
    params.emplace_back(uri);
  }
  STRATA_TRY(session_->execute("DELETE FROM dataset_queues WHERE pipeline = ?" +
                                   (listed.empty() ? std::string() : " AND uri NOT IN (" + listed + ")"),
                               params));
  for (const auto& uri : uris) {
    // A dataset the pipeline starts waiting for: its queue starts after the newest event.
    STRATA_TRY(session_->execute(
        "INSERT INTO dataset_queues (pipeline, uri, consumed_id) SELECT ?, ?, COALESCE(MAX(id), 0) FROM "
        "dataset_events WHERE uri = ? ON CONFLICT (pipeline, uri) DO NOTHING",
        {pipeline, uri, uri}));
  }
  return ok_status();
}

Result<std::vector<DatasetQueueRecord>> SqlStore::dataset_queue(const std::string& pipeline,
                                                                const std::vector<std::string>& uris) {
  std::lock_guard lock(mutex_);
  std::vector<DatasetQueueRecord> out;
  for (const auto& uri : uris) {
    STRATA_ASSIGN(SqlRows rows,
                  session_->query("SELECT q.consumed_id, COALESCE(MAX(e.id), q.consumed_id), COUNT(e.id), "
                                  "COALESCE(MIN(e.at), 0), COALESCE(MAX(e.at), 0) FROM dataset_queues q LEFT JOIN "
                                  "dataset_events e ON e.uri = q.uri AND e.id > q.consumed_id WHERE q.pipeline = ? "
                                  "AND q.uri = ? GROUP BY q.consumed_id",
                                  {pipeline, uri}));
    if (rows.empty()) {  // not started
      out.push_back(DatasetQueueRecord{uri});
      continue;
    }
    const SqlRow& row = rows.front();
    out.push_back(DatasetQueueRecord{uri, row.integer(0), row.integer(1), row.integer(2), row.integer(3),
                                     row.integer(4)});
  }
  return out;
}

Result<bool> SqlStore::create_dataset_run(const RunRecord& run, const std::vector<DatasetQueueRecord>& queues) {
  if (std::none_of(queues.begin(), queues.end(), [](const DatasetQueueRecord& q) { return q.count > 0; })) return false;
  std::lock_guard lock(mutex_);
  return in_transaction_locked([&]() -> Result<bool> {
    STRATA_ASSIGN(bool consumed, consume_queues_locked(run.pipeline, queues));
    if (!consumed) return false;
    STRATA_TRY(create_run_locked(run));
    for (const auto& q : queues) {
      if (q.count == 0) continue;
      STRATA_TRY(session_->execute("INSERT INTO dataset_run_events (pipeline, run_id, event_id) SELECT ?, ?, id FROM "
                                   "dataset_events WHERE uri = ? AND id > ? AND id <= ?",
                                   {run.pipeline, run.run_id, q.uri, q.consumed_id, q.last_id}));
    }
    return true;
  });
}

Result<bool> SqlStore::consume_queues_locked(const std::string& pipeline, const std::vector<DatasetQueueRecord>& queues) {
  std::vector<const DatasetQueueRecord*> ordered;
  for (const auto& q : queues) ordered.push_back(&q);
  std::sort(ordered.begin(), ordered.end(), [](auto* a, auto* b) { return a->uri < b->uri; });
  for (const DatasetQueueRecord* q : ordered) {
    STRATA_ASSIGN(int64_t moved, session_->execute("UPDATE dataset_queues SET consumed_id = ? WHERE pipeline = ? AND "
                                                   "uri = ? AND consumed_id = ?",
                                                   {q->last_id, pipeline, q->uri, q->consumed_id}));
    if (moved != 1) return false;  // another scheduler consumed it first
  }
  return true;
}

Result<bool> SqlStore::skip_dataset_queue(const std::string& pipeline, const std::vector<DatasetQueueRecord>& queues) {
  if (std::none_of(queues.begin(), queues.end(), [](const DatasetQueueRecord& q) { return q.count > 0; })) return false;
  std::lock_guard lock(mutex_);
  return in_transaction_locked([&] { return consume_queues_locked(pipeline, queues); });
}

Result<std::vector<DatasetEventRecord>> SqlStore::run_outlet_events(const std::string& pipeline,
                                                                    const std::string& run_id) {
  STRATA_ASSIGN(SqlRows rows, query("SELECT " + kEventColumns + " FROM dataset_events WHERE source_pipeline = ? AND "
                                    "source_run_id = ? ORDER BY id",
                                    {pipeline, run_id}));
  return read_events(rows);
}

Result<std::vector<DatasetSummaryRecord>> SqlStore::dataset_summaries() {
  STRATA_ASSIGN(SqlRows rows, query("SELECT uri, COUNT(*), MAX(id), MAX(at) FROM dataset_events GROUP BY uri ORDER BY uri",
                                    {}));
  std::vector<DatasetSummaryRecord> out;
  for (const auto& row : rows) out.push_back({row.text(0), row.integer(1), row.integer(2), row.integer(3)});
  return out;
}

Result<std::vector<DatasetEventRecord>> SqlStore::run_dataset_events(const std::string& pipeline,
                                                                     const std::string& run_id) {
  STRATA_ASSIGN(SqlRows rows, query("SELECT e.id, e.uri, e.at, e.source_pipeline, e.source_run_id, e.source_task_id, "
                                    "e.extra FROM dataset_run_events r JOIN dataset_events e ON e.id = r.event_id "
                                    "WHERE r.pipeline = ? AND r.run_id = ? ORDER BY e.id",
                                    {pipeline, run_id}));
  return read_events(rows);
}

}  // namespace strata::orchestrate

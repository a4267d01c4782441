#pragma once
// SqlStore: the MetadataStore written once in SQL that SQLite and PostgreSQL both run (plain types,
// `?` placeholders, ON CONFLICT upserts), over a SqlSession that one database implements:
// SqliteStore (sqlite_store.h) and PgStore (pg_store.h) are a session and a schema each.
// Thread-safety: one session guarded by a mutex; every method may be called from any thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "orchestrate/metadata_store.h"

namespace strata::orchestrate {

// A statement parameter: an integer or a text.
using SqlValue = std::variant<int64_t, std::string>;

// Rows of a query, every value as text (NULL as ""); integers in decimal.
struct SqlRow {
  std::vector<std::string> values;
  const std::string& text(size_t column) const { return values.at(column); }
  // The value as an integer; 0 when it is not one.
  int64_t integer(size_t column) const;
};
using SqlRows = std::vector<SqlRow>;

// The columns a SELECT of runs / task_instances lists for read_run / read_task_instance, in their
// order (the store and the web server's history queries read the same rows).
inline const std::string kRunColumns =
    "run_id, pipeline, run_type, state, logical_date, interval_start, interval_end, params, queued_at, start_at, "
    "end_at, owner, note";
inline const std::string kTaskInstanceColumns =
    "run_id, task_id, task_group, kind, state, try_number, max_tries, start_at, end_at, next_retry_at, pool, priority, "
    "pipeline, note";
// A row of those columns as a record (an unknown state or kind reads as failed / none / shell).
RunRecord read_run(const SqlRow& row);
TaskInstanceRecord read_task_instance(const SqlRow& row);

// The migration that adds the work queue (work_items, work_log_chunks): the same DDL on SQLite
// and PostgreSQL, appended to both stores' migrations.
extern const char* const kWorkQueueMigration;
// The migration that indexes task instances by pool and state (start_attempt counts a pool's
// running ones at every attempt's start).
extern const char* const kPoolIndexMigration;

// The migration that adds datasets (dataset_events, dataset_queues, dataset_run_events).
extern const char* const kDatasetMigration;
// The migration that adds runs.note (RunRecord::note).
extern const char* const kRunNoteMigration;
// The migration that adds task_instances.note (TaskInstanceRecord::note) and indexes task instances
// by pipeline and state (start_attempt counts a pipeline's running ones under max_active_tasks).
extern const char* const kTaskNoteMigration;

// One connection to the store's database. Used by one thread at a time (SqlStore holds its mutex).
// `sql` is one statement with `?` placeholders, bound in order. A duplicate key fails with
// Error::state() == kUniqueViolation (metadata_store.h) on either database.
class SqlSession {
 public:
  virtual ~SqlSession() = default;
  // Runs a statement that returns no rows; returns how many rows it changed.
  // Errors: kFailed with the database's message (state 23505 for a duplicate key); kConnection
  // when the database cannot be reached.
  virtual Result<int64_t> execute(const std::string& sql, const std::vector<SqlValue>& params) = 0;
  // Runs a query. Errors as execute().
  virtual Result<SqlRows> query(const std::string& sql, const std::vector<SqlValue>& params) = 0;
  // Starts a transaction that takes write locks at once (SQLite's BEGIN IMMEDIATE).
  virtual Status begin() = 0;
  // Inside a transaction: waits for, then holds until it ends, a lock named `name` that every
  // session of the store's database shares. SQLite's transactions (BEGIN IMMEDIATE) are serialized
  // already, so there it does nothing.
  virtual Status lock_until_end(const std::string& name) {
    (void)name;
    return ok_status();
  }
  virtual Status commit() = 0;
  // Best effort: a failure is ignored (the transaction is gone either way).
  virtual void rollback() = 0;
  // Tells the store's work watches (MetadataStore::watch_work) about a change: sent at once, or
  // with the commit of the transaction it is in. Errors as execute(); inside a transaction a failure
  // must fail the transaction (PostgreSQL aborts it). Outside one a caller may ignore it (a lost
  // signal delays a watcher until its next poll). SQLite has no watches: there it does nothing.
  virtual Status notify_work(const std::string& payload) {
    (void)payload;
    return ok_status();
  }
};

// A WorkSignal as the text a store's notification carries, and back (nullopt for a text that is
// not one).
std::string work_signal_payload(const WorkSignal& signal);
std::optional<WorkSignal> parse_work_signal(std::string_view payload);

class SqlStore : public MetadataStore {
 public:
  ~SqlStore() override = default;
  SqlStore(const SqlStore&) = delete;
  SqlStore& operator=(const SqlStore&) = delete;

  Status ensure_pipeline(const std::string& name) override;
  Status set_paused(const std::string& name, bool paused) override;
  Result<std::vector<PipelineRecord>> pipelines() override;
  Status create_run(const RunRecord& run) override;
  Status update_run(const RunRecord& run) override;
  Result<bool> claim_run(const std::string& pipeline, const std::string& run_id, const std::string& owner,
                         int64_t at, int max_running) override;
  Result<bool> adopt_run(const std::string& pipeline, const std::string& run_id, const std::string& from_owner,
                         const std::string& to_owner) override;
  Result<std::optional<RunRecord>> run(const std::string& pipeline, const std::string& run_id) override;
  Result<std::vector<RunRecord>> runs_with_id(const std::string& run_id) override;
  Result<std::optional<RunRecord>> run_at(const std::string& pipeline, int64_t logical_date) override;
  Result<std::vector<RunRecord>> runs(const std::string& pipeline, std::optional<RunState> state, int limit) override;
  Result<std::optional<RunRecord>> latest_run(const std::string& pipeline) override;
  Result<std::optional<RunRecord>> previous_run(const std::string& pipeline, int64_t logical_date, bool skip_manual) override;
  Status upsert_task_instance(const TaskInstanceRecord& ti) override;
  Result<std::vector<TaskInstanceRecord>> task_instances(const std::string& pipeline,
                                                          const std::string& run_id) override;
  Status delete_task_instances(const std::string& pipeline, const std::string& run_id) override;
  Status upsert_attempt(const AttemptRecord& attempt) override;
  Status save_attempt(const TaskInstanceRecord& ti, const AttemptRecord& attempt) override;
  Result<bool> start_attempt(const TaskInstanceRecord& ti, const AttemptRecord& attempt, int pool_slots,
                             int pipeline_slots = 0) override;
  Result<std::vector<AttemptRecord>> attempts(const std::string& pipeline, const std::string& run_id,
                                              const std::string& task_id) override;
  Result<std::vector<AttemptRecord>> running_attempts() override;
  Status heartbeat(const HeartbeatRecord& beat) override;
  Result<std::vector<HeartbeatRecord>> heartbeats() override;
  // Work items: sql_store_work.cpp.
  Status enqueue_work(const WorkItemRecord& item) override;
  Result<std::vector<WorkItemRecord>> queued_work(const std::vector<std::string>& queues, int limit) override;
  Result<bool> claim_work(const WorkKey& key, const std::string& worker, int64_t at) override;
  Result<bool> heartbeat_work(const WorkKey& key, const std::string& worker, int64_t at) override;
  Result<bool> finish_work(const WorkKey& key, const std::string& worker, const WorkResult& result) override;
  Status request_cancel_work(const WorkKey& key, const std::string& reason, int64_t at) override;
  Result<std::optional<WorkItemRecord>> work_item(const WorkKey& key) override;
  Status append_work_log(const WorkKey& key, int64_t seq, const std::string& text) override;
  Result<std::vector<std::pair<int64_t, std::string>>> work_log(const WorkKey& key, int64_t after_seq) override;
  // Datasets: sql_store_datasets.cpp.
  Result<int64_t> add_dataset_event(const DatasetEventRecord& event, int64_t at) override;
  Result<std::vector<DatasetEventRecord>> dataset_events(const std::string& uri, int64_t after_id, int limit) override;
  Status start_dataset_queues(const std::string& pipeline, const std::vector<std::string>& uris) override;
  Result<std::vector<DatasetQueueRecord>> dataset_queue(const std::string& pipeline,
                                                        const std::vector<std::string>& uris) override;
  Result<bool> create_dataset_run(const RunRecord& run, const std::vector<DatasetQueueRecord>& queues) override;
  Result<bool> skip_dataset_queue(const std::string& pipeline, const std::vector<DatasetQueueRecord>& queues) override;
  Result<std::vector<DatasetEventRecord>> run_outlet_events(const std::string& pipeline,
                                                            const std::string& run_id) override;
  Result<std::vector<DatasetSummaryRecord>> dataset_summaries() override;
  Result<std::vector<DatasetEventRecord>> run_dataset_events(const std::string& pipeline,
                                                             const std::string& run_id) override;
  Status add_sync_report(const SyncReportRecord& report) override;
  Result<std::vector<SyncReportRecord>> sync_reports(const std::string& pipeline, const std::string& run_id) override;
  Status add_test_result(const TestResultRecord& result) override;
  Result<std::vector<TestResultRecord>> test_results(const std::string& pipeline, const std::string& run_id) override;

 protected:
  // Takes ownership of the session (not null).
  explicit SqlStore(std::unique_ptr<SqlSession> session) : session_(std::move(session)) {}

  // For the implementations' own statements (migrations, schema_version): the session, with the
  // lock that guards it.
  std::mutex& mutex() { return mutex_; }
  SqlSession& session_locked() { return *session_; }
  // Applies the numbered migrations (index + 1 is the version) not yet recorded in the table
  // `schema_versions`, each in its own transaction with its record; `lock_sql` (may be empty) runs
  // first in each transaction (PostgreSQL: an advisory lock, so two processes migrate in turn).
  // Errors: kFailed naming the migration that failed.
  Status migrate(const std::vector<const char*>& migrations, const std::string& lock_sql);
  // The highest migration applied, 0 when none or on error.
  int applied_version();

 private:
  // Sends a work signal on its own (see SqlSession::notify_work).
  void notify(const WorkSignal& signal);
  Result<int64_t> execute(const std::string& sql, const std::vector<SqlValue>& params);
  Result<SqlRows> query(const std::string& sql, const std::vector<SqlValue>& params);
  Status upsert_task_instance_locked(const TaskInstanceRecord& ti);
  Status create_run_locked(const RunRecord& run);
  // Inside a transaction: moves each queue's watermark from its consumed_id to its last_id (in URI
  // order, so that two processes never lock rows in opposite orders); false when one moved since.
  Result<bool> consume_queues_locked(const std::string& pipeline, const std::vector<DatasetQueueRecord>& queues);
  // Runs `body` in a transaction on the session (mutex held by the caller): committed when it
  // returns ok and true, rolled back otherwise.
  Result<bool> in_transaction_locked(const std::function<Result<bool>()>& body);
  Status upsert_attempt_locked(const AttemptRecord& attempt);
  Result<std::vector<RunRecord>> query_runs(const std::string& sql, const std::vector<SqlValue>& params);
  Result<std::vector<AttemptRecord>> query_attempts(const std::string& sql, const std::vector<SqlValue>& params);

  std::mutex mutex_;
  std::unique_ptr<SqlSession> session_;
};

}  // namespace strata::orchestrate

#pragma once
// SqliteStore: the embedded MetadataStore, one SQLite file in WAL mode (default
// `<project>/.strata/strata.db`). Schema changes are numbered migrations recorded in the table
// `schema_versions`; opening applies the missing ones. SQL is kept portable (plain types, ON
// CONFLICT upserts) so a PostgreSQL store can share it.
// Thread-safety: one connection guarded by a mutex; every method may be called from any thread.
// Several processes may open the same file (WAL + busy timeout).

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "orchestrate/metadata_store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace strata::orchestrate {

class SqliteStore final : public MetadataStore {
 public:
  // Opens or creates the file (and its folder) and migrates it. Errors: kConnection when the file
  // cannot be opened, kFailed when a migration fails.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // The highest migration applied.
  int schema_version();

  Status ensure_pipeline(const std::string& name) override;
  Status set_paused(const std::string& name, bool paused) override;
  Result<std::vector<PipelineRecord>> pipelines() override;
  Status create_run(const RunRecord& run) override;
  Status update_run(const RunRecord& run) override;
  Result<bool> claim_run(const std::string& pipeline, const std::string& run_id, const std::string& owner,
                         int64_t at) override;
  Result<std::optional<RunRecord>> run(const std::string& pipeline, const std::string& run_id) override;
  Result<std::vector<RunRecord>> runs_with_id(const std::string& run_id) override;
  Result<std::optional<RunRecord>> run_at(const std::string& pipeline, int64_t logical_date) override;
  Result<std::vector<RunRecord>> runs(const std::string& pipeline, std::optional<RunState> state, int limit) override;
  Result<std::optional<RunRecord>> latest_run(const std::string& pipeline) override;
  Status upsert_task_instance(const TaskInstanceRecord& ti) override;
  Result<std::vector<TaskInstanceRecord>> task_instances(const std::string& pipeline,
                                                          const std::string& run_id) override;
  Status delete_task_instances(const std::string& pipeline, const std::string& run_id) override;
  Status upsert_attempt(const AttemptRecord& attempt) override;
  Status save_attempt(const TaskInstanceRecord& ti, const AttemptRecord& attempt) override;
  Result<std::vector<AttemptRecord>> attempts(const std::string& pipeline, const std::string& run_id,
                                              const std::string& task_id) override;
  Result<std::vector<AttemptRecord>> running_attempts() override;
  Status heartbeat(const HeartbeatRecord& beat) override;
  Result<std::vector<HeartbeatRecord>> heartbeats() override;
  Status add_sync_report(const SyncReportRecord& report) override;
  Result<std::vector<SyncReportRecord>> sync_reports(const std::string& pipeline, const std::string& run_id) override;
  Status add_test_result(const TestResultRecord& result) override;
  Result<std::vector<TestResultRecord>> test_results(const std::string& pipeline, const std::string& run_id) override;

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  Status migrate();
  Status exec_locked(const char* sql);
  // A cached prepared statement, reset and ready for binding. Caller holds mutex_.
  Result<sqlite3_stmt*> prepare_locked(const char* sql);
  Error error_locked(const std::string& what);
  Status upsert_task_instance_locked(const TaskInstanceRecord& ti);
  Status upsert_attempt_locked(const AttemptRecord& attempt);

  std::mutex mutex_;
  sqlite3* db_;
  std::map<const char*, sqlite3_stmt*> statements_;
};

}  // namespace strata::orchestrate

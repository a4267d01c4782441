#pragma once
// History: read-only queries the API needs beyond the MetadataStore interface (paged and filtered
// runs, the grid, sync reports per connection, test results over time, metrics), run directly
// against the store's database through connections of its own: read-only ones to the SQLite file
// (WAL lets them read while the store writes), or to the PostgreSQL metadata store's schema. The
// SQL is shared; the JSON of sync reports is read with each database's JSON functions.
// Thread-safe: a small pool of connections, one per concurrent caller.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secrets.h"
#include "orchestrate/metadata_store.h"
#include "orchestrate/sql_store.h"
#include "orchestrate/store_factory.h"

namespace strata::server {

struct RunFilter {
  std::string pipeline;                // empty = all
  std::optional<std::string> state;    // run state name
  std::optional<std::string> type;     // run type name
  std::optional<int64_t> from, to;     // logical date bounds, inclusive
};

struct RunPage {
  std::vector<orchestrate::RunRecord> runs;
  int64_t total = 0;
};

// A count by (pipeline, state).
struct StateCount {
  std::string pipeline, state;
  int64_t count = 0;
};

// Task durations of one pipeline as cumulative histogram buckets (seconds upper bounds).
struct DurationHistogram {
  std::string pipeline;
  std::vector<int64_t> cumulative;  // one per History::kDurationBuckets entry, then +Inf
  double sum = 0;
  int64_t count = 0;
};

// A stream found in a connection's sync history.
struct SyncedStream {
  std::string stream, mode;
};

struct RowsSynced {
  std::string connection, stream;
  int64_t rows = 0;
};

class History {
 public:
  static constexpr int kSyncedStreamsReports = 1000;
  static constexpr double kDurationBuckets[] = {0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600};

  // Opens read-only connections to the store's SQLite file lazily. Errors: kConnection when it
  // cannot be opened.
  static Result<std::unique_ptr<History>> open(const std::string& path);
  // Connections to the store `config` names (SQLite or PostgreSQL); `masker` (may be null) learns
  // the password. Errors: kConnection when the store cannot be reached.
  static Result<std::unique_ptr<History>> open(const orchestrate::MetadataStoreConfig& config, SecretMasker* masker);
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  // Runs matching the filter, newest logical date first, and how many match in all.
  Result<RunPage> runs(const RunFilter& filter, int limit, int offset);
  // Every task instance of the given runs of one pipeline.
  Result<std::vector<orchestrate::TaskInstanceRecord>> task_instances(const std::string& pipeline,
                                                                      const std::vector<std::string>& run_ids);
  // Task instance counts by state of one run.
  Result<std::map<std::string, int64_t>> task_counts(const std::string& pipeline, const std::string& run_id);
  // Sync reports of a connection, newest first.
  Result<std::vector<orchestrate::SyncReportRecord>> sync_reports(const std::string& connection, int limit);
  // The streams a connection's latest kSyncedStreamsReports sync reports name, each with the mode
  // of its latest report ("" when absent), sorted by stream name. One indexed query over the
  // reports: no source access.
  Result<std::vector<SyncedStream>> synced_streams(const std::string& connection);
  // Test results of the latest `runs` runs (by pipeline and run id) that recorded any, oldest first.
  Result<std::vector<orchestrate::TestResultRecord>> recent_test_results(int runs);
  Result<std::vector<StateCount>> run_counts();
  Result<std::vector<StateCount>> task_counts_by_pipeline();
  Result<std::vector<DurationHistogram>> task_durations();
  Result<std::vector<RowsSynced>> rows_synced();

 private:
  using Session = std::unique_ptr<orchestrate::SqlSession>;
  using SessionFactory = std::function<Result<Session>()>;
  class Lease;
  History(SessionFactory connect, bool postgres) : connect_(std::move(connect)), postgres_(postgres) {}
  static Result<std::unique_ptr<History>> open_with(SessionFactory connect, bool postgres);
  Result<Session> acquire();
  void release(Session session);
  // Runs one query on a pooled connection.
  Result<orchestrate::SqlRows> query(const std::string& sql, const std::vector<orchestrate::SqlValue>& params);

  SessionFactory connect_;
  bool postgres_;
  std::mutex mutex_;
  std::vector<Session> idle_;
};

}  // namespace strata::server

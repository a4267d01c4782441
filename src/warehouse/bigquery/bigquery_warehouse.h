#pragma once
// The BigQuery adapter: BigQuery's REST API (v2) over libcurl, OAuth tokens from
// credentials.h. open_bigquery() returns a BigQueryDatabase; its connect() hands out sessions that
// share the credentials (one token cache) and own one HTTP connection each.
//
//   execute(sql)        jobs.insert (a query job, useLegacySql=false, the target's location,
//                       priority, maximumBytesBilled, labels, jobTimeoutMs), then jobs.get until DONE
//   query/query_stream  jobs.query (formatOptions.useInt64Timestamp), then jobs.getQueryResults
//                       until the job is complete and through every pageToken; each page becomes
//                       batches of up to 2048 rows handed on before the next page is fetched, so
//                       a stream holds one page at a time (values.h maps the types)
//   begin/commit/...    a BigQuery session (created by the first begin() with createSession, kept
//                       for the session's life; every later job carries its session_id) running
//                       BEGIN / COMMIT / ROLLBACK TRANSACTION
//   writer()/load()     rows as newline-delimited JSON, sent in chunks of at most
//                       load_chunk_bytes by load jobs through the multipart upload endpoint. Inside a
//                       transaction each chunk is loaded into a temporary table of the session and
//                       finish() runs `INSERT INTO target SELECT …` from it, so the rows commit or
//                       roll back with the transaction (load jobs themselves are not transactional)
//   relations/columns   tables.list / tables.get
//   interrupt()         jobs.cancel of the running job; the waiting call fails with kCancelled
//
// Thread-safety: BigQueryDatabase is thread-safe; a session is used by one thread at a time
// except interrupt(), which any thread may call.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "common/env.h"
#include "warehouse/bigquery/credentials.h"
#include "warehouse/bigquery/rest_client.h"
#include "warehouse/profile.h"
#include "warehouse/warehouse.h"

namespace strata::warehouse {

// Knobs a profile does not set (tests shrink them).
struct BigQueryTuning {
  size_t load_chunk_bytes = size_t{64} << 20;            // NDJSON bytes per load job
  std::chrono::milliseconds first_backoff{500};          // before the first retry
  std::chrono::milliseconds max_poll_interval{1000};     // between jobs.get polls (starts at 50 ms)
  long page_rows = 0;                                    // maxResults per result page; 0: BigQuery's
  EnvLookup env;                                         // GOOGLE_APPLICATION_CREDENTIALS, HOME,
                                                         // STRATA_BIGQUERY_API_URL; empty: the process'
};

// What every session of a target uses.
struct BigQuerySettings {
  std::string project, dataset, location, priority;
  long long maximum_bytes_billed = 0;
  int job_execution_timeout_seconds = 0;
  std::map<std::string, std::string> labels;
  bigquery::RestSettings rest;
  BigQueryTuning tuning;
};

class BigQueryDatabase final : public Database {
 public:
  BigQueryDatabase(BigQuerySettings settings, std::shared_ptr<bigquery::Credentials> credentials, SecretMasker* masker);
  const sql::Dialect& dialect() const override { return sql::bigquery_dialect(); }
  // Never fails: a session connects on its first request.
  Result<std::unique_ptr<Warehouse>> connect() override;

 private:
  BigQuerySettings settings_;
  std::shared_ptr<bigquery::Credentials> credentials_;
  SecretMasker* masker_;
};

class BigQueryBulkWriter;

class BigQueryWarehouse final : public Warehouse {
 public:
  BigQueryWarehouse(const BigQuerySettings& settings, std::shared_ptr<bigquery::Credentials> credentials,
                    SecretMasker* masker);

  const sql::Dialect& dialect() const override { return sql::bigquery_dialect(); }
  // Runs the text as one query job (BigQuery runs a multi-statement script as one job).
  Status execute(std::string_view sql) override;
  // The rows of the text's last statement (a script's last SELECT, as BigQuery returns them).
  Result<QueryResult> query(std::string_view sql) override;
  Status query_stream(std::string_view sql, const std::function<Status(const sql::ColumnBatch&)>& on_batch) override;
  // Errors: kFailed when a transaction is already open (begin) or none is (commit, rollback).
  Status begin() override;
  Status commit() override;
  // A transaction BigQuery already ended (it aborts one on a failed statement) counts as rolled back.
  Status rollback() override;
  // schema's columns go to the table's of the same names when every name is one of the table's,
  // else by position. Errors: kNotFound for a missing table, kFailed for a column count mismatch.
  Result<std::unique_ptr<BulkWriter>> writer(const Relation& relation, const sql::Schema& schema) override;
  Result<std::vector<RelationInfo>> relations(std::string_view schema) override;
  Result<std::vector<ColumnInfo>> columns(const Relation& relation) override;
  Result<bool> table_exists(const Relation& relation) override;
  void interrupt() override;

  // The BigQuery session id once begin() created one ("" before).
  const std::string& session_id() const { return session_id_; }

 private:
  friend class BigQueryBulkWriter;

  // A running job's reference.
  struct JobRef {
    std::string id, location;
  };
  // Resets the interrupt state at the start of each operation.
  void start_operation();
  std::string new_job_id();
  std::string project_path() const;  // "/projects/<project>"
  std::string location_param(const std::string& location, char first = '?') const;
  // The configuration.query of a job running `sql`.
  bigquery::Json query_configuration(std::string_view sql, bool create_session) const;
  // Adds labels and jobTimeoutMs to a Job's configuration.
  void add_job_options(bigquery::Json& configuration) const;
  // Inserts a job (configuration as for jobs.insert) and waits until it is DONE. Returns the Job.
  Result<bigquery::Json> run_job(bigquery::Json configuration);
  // Waits until `job` (a Job resource) is DONE; fails with its errorResult.
  Result<bigquery::Json> wait_job(bigquery::Json job);
  // jobs.cancel, on a client of its own (interrupt() and timeouts).
  void cancel_job(const JobRef& job);
  // Whether the job's time budget (job_execution_timeout_seconds) is spent.
  bool timed_out(std::chrono::steady_clock::time_point started) const;
  Error timeout_error() const;
  // tables.get; nullopt when the table does not exist.
  Result<std::optional<bigquery::Json>> get_table(const Relation& relation);
  std::string table_path(const Relation& relation) const;
  // Runs a statement in the session's transaction context (session id when one exists).
  Status run_statement(std::string_view sql, bool create_session = false);

  BigQuerySettings settings_;
  std::shared_ptr<bigquery::Credentials> credentials_;  // shared with the database's other sessions
  SecretMasker* masker_;
  bigquery::RestClient rest_;
  std::string session_id_;
  bool in_transaction_ = false;
  std::mt19937_64 random_;
  std::mutex job_mutex_;
  JobRef running_;  // guarded by job_mutex_
  std::atomic<bool> interrupted_{false};
};

// Opens a BigQuery target: builds its credentials (credentials.h) and fetches a first access token,
// so bad credentials fail at open. The API root is the target's api_endpoint, else
// $STRATA_BIGQUERY_API_URL, else https://bigquery.googleapis.com. masker (may be null, must outlive
// the database) receives private keys and tokens. Errors: kConfig for a missing or malformed key
// file and missing Application Default Credentials, kConnection when the token endpoint cannot
// be reached or refuses the credentials.
Result<std::unique_ptr<Database>> open_bigquery(const TargetConfig& target, SecretMasker* masker,
                                                BigQueryTuning tuning = {});

}  // namespace strata::warehouse

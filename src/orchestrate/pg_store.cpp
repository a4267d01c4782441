#include "orchestrate/pg_store.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <optional>
#include <thread>

#include "pg/connection.h"

namespace strata::orchestrate {
namespace {

// Numbered migrations; index + 1 is the version. Never edit one that shipped: append a new one.
// Version 1 is the schema SQLite reached with its second migration (runs keyed by pipeline and run id).
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE pipelines (
  name TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);
CREATE TABLE runs (
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
CREATE INDEX runs_by_pipeline ON runs (pipeline, logical_date);
CREATE INDEX runs_by_state ON runs (state);
CREATE INDEX runs_by_id ON runs (run_id);
CREATE TABLE task_instances (
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
CREATE TABLE attempts (
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
CREATE INDEX attempts_by_state ON attempts (state);
CREATE TABLE heartbeats (
  owner TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid BIGINT NOT NULL,
  started_at BIGINT NOT NULL,
  beat_at BIGINT NOT NULL
);
CREATE TABLE sync_reports (
  id BIGSERIAL PRIMARY KEY,
  pipeline TEXT NOT NULL DEFAULT '',
  run_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  connection TEXT NOT NULL,
  report TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX sync_reports_by_run ON sync_reports (pipeline, run_id);
CREATE INDEX sync_reports_by_connection ON sync_reports (connection, at);
CREATE TABLE test_results (
  id BIGSERIAL PRIMARY KEY,
  pipeline TEXT NOT NULL DEFAULT '',
  run_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  test_name TEXT NOT NULL,
  status TEXT NOT NULL,
  failures BIGINT NOT NULL,
  message TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX test_results_by_run ON test_results (pipeline, run_id);
)sql",
    // 2: the work queue of `strata worker` processes.
    kWorkQueueMigration,
    // 3: task instances by pool and state.
    kPoolIndexMigration,
    // 4: datasets (data-aware scheduling).
    kDatasetMigration,
    // 5: runs.note.
    kRunNoteMigration,
    // 6: task_instances.note.
    kTaskNoteMigration,
};

// The advisory lock key processes take while they create and migrate the schema ("strata_m").
constexpr const char* kMigrationLock = "SELECT pg_advisory_lock(7526675616645211501)";
constexpr const char* kMigrationUnlock = "SELECT pg_advisory_unlock(7526675616645211501)";

// A SqlSession on one libpq connection, reopened when it was lost.
class PgSession final : public SqlSession {
 public:
  PgSession(std::string conninfo, pg::ConnectOptions options, pg::Connection connection, std::string channel)
      : conninfo_(std::move(conninfo)), options_(std::move(options)), connection_(std::move(connection)),
        channel_(std::move(channel)) {}

  Result<int64_t> execute(const std::string& sql, const std::vector<SqlValue>& params) override {
    STRATA_ASSIGN(pg::PgResult result, run(sql, params));
    return result.affected_rows();
  }

  Result<SqlRows> query(const std::string& sql, const std::vector<SqlValue>& params) override {
    STRATA_ASSIGN(pg::PgResult result, run(sql, params));
    SqlRows rows;
    rows.reserve(static_cast<size_t>(result.rows()));
    for (int r = 0; r < result.rows(); ++r) {
      SqlRow row;
      row.values.reserve(static_cast<size_t>(result.columns()));
      for (int c = 0; c < result.columns(); ++c) row.values.emplace_back(result.value(r, c));
      rows.push_back(std::move(row));
    }
    return rows;
  }

  Status begin() override {
    STRATA_TRY(statement("BEGIN"));
    in_transaction_ = true;
    return ok_status();
  }
  // An advisory lock in the two-key space ("pool" and the name's hash), apart from the migration's.
  Status lock_until_end(const std::string& name) override {
    STRATA_TRY(execute("SELECT pg_advisory_xact_lock(1886351212, hashtext(?))", {name}));
    return ok_status();
  }
  Status commit() override {
    auto result = run("COMMIT", {});
    in_transaction_ = false;
    if (!result.ok()) return std::move(result).error();
    // An aborted transaction "commits" as a rollback.
    if (result->command_tag() != "COMMIT")
      return Error(ErrorCode::kFailed, "metadata store: the transaction was rolled back");
    return ok_status();
  }
  void rollback() override {
    in_transaction_ = false;
    (void)statement("ROLLBACK");
  }
  Status notify_work(const std::string& payload) override {
    // PostgreSQL refuses a payload of 8000 bytes or more (ids that long): then "look at everything".
    constexpr size_t kMaxPayload = 7999;
    STRATA_TRY(run("SELECT pg_notify(?, ?)",
                   {channel_, payload.size() <= kMaxPayload ? payload : work_signal_payload(WorkSignal{})}));
    return ok_status();
  }

 private:
  Status reconnect_if_lost() {
    if (connection_.ok()) return ok_status();
    auto reopened = pg::Connection::connect(conninfo_, options_);
    if (!reopened.ok()) return std::move(reopened).error().context("metadata store");
    connection_ = std::move(reopened).value();
    return ok_status();
  }

  Status statement(const std::string& sql) {
    STRATA_TRY(run(sql, {}));
    return ok_status();
  }

  // Without parameters: the simple protocol (several statements allowed: migrations).
  Result<pg::PgResult> run(const std::string& sql, const std::vector<SqlValue>& params) {
    // A new connection would run the rest of the transaction's statements outside it.
    if (in_transaction_ && !connection_.ok())
      return Error(ErrorCode::kConnection, "metadata store: the connection was lost in a transaction");
    STRATA_TRY(reconnect_if_lost());
    if (params.empty() && sql.find('?') == std::string::npos) {
      auto result = connection_.exec(sql);
      if (!result.ok()) return std::move(result).error().context("metadata store");
      return result;
    }
    auto cached = numbered_.find(sql);
    if (cached == numbered_.end()) cached = numbered_.emplace(sql, numbered_placeholders(sql)).first;
    std::vector<std::optional<std::string>> values;
    values.reserve(params.size());
    for (const auto& value : params) {
      if (const auto* n = std::get_if<int64_t>(&value))
        values.emplace_back(std::to_string(*n));
      else
        values.emplace_back(std::get<std::string>(value));
    }
    auto result = connection_.exec_params(cached->second, values);
    if (!result.ok()) return std::move(result).error().context("metadata store");
    return result;
  }

  std::string conninfo_;
  pg::ConnectOptions options_;
  pg::Connection connection_;
  std::string channel_;  // of notify_work
  bool in_transaction_ = false;  // between begin() and commit() / rollback()
  std::map<std::string, std::string> numbered_;  // SQL with `?` → with $n
};

// A connection that LISTENs to the store's work channel.
Result<pg::Connection> listen_to_work(const PgStoreOptions& options) {
  pg::ConnectOptions connect;
  connect.application_name = "strata-metadata-watch";
  connect.masker = options.masker;
  // Short: a reconnection in progress holds up the watch's destruction (the conninfo's own wins).
  connect.connect_timeout = std::chrono::seconds(2);
  STRATA_ASSIGN(pg::Connection connection, pg::Connection::connect(options.conninfo, connect));
  STRATA_TRY(connection.execute("LISTEN " + pg::Connection::quote_identifier(work_channel(options.schema))));
  return connection;
}

// PgStore's WorkWatch: a thread waiting on a LISTEN connection and on an eventfd that stops it.
class PgWorkWatch final : public WorkWatch {
 public:
  PgWorkWatch(PgStoreOptions options, WorkSignalHandler on_signal, pg::Connection connection, int wake_fd)
      : options_(std::move(options)), on_signal_(std::move(on_signal)), wake_fd_(wake_fd),
        thread_([this, c = std::move(connection)]() mutable { loop(std::move(c)); }) {}
  ~PgWorkWatch() override {
    stop_ = true;
    const uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
    thread_.join();
    ::close(wake_fd_);
  }
  PgWorkWatch(const PgWorkWatch&) = delete;
  PgWorkWatch& operator=(const PgWorkWatch&) = delete;

 private:
  void loop(pg::Connection connection) {
    bool lost = false;
    while (!stop_) {
      if (lost) {
        if (!pause(std::chrono::seconds(1))) return;
        auto again = listen_to_work(options_);
        if (!again.ok()) continue;
        connection = std::move(again).value();
        lost = false;
        on_signal_(WorkSignal{});  // what was sent meanwhile is gone
        continue;
      }
      auto received = connection.wait_notifications(std::chrono::seconds(1), wake_fd_);
      if (!received.ok()) {
        lost = true;
        continue;
      }
      for (const pg::Notification& n : *received)
        if (auto signal = parse_work_signal(n.payload)) on_signal_(*signal);
    }
  }
  // Waits `duration` unless stopped first; false when stopped.
  bool pause(std::chrono::milliseconds duration) {
    pollfd fd{wake_fd_, POLLIN, 0};
    (void)::poll(&fd, 1, static_cast<int>(duration.count()));
    return !stop_;
  }

  const PgStoreOptions options_;
  const WorkSignalHandler on_signal_;
  const int wake_fd_;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: started once the members above are set
};

}  // namespace

std::string work_channel(const std::string& schema) {
  std::string channel = "strata_work:" + schema;
  constexpr size_t kMaxChannel = 63;
  if (channel.size() > kMaxChannel) {
    size_t cut = kMaxChannel;
    while (cut > 0 && (static_cast<unsigned char>(channel[cut]) & 0xC0) == 0x80) --cut;  // not mid-character
    channel.resize(cut);
  }
  return channel;
}

Result<std::unique_ptr<WorkWatch>> PgStore::watch_work(WorkSignalHandler on_signal) {
  STRATA_ASSIGN(pg::Connection connection, listen_to_work(options_));
  const int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) return Error(ErrorCode::kInternal, "eventfd failed for the work watch");
  return std::unique_ptr<WorkWatch>(
      std::make_unique<PgWorkWatch>(options_, std::move(on_signal), std::move(connection), wake_fd));
}

std::string numbered_placeholders(const std::string& sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  char quote = 0;
  int n = 0;
  for (char c : sql) {
    if (quote) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      out += '$' + std::to_string(++n);
    } else {
      out += c;
    }
  }
  return out;
}

Result<std::unique_ptr<SqlSession>> open_pg_session(const PgStoreOptions& options) {
  if (options.schema.empty())
    return Error(ErrorCode::kConfig, "the PostgreSQL metadata store needs a schema name", {},
                 "set STRATA_METADATA_SCHEMA, or leave it unset for strata_meta");
  pg::ConnectOptions connect;
  connect.application_name = "strata-metadata";
  connect.masker = options.masker;
  // Allowed before the schema exists; every later (re)connection finds it.
  connect.session_sql = "SET search_path TO " + pg::Connection::quote_identifier(options.schema);
  auto connection = pg::Connection::connect(options.conninfo, connect);
  if (!connection.ok())
    return std::move(connection).error().context("cannot open the PostgreSQL metadata store");
  return std::unique_ptr<SqlSession>(std::make_unique<PgSession>(options.conninfo, connect,
                                                                 std::move(connection).value(),
                                                                 work_channel(options.schema)));
}

Result<std::unique_ptr<PgStore>> PgStore::open(const PgStoreOptions& options) {
  STRATA_ASSIGN(std::unique_ptr<SqlSession> session, open_pg_session(options));
  SqlSession& raw = *session;
  std::unique_ptr<PgStore> store(new PgStore(std::move(session), options));
  // The lock is the session's: a process that dies while migrating releases it with its connection.
  STRATA_TRY(raw.execute(kMigrationLock, {}));
  auto migrated = raw.execute("CREATE SCHEMA IF NOT EXISTS " + pg::Connection::quote_identifier(options.schema), {});
  Status status = migrated.ok() ? ok_status() : Status(std::move(migrated).error());
  if (status.ok())
    status = store->migrate(std::vector<const char*>(std::begin(kMigrations), std::end(kMigrations)), "");
  (void)raw.execute(kMigrationUnlock, {});
  STRATA_TRY(status);
  return store;
}

int PgStore::schema_version() { return applied_version(); }

}  // namespace strata::orchestrate

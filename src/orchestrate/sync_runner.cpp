#include "orchestrate/sync_runner.h"

#include <filesystem>

#include "common/json_text.h"
#include "common/time.h"
#include "ingest/sync.h"
#include "orchestrate/cancellable_database.h"

namespace strata::orchestrate {

namespace {

// The warehouse a connection's bronze goes to: the task's `target:` (a profiles.yml target, which
// wins over the connection's destination, as `strata sync --target` does), else the connection's
// duckdb_path, else its profiles.yml target.
Result<warehouse::Database*> destination(Databases& databases, const ingest::ConnectionConfig& config,
                                         const TaskSpec& task) {
  if (!config.destination.duckdb_path.empty() && task.target.empty()) {
    std::filesystem::path p(config.destination.duckdb_path);
    if (p.is_relative() && config.destination.duckdb_path != ":memory:") p = std::filesystem::path(config.project_dir) / p;
    return databases.duckdb_at(p.string());
  }
  const bool from_task = !task.target.empty();
  STRATA_ASSIGN(ResolvedTarget target, databases.target(from_task ? task.target : config.destination.target));
  return target.database;
}

// The ingest module names a bad stream as the CLI's flag ("--stream X is not a stream of …"); in a
// pipeline the stream comes from the task's `streams:`, so the message says so, located at the task.
Error reword_stream_error(Error error, const TaskSpec& task) {
  const std::string& message = error.message();
  for (const std::string& want : task.streams) {
    const std::string flag = "--stream " + want + " ";
    if (message.rfind(flag, 0) != 0) continue;
    return Error(ErrorCode::kConfig,
                 "stream " + want + " (task " + task.id + "'s streams:) " + message.substr(flag.size()), task.where,
                 error.hint());
  }
  return error;
}

}  // namespace

Result<TaskOutcome> SyncRunner::run(TaskContext& ctx) {
  const std::string path = ingest::connection_path(ctx.project_dir, ctx.command);
  std::string connection = std::filesystem::path(path).stem().string();
  const int64_t started = now_micros();
  bool reported = false;
  Result<TaskOutcome> outcome = sync(ctx, path, connection, reported);
  if (!outcome.ok() && !reported) {
    // No report (unreachable source, wrong password, locked warehouse, stopped early): the sync
    // history still records the failure, so the connection's last sync is not an older success.
    const nlohmann::json failure = {{"sync_id", ""},
                                    {"connection", connection},
                                    {"started_at", format_iso8601(started)},
                                    {"finished_at", format_iso8601(now_micros())},
                                    {"status", "failed"},
                                    {"error", masker_->mask(outcome.error().message())},
                                    {"streams", nlohmann::json::array()}};
    SyncReportRecord record{ctx.run.run_id, ctx.task.id, connection,
                            json_text(failure), now_micros(),
                            ctx.run.pipeline};
    Status stored = ctx.store.add_sync_report(record);
    if (!stored.ok()) ctx.log.line("warning: " + stored.error().message());
  }
  return outcome;
}

Result<TaskOutcome> SyncRunner::sync(TaskContext& ctx, const std::string& path, std::string& connection,
                                     bool& reported) {
  YamlOptions yaml;
  yaml.env = env_;
  yaml.masker = masker_.get();
  STRATA_ASSIGN(ingest::ConnectionConfig config, ingest::load_connection_config(path, yaml));
  connection = config.name;
  for (const std::string& warning : config.warnings) ctx.log.line(warning);
  // One sync per connection at a time: two would conflict writing the same bronze tables.
  std::error_code ec;
  const std::string key = std::filesystem::weakly_canonical(path, ec).string();
  STRATA_ASSIGN(KeyedLocks::Lease lease, connections_.acquire(ec ? path : key, ctx.cancel, [&] {
    ctx.log.line("connection " + config.name + " is syncing in another task; waiting for that sync to end");
  }));
  STRATA_ASSIGN(warehouse::Database * db, destination(databases_, config, ctx.task));
  CancellableDatabase cancellable(*db, ctx.cancel);
  ingest::SyncOptions options;
  options.only_streams = ctx.task.streams;
  options.full_refresh = ctx.task.full_refresh;
  options.masker = masker_.get();
  // The task's cancel (a timeout, the API, serve stopping) also cancels the source's statements,
  // so a read PostgreSQL makes wait (a lock) stops at once.
  // Shared with the callback, which cancel() may still be running when this returns.
  auto source_cancel = std::make_shared<pg::CancelGroup>();
  options.source_cancel = source_cancel.get();
  const int cancel_id = ctx.cancel.on_cancel([source_cancel] { source_cancel->cancel(); });
  struct Unregister {
    CancelToken& token;
    int id;
    ~Unregister() { token.remove(id); }
  } unregister{ctx.cancel, cancel_id};
  options.on_progress = [&ctx](const std::string& stream, uint64_t rows, uint64_t bytes, double seconds, double,
                               bool done) {
    if (done)
      ctx.log.line("stream " + stream + ": " + std::to_string(rows) + " rows, " + std::to_string(bytes) +
                   " bytes in " + std::to_string(seconds) + " s");
  };
  ctx.log.line("syncing connection " + config.name + " (" + path + ")");
  auto report = ingest::run_sync(config, cancellable, options);
  if (!report.ok() && ctx.cancel.cancelled())
    return Error(ErrorCode::kCancelled, "sync stopped: " + ctx.cancel.reason());
  if (!report.ok()) return reword_stream_error(std::move(report).error(), ctx.task);
  // A stopped sync still stores its report: the streams committed before the stop are in bronze
  // (as `strata sync` does after Ctrl-C).
  const nlohmann::json json = ingest::report_to_json(*report);
  ctx.log.write(ingest::report_to_text(*report));
  SyncReportRecord record{ctx.run.run_id, ctx.task.id, config.name,
                          json_text(json), now_micros(),
                          ctx.run.pipeline};
  STRATA_TRY(ctx.store.add_sync_report(record));
  reported = true;
  Status stored = ingest::store_report(*report, ctx.project_dir + "/.strata/syncs");
  if (!stored.ok()) ctx.log.line("warning: " + stored.error().message());
  if (ctx.cancel.cancelled()) return Error(ErrorCode::kCancelled, "sync stopped: " + ctx.cancel.reason());
  if (!report->ok()) {
    size_t failed = 0;
    for (const auto& s : report->streams) failed += s.ok ? 0 : 1;
    return Error(ErrorCode::kFailed, std::to_string(failed) + " of " + std::to_string(report->streams.size()) +
                                         " streams of " + config.name + " failed; their bronze tables are unchanged");
  }
  return TaskOutcome::kSuccess;
}

}  // namespace strata::orchestrate

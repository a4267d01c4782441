// strata sync CONN [--stream S …] [--full-refresh] [--json] [--project-dir D] [--target T]: copies
// the connection's streams into bronze, exactly once. Shows progress on a terminal (stderr),
// prints a per-stream report and stores it as JSON in <project>/.strata/syncs/ and in the
// metadata store (.strata/strata.db, where the UI's sync history reads it). Ctrl-C or SIGTERM
// stops the stream being read (nothing of it is committed) and the ones after it; the report of
// the streams committed before is still printed and stored. Exit codes: 0 all streams succeeded,
// 1 a stream failed, 2 bad configuration or usage, 3 source unreachable, 130/143 interrupted by
// SIGINT/SIGTERM.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/app.h"
#include "cli/demo/interrupt_watcher.h"
#include "common/json_text.h"
#include "common/time.h"
#include "ingest/destination.h"
#include "ingest/sync.h"
#include "orchestrate/cancellable_database.h"
#include "orchestrate/store_factory.h"

namespace strata::cli {
namespace {

struct SyncFlags {
  std::string connection;
  std::string project_dir = ".";
  std::string target;
  std::vector<std::string> streams;
  bool full_refresh = false;
  bool json = false;
};

// "public.orders  1234567 rows  45.2 MB/s  37%" rewritten in place on a terminal.
// One progress line on the terminal, rewritten in place while a stream reads and ended when it
// is done (a finished line shows no percentage: the estimate is only a guide). end() ends a line a
// failed stream left open.
class ProgressLine {
 public:
  void print(const std::string& stream, uint64_t rows, uint64_t bytes, double seconds, double estimated, bool done) {
    double mbps = seconds > 0 ? static_cast<double>(bytes) / 1e6 / seconds : 0;
    char pct[32] = "";
    if (estimated > 0 && !done) {
      std::snprintf(pct, sizeof pct, "  %3.0f%%", std::min(100.0, 100.0 * static_cast<double>(rows) / estimated));
    }
    std::fprintf(stderr, "\r\033[K%s  %llu rows  %.1f MB/s%s%s", stream.c_str(),
                 static_cast<unsigned long long>(rows), mbps, pct, done ? "\n" : "");
    std::fflush(stderr);
    open_ = !done;
  }
  void end() {
    if (open_) std::fputs("\n", stderr);
    open_ = false;
  }

 private:
  bool open_ = false;
};

// Stores the report where the UI reads sync history: the project's metadata store
// (open_metadata_store: .strata/strata.db, created if missing, or STRATA_METADATA_URL's
// PostgreSQL), as a sync outside any pipeline run (run_id "", task_id "cli"). Errors: the
// store's (open, write).
Status store_in_metadata(const ingest::SyncReport& report, const std::string& project_dir, const EnvLookup& env,
                         SecretMasker* masker) {
  STRATA_ASSIGN(auto store, orchestrate::open_metadata_store(project_dir, masker, env));
  orchestrate::SyncReportRecord record{"", "cli", report.connection, json_text(ingest::report_to_json(report)), now_micros()};
  return store->add_sync_report(record);
}

// `strata sync --json`'s output when the sync stops before its report: the error as JSON, so a
// machine reading stdout gets an answer either way (the text still goes to stderr).
nlohmann::json error_json(const Error& error, const SecretMasker& masker) {
  nlohmann::json e = {{"message", masker.mask(error.message())}, {"exit_code", error.exit_code()}};
  if (!error.hint().empty()) e["hint"] = masker.mask(error.hint());
  if (!error.where().file.empty()) {
    e["file"] = error.where().file;
    if (error.where().line > 0) e["line"] = error.where().line;
    if (error.where().column > 0) e["column"] = error.where().column;
  }
  return {{"status", "error"}, {"error", e}};
}

Status run_sync_command(const SyncFlags& flags, CliContext& context, bool& reported) {
  YamlOptions yaml;
  yaml.env = context.env;
  yaml.masker = context.logger.masker().get();
  STRATA_ASSIGN(ingest::ConnectionConfig config,
                ingest::load_connection_config(ingest::connection_path(flags.project_dir, flags.connection), yaml));
  for (const std::string& warning : config.warnings) context.err << warning << "\n";
  ingest::SyncOptions options;
  options.only_streams = flags.streams;
  options.full_refresh = flags.full_refresh;
  options.masker = yaml.masker;
  options.staging_threads = 1;  // this process owns the database (see SyncOptions)
  options.staging_memory = ingest::kStagingMemory;
  ProgressLine progress;
  if (!flags.json && ::isatty(STDERR_FILENO)) {
    options.on_progress = [&progress](const std::string& stream, uint64_t rows, uint64_t bytes, double seconds,
                                      double estimated, bool done) {
      progress.print(stream, rows, bytes, seconds, estimated, done);
    };
  }
  // A signal cancels the token, which interrupts the warehouse's sessions, and the source's
  // statements, so the read stops even while PostgreSQL makes it wait.
  orchestrate::CancelToken cancel;
  pg::CancelGroup source_cancel;
  options.source_cancel = &source_cancel;
  demo::InterruptWatcher interrupts;
  interrupts.on_interrupt([&cancel, &source_cancel] {
    cancel.cancel("interrupted by a signal");
    source_cancel.cancel();
  });
  // The destination opens while the source is discovered (see run_sync), behind the token;
  // closed when this returns (`db`, the token's wrapper, first), and then removed if this sync
  // created it and failed before its streams ran.
  STRATA_ASSIGN(const ingest::Destination destination,
                ingest::resolve_destination(config, context.env, yaml.masker, flags.target));
  ingest::CreatedDatabaseCleanup created(destination);
  std::unique_ptr<warehouse::Database> opened, db;
  const ingest::DatabaseOpener open = [&]() -> Result<std::unique_ptr<warehouse::Database>> {
    STRATA_ASSIGN(opened, ingest::open_destination(destination));
    return std::unique_ptr<warehouse::Database>(std::make_unique<orchestrate::CancellableDatabase>(*opened, cancel));
  };
  Result<ingest::SyncReport> ran = ingest::run_sync(config, open, options, db);
  progress.end();
  if (ran.ok()) created.keep();
  if (!ran.ok()) {
    if (cancel.cancelled()) context.interrupted_exit_code = interrupts.exit_code();
    return std::move(ran).error();
  }
  ingest::SyncReport report = std::move(*ran);
  std::string dir = (std::filesystem::path(config.project_dir) / ".strata" / "syncs").string();
  Status stored = ingest::store_report(report, dir);
  if (stored.ok()) stored = store_in_metadata(report, config.project_dir, context.env, yaml.masker);
  if (flags.json) {
    context.out << json_text(ingest::report_to_json(report), 2) << "\n";
  } else {
    context.out << ingest::report_to_text(report);
  }
  reported = true;
  if (!stored.ok()) context.err << "warning: " << stored.error().message() << "\n";
  if (!report.ok() && cancel.cancelled()) {
    size_t committed = 0;
    for (const auto& s : report.streams) committed += s.ok ? 1 : 0;
    context.interrupted_exit_code = interrupts.exit_code();
    return Error(ErrorCode::kCancelled,
                 "sync interrupted: " + std::to_string(committed) + " of " + std::to_string(report.streams.size()) +
                     " streams committed; the others' bronze tables and state are unchanged",
                 {}, "run strata sync again to resume from the last commit");
  }
  if (!report.ok()) {
    size_t failed = 0, unreachable = 0;
    for (const auto& s : report.streams) {
      failed += s.ok ? 0 : 1;
      unreachable += s.unreachable ? 1 : 0;
    }
    // Exit 3 when the source could not be reached for every stream that failed.
    const bool lost = unreachable == failed;
    return Error(lost ? ErrorCode::kConnection : ErrorCode::kFailed,
                 std::to_string(failed) + " of " + std::to_string(report.streams.size()) + " streams failed" +
                     (lost ? " because the source could not be reached" : "") +
                     "; their bronze tables and state are unchanged",
                 {}, "fix the cause and run strata sync again; it resumes from the last commit");
  }
  return ok_status();
}

}  // namespace

void register_sync(CLI::App& app, CliContext& context) {
  auto* cmd = app.add_subcommand("sync", "Copy a connection's streams from PostgreSQL into bronze");
  auto flags = std::make_shared<SyncFlags>();
  cmd->add_option("connection", flags->connection, "A connection name (connections/<name>.yml) or a .yml file")
      ->required();
  cmd->add_option("--stream", flags->streams, "Only this stream (schema.table); repeatable");
  cmd->add_flag("--full-refresh", flags->full_refresh, "Ignore cursors and rebuild the selected streams");
  cmd->add_flag("--json", flags->json, "Print the report as JSON");
  cmd->add_option("--project-dir", flags->project_dir, "The project folder holding connections/ (default: .)");
  cmd->add_option("--target", flags->target, "The profiles.yml target to load into (default: the connection's)");
  bind_action(*cmd, context, [flags, &context]() -> Status {
    bool reported = false;
    Status status = run_sync_command(*flags, context, reported);
    if (!status.ok() && flags->json && !reported) {
      context.out << json_text(error_json(status.error(), *context.logger.masker()), 2) << "\n";
    }
    return status;
  });
}

}  // namespace strata::cli

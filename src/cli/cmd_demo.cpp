// `strata demo`: a throwaway PostgreSQL (or $NOVADRIVE_PG_URL) with the NovaDrive ERP, the hourly
// pipeline run once against examples/novadrive, a summary, and — with --serve — the UI with a live
// source and the schedule. Ctrl-C stops everything it started and removes the throwaway server.

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "cli/app.h"
#include "cli/demo/demo_stages.h"
#include "cli/demo/demo_summary.h"
#include "cli/demo/erp_source.h"
#include "cli/demo/interrupt_watcher.h"
#include "cli/demo/pipeline_report.h"
#include "cli/demo/process.h"
#include "cli/demo/throwaway_pg.h"

namespace strata::cli {
namespace {
namespace fs = std::filesystem;

struct DemoArgs {
  demo::ErpOptions erp;
  std::string project;
  bool serve = false;
  std::string every;
  int port = 8080;
  double live_rate = 2.0;
};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// "1m" -> "*/1 * * * *", "2h" -> "0 */2 * * *". Errors: kUsage for anything else.
Result<std::string> every_to_cron(const std::string& every) {
  if (every.size() >= 2 && (every.back() == 'm' || every.back() == 'h')) {
    const std::string digits = every.substr(0, every.size() - 1);
    if (digits.find_first_not_of("0123456789") == std::string::npos) {
      const int n = std::stoi(digits);
      if (every.back() == 'm' && n >= 1 && n <= 59) return fmt::format("*/{} * * * *", n);
      if (every.back() == 'h' && n >= 1 && n <= 23) return fmt::format("0 */{} * * *", n);
    }
  }
  return Error(ErrorCode::kUsage, "--every '" + every + "' is not an interval Strata can schedule", {},
               "use minutes (1m … 59m) or hours (1h … 23h), e.g. --every 1m");
}

// The source database: $NOVADRIVE_PG_URL, or a fresh database `novadrive` on a throwaway server.
Result<std::string> prepare_source(CliContext& context, std::shared_ptr<demo::ThrowawayPostgres>& server,
                                   demo::InterruptWatcher& watcher) {
  if (auto url = context.env("NOVADRIVE_PG_URL"); url && !url->empty()) {
    context.out << "Source: NOVADRIVE_PG_URL\n";
    return *url;
  }
  context.out << "Starting a throwaway PostgreSQL…\n" << std::flush;
  STRATA_ASSIGN(auto started, demo::ThrowawayPostgres::start(context.logger));
  server = std::move(started);
  watcher.on_forced_exit([server] { server->stop(); });
  STRATA_ASSIGN(auto admin, pg::Connection::connect(server->url("postgres")));
  STRATA_TRY(admin.execute("CREATE DATABASE novadrive"));
  context.out << fmt::format("  PostgreSQL {} on {}:{} (data in {})\n", admin.server_version() / 10000,
                             server->host(), server->port(), server->root());
  return server->url("novadrive");
}

Status create_source(CliContext& context, const std::string& url, const DemoArgs& args,
                     demo::InterruptWatcher& watcher) {
  pg::ConnectOptions options;
  options.masker = context.logger.masker().get();
  STRATA_ASSIGN(auto conn, pg::Connection::connect(url, options));
  watcher.on_interrupt([canceller = conn.canceller()] { (void)canceller.cancel(); });
  context.out << fmt::format("Creating the NovaDrive ERP (scale {}, {} sales)…\n", args.erp.scale,
                             demo::erp_sizes(args.erp.scale).vendas)
              << std::flush;
  return demo::create_erp(conn, args.erp, [&](const std::string& label, double seconds) {
    context.out << fmt::format("  {:<40} {:>7.2f} s\n", label, seconds) << std::flush;
  });
}

void print_summary(CliContext& context, const std::vector<demo::StageResult>& stages, const demo::TestTally& tests,
                   double source_seconds, const std::string& duckdb_path) {
  context.out << "\nTime per stage\n" << fmt::format("  {:<12} {:>8.2f} s\n", "source", source_seconds);
  for (const auto& s : stages) context.out << fmt::format("  {:<12} {:>8.2f} s\n", s.name, s.seconds);
  if (auto counts = demo::count_layers(duckdb_path); counts.ok()) {
    context.out << "\nRows per layer\n";
    for (const std::string layer : {"bronze", "silver", "gold"}) {
      const auto& tables = (*counts)[layer];
      std::int64_t total = 0;
      std::string detail;
      for (const auto& [table, rows] : tables) {
        total += rows;
        detail += fmt::format("{}{} {}", detail.empty() ? "" : ", ", table, rows);
      }
      context.out << fmt::format("  {:<7} {:>10} rows  ({})\n", layer, total, detail);
    }
  } else {
    context.out << "\nRows per layer: unavailable (" << counts.error().message() << ")\n";
  }
  context.out << fmt::format("\nTests: {} passed, {} warned, {} failed\n", tests.passed, tests.warned, tests.failed);
  if (auto preview = demo::gold_preview(duckdb_path); preview.ok())
    context.out << "\nTop dealerships by revenue (gold.revenue_by_dealership)\n" << *preview;
}

// --serve: the UI and scheduler (`strata serve`) as a child, the live source in this thread.
Status serve(CliContext& context, const DemoArgs& args, const std::string& url,
             const std::map<std::string, std::string>& env, const std::string& project,
             demo::InterruptWatcher& watcher) {
  demo::SpawnOptions options;
  options.cwd = project;
  options.env = env;
  options.new_group = true;
  options.output_path = project + "/.strata/demo/serve.log";
  STRATA_ASSIGN(pid_t pid, demo::spawn_process({demo::self_executable(), "serve", "--port", std::to_string(args.port)},
                                               options));
  watcher.on_forced_exit([pid] { ::kill(-pid, SIGKILL); });
  context.out << fmt::format("\nServing the UI on http://127.0.0.1:{} (log: {})\n", args.port, options.output_path)
              << fmt::format("Live source: {} changes per second. Ctrl-C stops everything.\n", args.live_rate)
              << std::flush;
  STRATA_ASSIGN(auto conn, pg::Connection::connect(url));
  demo::LiveOptions live;
  live.rate = args.live_rate;
  live.first_tick = 1;
  auto applied = demo::run_live(conn, args.erp, live, [&](std::chrono::milliseconds d) {
    return watcher.sleep_for(d) && !demo::wait_process_for(pid, std::chrono::milliseconds(0));
  });
  ::kill(-pid, SIGINT);
  if (!demo::wait_process_for(pid, std::chrono::seconds(10))) {
    ::kill(-pid, SIGKILL);
    demo::wait_process(pid);
  }
  if (!applied.ok() && !watcher.interrupted()) return std::move(applied).error();
  context.out << fmt::format("Stopped after {} live changes.\n", applied.ok() ? *applied : 0);
  return ok_status();
}

Status run_demo(CliContext& context, const DemoArgs& args) {
  demo::InterruptWatcher watcher;
  std::string every_cron;
  if (!args.every.empty()) { STRATA_ASSIGN(every_cron, every_to_cron(args.every)); }
  STRATA_ASSIGN(const std::string project, demo::find_project(args.project));
  std::shared_ptr<demo::ThrowawayPostgres> server;
  const auto source_started = Clock::now();
  auto interrupted = [&]() -> Status {
    if (server) server->stop();
    context.interrupted_exit_code = watcher.exit_code();
    return Error(ErrorCode::kCancelled, "strata demo interrupted; everything it started is stopped");
  };
  auto url = prepare_source(context, server, watcher);
  if (watcher.interrupted()) return interrupted();
  if (!url.ok()) return std::move(url).error();
  Status created = create_source(context, *url, args, watcher);
  if (watcher.interrupted()) return interrupted();
  STRATA_TRY(created);
  const double source_seconds = seconds_since(source_started);

  const std::string duckdb_path = project + "/.strata/novadrive.duckdb";
  std::error_code ignored;
  fs::remove(duckdb_path, ignored);
  fs::remove(duckdb_path + ".wal", ignored);
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(project + "/.strata/strata.db" + suffix, ignored);
  fs::create_directories(project + "/.strata/demo", ignored);
  STRATA_ASSIGN(auto env, demo::source_env(*url));
  env["NOVADRIVE_DUCKDB_PATH"] = duckdb_path;
  env["NOVADRIVE_TARGET"] = "dev";
  if (!every_cron.empty()) env["NOVADRIVE_SCHEDULE"] = every_cron;

  const std::string binary = demo::self_executable();
  std::vector<demo::StageResult> results;
  context.out << "Running the pipeline (project " << project << ")…\n" << std::flush;
  for (const auto& stage : demo::pipeline_stages(binary, project)) {
    const std::string log = project + "/.strata/demo/" + stage.name + ".log";
    fs::remove(log, ignored);
    auto result = demo::run_stage(binary, stage, project, env, log, watcher);
    if (watcher.interrupted() || !result.ok()) return watcher.interrupted() ? interrupted() : std::move(result).error();
    context.out << fmt::format("  {:<10} {:<6} {:>8.2f} s  (log: {})\n", stage.name,
                               result->exit_code == 0 ? "ok" : "FAILED", result->seconds, log)
                << std::flush;
    results.push_back(*result);
    if (result->exit_code != 0) {
      context.err << demo::file_tail(log, 25);
      if (server) server->stop();
      return Error(ErrorCode::kFailed, "the " + stage.name + " stage failed (exit " +
                                           std::to_string(result->exit_code) + "); its log: " + log);
    }
  }
  // A pipeline run is one child process: its stages and tests come from the metadata store.
  demo::TestTally tests;
  for (const auto& r : results) tests.add(r.tests);
  if (results.size() == 1 && results.front().name == "pipeline") {
    if (auto report = demo::read_pipeline_report(project, "novadrive_hourly"); report.ok()) {
      results = report->stages;
      tests = report->tests;
    }
  }
  print_summary(context, results, tests, source_seconds, duckdb_path);
  if (args.serve) {
    Status served = serve(context, args, *url, env, project, watcher);
    if (server) server->stop();
    return served;
  }
  context.out << "\nNext: `strata demo --serve` starts the web UI with a live source and the hourly schedule\n"
                 "      (`--every 1m` to watch it tick). The warehouse stays in "
              << duckdb_path << ".\n";
  if (server) {
    server->stop();
    context.out << "The throwaway PostgreSQL is stopped and removed.\n";
  }
  return ok_status();
}

}  // namespace

void register_demo(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand(
      "demo", "Run the NovaDrive demo: a throwaway PostgreSQL, the hourly pipeline once, a summary");
  cmd->add_option("--scale", args->erp.scale, "ERP size: 1 = about 100,000 sales")->check(CLI::PositiveNumber);
  cmd->add_option("--seed", args->erp.seed, "Seed of the generated data");
  cmd->add_option("--project", args->project, "The NovaDrive project folder (default: examples/novadrive)");
  cmd->add_flag("--serve", args->serve, "Then start the web UI with a live source and the schedule");
  cmd->add_option("--every", args->every, "With --serve: run the pipeline this often instead of hourly (e.g. 1m)");
  cmd->add_option("--port", args->port, "With --serve: the UI's port")->check(CLI::Range(1, 65535));
  cmd->add_option("--live-rate", args->live_rate, "With --serve: live source changes per second")
      ->check(CLI::PositiveNumber);
  bind_action(*cmd, context, [&context, args]() -> Status { return run_demo(context, *args); });
}

}  // namespace strata::cli

// `strata worker`: a task-level worker for schedulers running with `--executor workers` (Airflow's
// Celery worker, with the PostgreSQL metadata store as its broker). It opens the same project as
// the schedulers (its runners: shell, sql, sync, build, test, freshness) and the store named by
// STRATA_METADATA_URL, then claims and runs the queued attempts of its queues until
// SIGINT/SIGTERM, when it stops claiming, cancels the attempts it runs (they end failed, and the
// scheduler's retry policy applies) and exits 0. A SQLite store is refused (exit 2): a worker is
// for other processes or machines, which cannot share one SQLite file safely.
#include <unistd.h>

#include <mutex>

#include "cli/app.h"
#include "cli/stop_signals.h"
#include "common/strings.h"
#include "orchestrate/runtime.h"
#include "orchestrate/scheduler.h"
#include "orchestrate/worker.h"

namespace strata::cli {
namespace {

struct WorkerArgs {
  std::string project_dir = ".";
  std::vector<std::string> queues = {"default"};
  int concurrency = 4;
  double heartbeat_interval = 5.0;  // seconds
  double poll_interval = 0.5;       // seconds
};

int64_t micros(double seconds) { return static_cast<int64_t>(seconds * 1e6); }

Status run_worker(const WorkerArgs& args, CliContext& context) {
  const EnvLookup env = context.env ? context.env : process_env();
  STRATA_ASSIGN(auto store_config, orchestrate::metadata_store_config(args.project_dir, env));
  if (store_config.kind != orchestrate::MetadataStoreConfig::Kind::kPostgres)
    return Error(ErrorCode::kUsage, "strata worker needs the PostgreSQL metadata store its schedulers share", {},
                 "set STRATA_METADATA_URL (as for `strata scheduler --executor workers`); a SQLite file cannot be "
                 "shared with workers on other machines");
  for (const auto& queue : args.queues)
    if (queue.empty())
      return Error(ErrorCode::kUsage, "--queues has an empty queue name", {}, "e.g. --queues default,special");
  const sigset_t signals = block_stop_signals();

  orchestrate::RuntimeOptions options;
  options.project_dir = args.project_dir;
  options.masker = context.logger.masker();
  options.env = env;
  STRATA_ASSIGN(auto rt, orchestrate::Runtime::open(options));
  orchestrate::WorkerOptions wo;
  wo.id = orchestrate::host_name() + ":" + std::to_string(::getpid());
  wo.queues = args.queues;
  wo.concurrency = args.concurrency;
  wo.heartbeat_interval = micros(args.heartbeat_interval);
  wo.poll_interval = micros(args.poll_interval);
  wo.log_ship_interval = std::min<int64_t>(wo.log_ship_interval, wo.heartbeat_interval);
  wo.project_dir = args.project_dir;
  wo.log_root = args.project_dir + "/.strata/worker_logs";
  orchestrate::Runtime* runtime = rt.get();
  // The worker's copy of a pipeline with the task; a pipeline or task it does not know re-reads
  // pipelines/ once (a file deployed or changed after the worker started). Item threads call it at
  // once: reloads take turns.
  auto reload_mutex = std::make_shared<std::mutex>();
  using SpecPtr = std::shared_ptr<const orchestrate::PipelineSpec>;
  auto lookup = [runtime, reload_mutex](const std::string& name, const std::string& task_id) -> SpecPtr {
    auto known = [&] {
      auto spec = runtime->pipeline(name);
      return spec && spec->find_task(task_id) ? spec : nullptr;
    };
    if (auto spec = known()) return spec;
    std::lock_guard lock(*reload_mutex);
    if (auto spec = known()) return spec;
    runtime->reload_pipelines();
    return runtime->pipeline(name);
  };
  orchestrate::Worker worker(rt->store(), rt->runners(), lookup, wo, context.logger);
  context.logger.info("worker {} serving queue(s) {} with {} slot(s) for {} (metadata: {})", wo.id,
                      join(wo.queues, ","), wo.concurrency, args.project_dir, rt->store_config().describe());
  serve_until_signal(signals, [&] { worker.serve(); }, [&] { worker.stop(); });
  context.logger.info("worker {} stopped", wo.id);
  return ok_status();
}

}  // namespace

void register_worker(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<WorkerArgs>();
  auto* cmd = app.add_subcommand(
      "worker",
      "Run the task attempts that schedulers started with --executor workers enqueue in the PostgreSQL metadata "
      "store (STRATA_METADATA_URL); start any number, on any machine with the project");
  cmd->add_option("--project-dir", args->project_dir, "The project folder (the same as the schedulers')")
      ->capture_default_str();
  cmd->add_option("--queues", args->queues, "The queues to serve, comma-separated (a task's `queue:`)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--concurrency", args->concurrency, "Attempts running at once")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--heartbeat-interval", args->heartbeat_interval,
                  "Seconds between heartbeats (and looks for cancel requests, which a PostgreSQL store also "
                  "signals at once) of a running attempt")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--poll-interval", args->poll_interval, "Seconds between looks for queued attempts (a PostgreSQL store also signals "
                  "them at once, and is looked at every 5 s or this, whichever is longer)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  bind_action(*cmd, context, [args, &context]() -> Status { return run_worker(*args, context); });
}

}  // namespace strata::cli

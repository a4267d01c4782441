// `strata serve`: the scheduler, the executor, the web UI and the HTTP API in one process until
// SIGINT/SIGTERM. `strata scheduler`: the same without the web UI and API, for scale-out: several
// of them (and `strata serve`s) share one PostgreSQL metadata store (STRATA_METADATA_URL), each
// creates the due runs (a run created twice is one run), claims queued runs atomically and
// executes the ones it claimed with its own executor; a process that dies has its runs recovered
// by the others (Scheduler::recover). With `--executor workers` (or STRATA_EXECUTOR=workers) the
// executor runs no task itself: `strata worker` processes (cmd_worker.cpp) run the attempts it
// enqueues in the store (remote_runner.h).


#include "cli/app.h"
#include "cli/stop_signals.h"
#include "orchestrate/runtime.h"
#include "server/serve.h"

namespace strata::cli {
namespace {

struct ServeArgs {
  std::string project_dir = ".";
  std::string host = "127.0.0.1";
  int port = 8080;
  int workers = 16;
  int max_runs = 0;
  std::string executor;          // "local" or "workers"; empty: STRATA_EXECUTOR, else local
  double worker_timeout = 30.0;  // seconds without a worker heartbeat before its attempt fails
  double queued_timeout = 600.0;  // seconds an attempt may wait for a worker to claim it
};

// The executor mode from --executor, else STRATA_EXECUTOR, else local. Errors: kUsage.
Result<orchestrate::ExecutorMode> executor_mode(const ServeArgs& args, const EnvLookup& env) {
  std::string name = args.executor;
  if (name.empty() && env) name = env("STRATA_EXECUTOR").value_or("");
  if (name.empty()) return orchestrate::ExecutorMode::kLocal;
  if (auto mode = orchestrate::parse_executor_mode(name)) return *mode;
  return Error(ErrorCode::kUsage, "unknown executor '" + name + "'", {},
               "use local (tasks run in this process) or workers (tasks run on `strata worker` processes)");
}

// Adds the executor options shared by `serve` and `scheduler`.
void add_executor_options(CLI::App& cmd, ServeArgs& args) {
  cmd.add_option("--executor", args.executor,
                 "Where tasks run: local (this process) or workers (`strata worker` processes sharing the "
                 "PostgreSQL metadata store); default STRATA_EXECUTOR, else local");
  cmd.add_option("--worker-timeout", args.worker_timeout,
                 "With --executor workers: seconds without a worker heartbeat before its attempt fails")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--queued-timeout", args.queued_timeout,
                 "With --executor workers: seconds an attempt may wait for a worker to claim it before it fails "
                 "(and is retried), as Airflow's task_queued_timeout")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

// Runs the scheduler loop until SIGINT/SIGTERM; with `http`, the web UI and API too.
Status serve_until_stopped(const ServeArgs& args, CliContext& context, bool http) {
  // Block the stop signals in every thread; one thread waits for them.
  const sigset_t signals = block_stop_signals();
  orchestrate::RuntimeOptions options;
  options.project_dir = args.project_dir;
  options.workers = args.workers;
  options.max_runs = args.max_runs;
  options.masker = context.logger.masker();
  if (context.env) options.env = context.env;
  STRATA_ASSIGN(options.executor, executor_mode(args, context.env));
  options.worker_timeout = static_cast<int64_t>(args.worker_timeout * 1e6);
  options.queued_timeout = static_cast<int64_t>(args.queued_timeout * 1e6);
  STRATA_ASSIGN(auto rt, orchestrate::Runtime::open(options));
  STRATA_TRY(rt->start());
  STRATA_ASSIGN(int recovered, rt->scheduler().recover());
  context.logger.info("{} {} pipeline(s) from {} (metadata: {}; executor: {}); {} run(s) recovered",
                      http ? "serving" : "scheduling", rt->pipelines().size(), args.project_dir,
                      rt->store_config().describe(),
                      options.executor == orchestrate::ExecutorMode::kWorkers ? "workers" : "local", recovered);
  std::unique_ptr<server::Server> server;
  if (http) {
    STRATA_ASSIGN(server, server::start_for_runtime(*rt, args.host, args.port, context.logger));
  }
  serve_until_signal(signals, [&] { rt->scheduler().serve(); }, [&] { rt->scheduler().stop(); });
  // What the executor's shutdown does, as Airflow does to the tasks of a stopped worker.
  context.logger.info("stopping: running attempts are cancelled; one with retries left becomes up_for_retry and "
                      "runs again when a later scheduler resumes its run, one without fails");
  return ok_status();
}

}  // namespace

void register_serve(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "Run the scheduler, the task executor, the web UI and the HTTP API");
  cmd->add_option("--project-dir", args->project_dir, "The project folder")->capture_default_str();
  cmd->add_option("--port", args->port, "HTTP port for the API and UI")->capture_default_str();
  cmd->add_option("--host", args->host, "Address to bind; other than loopback needs a token (STRATA_API_TOKEN)")
      ->capture_default_str();
  cmd->add_option("--workers", args->workers, "Executor threads")->capture_default_str();
  cmd->add_option("--max-runs", args->max_runs, "At most this many runs executing in this process (0 = no limit)")
      ->capture_default_str();
  add_executor_options(*cmd, *args);
  bind_action(*cmd, context, [args, &context]() -> Status { return serve_until_stopped(*args, context, true); });

  auto sched_args = std::make_shared<ServeArgs>();
  auto* sched = app.add_subcommand(
      "scheduler",
      "Run the scheduler and the task executor without the web UI: start several (on one or more machines) "
      "sharing a PostgreSQL metadata store (STRATA_METADATA_URL) to scale out");
  sched->add_option("--project-dir", sched_args->project_dir, "The project folder")->capture_default_str();
  sched->add_option("--workers", sched_args->workers, "Executor threads")->capture_default_str();
  sched->add_option("--max-runs", sched_args->max_runs,
                    "At most this many runs executing in this process (0 = no limit); spreads runs across schedulers")
      ->capture_default_str();
  add_executor_options(*sched, *sched_args);
  bind_action(*sched, context,
              [sched_args, &context]() -> Status { return serve_until_stopped(*sched_args, context, false); });
}

}  // namespace strata::cli

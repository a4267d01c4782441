// `strata serve`: the scheduler, the executor, the web UI and the HTTP API in one process until
// SIGINT/SIGTERM. `strata scheduler`: the same without the web UI and API, for scale-out: several
// of them (and `strata serve`s) share one PostgreSQL metadata store (STRATA_METADATA_URL), each
// creates the due runs (a run created twice is one run), claims queued runs atomically and
// executes the ones it claimed with its own executor; a process that dies has its runs recovered
// by the others (Scheduler::recover). There is no separate task-level `strata worker`: each
// scheduler process is also the worker of the runs it claimed.
#include <signal.h>

#include <thread>

#include "cli/app.h"
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
};

// Runs the scheduler loop until SIGINT/SIGTERM; with `http`, the web UI and API too.
Status serve_until_stopped(const ServeArgs& args, CliContext& context, bool http) {
  // Block the stop signals in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  orchestrate::RuntimeOptions options;
  options.project_dir = args.project_dir;
  options.workers = args.workers;
  options.max_runs = args.max_runs;
  options.masker = context.logger.masker();
  if (context.env) options.env = context.env;
  STRATA_ASSIGN(auto rt, orchestrate::Runtime::open(options));
  STRATA_TRY(rt->start());
  STRATA_ASSIGN(int recovered, rt->scheduler().recover());
  context.logger.info("{} {} pipeline(s) from {} (metadata: {}); {} run(s) recovered", http ? "serving" : "scheduling",
                      rt->pipelines().size(), args.project_dir, rt->store_config().describe(), recovered);
  std::unique_ptr<server::Server> server;
  if (http) {
    STRATA_ASSIGN(server, server::start_for_runtime(*rt, args.host, args.port, context.logger));
  }
  std::thread waiter([&rt, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    rt->scheduler().stop();
  });
  rt->scheduler().serve();
  waiter.join();
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
  bind_action(*sched, context,
              [sched_args, &context]() -> Status { return serve_until_stopped(*sched_args, context, false); });
}

}  // namespace strata::cli

// `strata serve`: the scheduler, the executor, the web UI and the HTTP API in one process until
// SIGINT/SIGTERM.
#include <signal.h>

#include <thread>

#include "cli/app.h"
#include "orchestrate/runtime.h"
#include "server/serve.h"

namespace strata::cli {

void register_serve(CLI::App& app, CliContext& context) {
  struct Args {
    std::string project_dir = ".";
    std::string host = "127.0.0.1";
    int port = 8080;
    int workers = 16;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("serve", "Run the scheduler, the task executor, the web UI and the HTTP API");
  cmd->add_option("--project-dir", args->project_dir, "The project folder")->capture_default_str();
  cmd->add_option("--port", args->port, "HTTP port for the API and UI")->capture_default_str();
  cmd->add_option("--host", args->host, "Address to bind; other than loopback needs a token (STRATA_API_TOKEN)")
      ->capture_default_str();
  cmd->add_option("--workers", args->workers, "Executor threads")->capture_default_str();
  bind_action(*cmd, context, [args, &context]() -> Status {
    // Block the stop signals in every thread; one thread waits for them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    orchestrate::RuntimeOptions options;
    options.project_dir = args->project_dir;
    options.workers = args->workers;
    options.masker = context.logger.masker();
    STRATA_ASSIGN(auto rt, orchestrate::Runtime::open(options));
    STRATA_TRY(rt->start());
    STRATA_ASSIGN(int recovered, rt->scheduler().recover());
    context.logger.info("serving {} pipeline(s) from {}; {} run(s) recovered", rt->pipelines().size(),
                        args->project_dir, recovered);
    STRATA_ASSIGN(auto http, server::start_for_runtime(*rt, args->host, args->port, context.logger));
    std::thread waiter([&rt, signals] {
      int sig = 0;
      sigwait(&signals, &sig);
      rt->scheduler().stop();
    });
    rt->scheduler().serve();
    waiter.join();
    // What the executor's shutdown does, as Airflow does to the tasks of a stopped worker.
    context.logger.info("stopping: running attempts are cancelled; one with retries left becomes up_for_retry and "
                        "runs again when a later `strata serve` resumes its run, one without fails");
    return ok_status();
  });
}

}  // namespace strata::cli

#pragma once
// The strata command line. run_cli parses argv, runs one subcommand and returns the process exit
// code (DESIGN.md: 0 ok, 1 failed, 2 usage/config, 3 unreachable database). User errors are
// printed to stderr as located messages; never a stack trace.

#include <functional>
#include <iosfwd>
#include <string>

#include <CLI/CLI.hpp>

#include "common/env.h"
#include "common/log.h"
#include "common/result.h"

namespace strata::cli {

// What every subcommand gets: streams, environment, logger. Owned by run_cli.
struct CliContext {
  std::ostream& out;
  std::ostream& err;
  EnvLookup env;
  Logger logger;
  std::string version;
  // Set by a subcommand's callback: the status its action finished with.
  int exit_code = 0;
  // Set by an action that a signal stopped in order: the exit code its error ends the process
  // with instead of the error's own (128 + the signal's number, as a shell reports it).
  int interrupted_exit_code = 0;
};

// A subcommand's action; its Status decides the exit code.
using Action = std::function<Status()>;
// Attaches an action to a subcommand so that run_cli reports its status.
void bind_action(CLI::App& command, CliContext& context, Action action);

int run_cli(int argc, char** argv, std::ostream& out, std::ostream& err);

// Registration of subcommands, one per cmd_*.cpp.
void register_debug(CLI::App& app, CliContext& context);
void register_dbt(CLI::App& app, CliContext& context);
void register_demo(CLI::App& app, CliContext& context);
void register_render(CLI::App& app, CliContext& context);
void register_cron(CLI::App& app, CliContext& context);
void register_demo_source(CLI::App& app, CliContext& context);
void register_discover(CLI::App& app, CliContext& context);
void register_sync(CLI::App& app, CliContext& context);
void register_pipeline(CLI::App& app, CliContext& context);
void register_serve(CLI::App& app, CliContext& context);
void register_worker(CLI::App& app, CliContext& context);

}  // namespace strata::cli

#include "cli/app.h"

namespace strata::cli {

void register_demo(CLI::App& app, CliContext& context) {
  auto* cmd = app.add_subcommand("demo", "Run the NovaDrive demo: a throwaway PostgreSQL, the hourly pipeline once, a summary");
  bind_action(*cmd, context, [&context]() -> Status {
    context.out << "strata demo: the NovaDrive pipeline is not built yet\n";
    return ok_status();
  });
}

}  // namespace strata::cli

#include <sqlite3.h>

#include "cli/app.h"

namespace strata::cli {

void register_debug(CLI::App& app, CliContext& context) {
  auto* cmd = app.add_subcommand("debug", "Print versions of the embedded engines and check a profile's connection");
  bind_action(*cmd, context, [&context]() -> Status {
    context.out << "strata " << context.version << "\n";
    context.out << "sqlite " << sqlite3_libversion() << "\n";
    return ok_status();
  });
}

}  // namespace strata::cli

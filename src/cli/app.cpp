#include "cli/app.h"

#include <iostream>

namespace strata::cli {

void bind_action(CLI::App& command, CliContext& context, Action action) {
  command.callback([&context, action = std::move(action)] {
    Status status = action();
    if (!status.ok()) {
      context.err << context.logger.masker()->mask(status.error().to_string()) << "\n";
      context.exit_code =
          context.interrupted_exit_code != 0 ? context.interrupted_exit_code : status.error().exit_code();
    }
  });
}

int run_cli(int argc, char** argv, std::ostream& out, std::ostream& err) {
  CliContext context{out, err, process_env(), Logger(), STRATA_VERSION};
  context.logger.add_sink(Logger::file_sink(stderr));

  CLI::App app{"Strata — ingest, transform and orchestrate a medallion ELT pipeline in one binary", "strata"};
  app.set_version_flag("--version", std::string("strata ") + STRATA_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);

  register_debug(app, context);
  register_dbt(app, context);
  register_demo(app, context);
  register_render(app, context);
  register_cron(app, context);
  register_demo_source(app, context);
  register_discover(app, context);
  register_sync(app, context);
  register_pipeline(app, context);
  register_serve(app, context);
  register_worker(app, context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, out, err);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e, out, err);
  } catch (const CLI::ParseError& e) {
    app.exit(e, out, err);
    return 2;
  }
  return context.exit_code;
}

}  // namespace strata::cli

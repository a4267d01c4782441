// `strata demo-source`: creates the NovaDrive ERP in a PostgreSQL database and, with --live, keeps
// changing it (new sales, price corrections, address changes) until Ctrl-C.

#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "cli/app.h"
#include "cli/demo/erp_source.h"
#include "cli/demo/interrupt_watcher.h"

namespace strata::cli {
namespace {

struct DemoSourceArgs {
  std::string url;
  demo::ErpOptions erp;
  bool live = false;
  bool print_sql = false;
  bool skip_create = false;
  demo::LiveOptions live_options;
};

Status print_script(CliContext& context, const DemoSourceArgs& args) {
  for (const auto& step : demo::erp_create_script(args.erp)) context.out << "-- " << step.label << "\n" << step.sql;
  return ok_status();
}

Status run_demo_source(CliContext& context, DemoSourceArgs args) {
  if (args.print_sql) return print_script(context, args);
  if (args.url.empty()) args.url = context.env("NOVADRIVE_PG_URL").value_or("");
  if (args.url.empty())
    return Error(ErrorCode::kUsage, "no PostgreSQL database given", {},
                 "pass --url postgresql://USER@HOST:PORT/DB or set NOVADRIVE_PG_URL");
  demo::InterruptWatcher watcher;
  pg::ConnectOptions connect_options;
  connect_options.masker = context.logger.masker().get();
  connect_options.application_name = "strata demo-source";
  STRATA_ASSIGN(auto conn, pg::Connection::connect(args.url, connect_options));
  watcher.on_interrupt([canceller = conn.canceller()] { (void)canceller.cancel(); });

  if (!args.skip_create) {
    const auto sizes = demo::erp_sizes(args.erp.scale);
    context.out << fmt::format("Creating the NovaDrive ERP in {} (scale {}, seed {}, {} vendas)\n", conn.describe(),
                               args.erp.scale, args.erp.seed, sizes.vendas);
    STRATA_TRY(demo::create_erp(conn, args.erp, [&](const std::string& label, double seconds) {
      context.out << fmt::format("  {:<40} {:>7.2f} s\n", label, seconds) << std::flush;
    }));
    STRATA_ASSIGN(auto counts, demo::erp_row_counts(conn, args.erp.schema));
    for (const auto& table : demo::erp_tables()) context.out << fmt::format("  {:<16} {:>10} rows\n", table, counts[table]);
  }
  if (!args.live) return ok_status();

  context.out << fmt::format("Live mode: {} changes per second{} — Ctrl-C to stop\n", args.live_options.rate,
                             args.live_options.max_changes > 0
                                 ? fmt::format(", {} changes in all", args.live_options.max_changes)
                                 : std::string());
  auto applied = demo::run_live(
      conn, args.erp, args.live_options, [&watcher](std::chrono::milliseconds d) { return watcher.sleep_for(d); },
      [&context](std::int64_t changes, std::int64_t total) {
        context.out << fmt::format("  +{} changes ({} in all)\n", changes, total) << std::flush;
      });
  if (!applied.ok() && !watcher.interrupted()) return std::move(applied).error();
  context.out << "Live mode stopped\n";
  return ok_status();
}

}  // namespace

void register_demo_source(CLI::App& app, CliContext& context) {
  auto args = std::make_shared<DemoSourceArgs>();
  auto* cmd = app.add_subcommand("demo-source",
                                 "Create the NovaDrive ERP (seven tables) in PostgreSQL; --live keeps changing it");
  cmd->add_option("--url", args->url, "PostgreSQL URL or conninfo (default: $NOVADRIVE_PG_URL)");
  cmd->add_option("--scale", args->erp.scale, "Size: 1 = about 100,000 sales; fractions allowed")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--seed", args->erp.seed, "Seed: the same seed and scale give the same rows");
  cmd->add_option("--schema", args->erp.schema, "Schema for the seven tables")->capture_default_str();
  cmd->add_flag("--live", args->live, "Keep inserting sales and updating rows until Ctrl-C");
  cmd->add_option("--rate", args->live_options.rate, "Live changes per second")->check(CLI::PositiveNumber);
  cmd->add_option("--changes", args->live_options.max_changes, "Stop live mode after this many changes")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--no-create", args->skip_create, "Do not (re)create the tables; only run live mode");
  cmd->add_flag("--print-sql", args->print_sql, "Print the creation script instead of running it");
  bind_action(*cmd, context, [&context, args]() -> Status {
    DemoSourceArgs copy = *args;
    if (copy.live_options.first_tick == 0)
      copy.live_options.first_tick =
          std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return run_demo_source(context, std::move(copy));
  });
}

}  // namespace strata::cli

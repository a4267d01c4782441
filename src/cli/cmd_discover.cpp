// strata discover CONN [--json] [--project-dir D]: the source's catalog — schemas, tables, views,
// materialized views, partitioned tables, columns with PostgreSQL and logical types, primary keys,
// estimated rows and suggested cursor columns. Exit codes: 2 bad connection file, 3 unreachable.
#include <memory>

#include "cli/app.h"
#include "common/json_text.h"
#include "ingest/connection_config.h"
#include "ingest/discover.h"
#include "pg/connection.h"

namespace strata::cli {
namespace {

struct DiscoverFlags {
  std::string connection;
  std::string project_dir = ".";
  bool json = false;
};

Status run_discover(const DiscoverFlags& flags, CliContext& context) {
  YamlOptions yaml;
  yaml.env = context.env;
  yaml.masker = context.logger.masker().get();
  STRATA_ASSIGN(ingest::ConnectionConfig config,
                ingest::load_connection_config(ingest::connection_path(flags.project_dir, flags.connection), yaml));
  for (const std::string& warning : config.warnings) context.err << warning << "\n";
  STRATA_ASSIGN(pg::Connection conn, pg::Connection::connect(config.source.conninfo(),
                                                            ingest::source_connect_options(yaml.masker, "strata discover")));
  STRATA_ASSIGN(ingest::Catalog catalog, ingest::discover_catalog(conn, config.source.schemas));
  if (flags.json) {
    context.out << json_text(ingest::catalog_to_json(catalog), 2) << "\n";
  } else {
    context.out << ingest::catalog_to_text(catalog);
  }
  return ok_status();
}

}  // namespace

void register_discover(CLI::App& app, CliContext& context) {
  auto* cmd = app.add_subcommand("discover", "Show a source's catalog: tables, columns, types, keys, cursor suggestions");
  auto flags = std::make_shared<DiscoverFlags>();
  cmd->add_option("connection", flags->connection, "A connection name (connections/<name>.yml) or a .yml file")
      ->required();
  cmd->add_option("--project-dir", flags->project_dir, "The project folder holding connections/ (default: .)");
  cmd->add_flag("--json", flags->json, "Print the catalog as JSON");
  bind_action(*cmd, context, [flags, &context]() -> Status { return run_discover(*flags, context); });
}

}  // namespace strata::cli

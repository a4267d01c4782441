// strata debug [--project-dir D] [--profiles-dir D] [--profile P] [--target T]: prints the versions
// of strata and its embedded engines, then, when a profiles.yml is found, opens the selected
// target and runs `select 1`. Exit codes: 0 ok, 2 bad profile, 3 the database cannot be reached
// (host and port named, never the password).
#include <sqlite3.h>

#include <filesystem>
#include <memory>

#include "cli/app.h"
#include "pg/connection.h"
#include "warehouse/profile.h"
#include "warehouse/warehouse.h"

namespace strata::cli {

namespace {

struct DebugFlags {
  std::string project_dir = ".";
  std::string profiles_dir;
  std::string profile;
  std::string target;
};

// libpq's integer version (150004) as text ("15.4"); before 10 it had three parts.
std::string libpq_version_text(int v) {
  if (v >= 100000) return std::to_string(v / 10000) + "." + std::to_string(v % 10000);
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

// DuckDB and BigQuery: open the target (BigQuery fetches an access token) and run `select 1`.
Status check_warehouse(const warehouse::TargetConfig& target, CliContext& context) {
  STRATA_ASSIGN(auto db, warehouse::open_target(target, context.logger.masker().get()));
  STRATA_ASSIGN(auto session, db->connect());
  STRATA_ASSIGN(auto result, session->query("select 1"));
  if (result.num_rows() != 1 || result.cell_text(0, 0) != "1") {
    return Error(ErrorCode::kFailed, "select 1 did not return 1 on " + target.describe());
  }
  return ok_status();
}

Status check_postgres(const warehouse::TargetConfig& target, CliContext& context) {
  pg::ConnectOptions options;
  options.masker = context.logger.masker().get();
  options.connect_timeout = std::chrono::seconds(target.connect_timeout);
  auto conn = pg::Connection::connect(target.postgres_conninfo(), options);
  if (!conn.ok()) {
    return Error(conn.error().code(), "cannot reach " + target.describe() + ": " + conn.error().message(),
                 target.where, "check that the server runs and accepts connections on that host and port");
  }
  STRATA_ASSIGN(auto result, conn->exec("select 1"));
  (void)result;
  return ok_status();
}

Status run_debug(const DebugFlags& flags, CliContext& context) {
  context.out << "strata " << context.version << "\n";
  context.out << "duckdb " << warehouse::duckdb_library_version() << "\n";
  context.out << "libpq " << libpq_version_text(pg::Connection::library_version()) << "\n";
  context.out << "sqlite " << sqlite3_libversion() << "\n";

  warehouse::ProfileOptions options;
  options.project_dir = flags.project_dir;
  options.profiles_dir = flags.profiles_dir;
  options.profile_name = flags.profile;
  options.target = flags.target;
  options.env = context.env;
  options.masker = context.logger.masker().get();
  auto file = warehouse::find_profiles_file(options);
  if (!file.ok()) {
    context.out << "profiles.yml: not found\n";
    // Asked for explicitly: an error; otherwise there is simply nothing to check.
    if (!flags.profiles_dir.empty() || !flags.target.empty() || !flags.profile.empty()) return std::move(file).error();
    return ok_status();
  }
  context.out << "profiles.yml: " << *file << "\n";
  options.profiles_dir = std::filesystem::path(*file).parent_path().string();
  STRATA_ASSIGN(auto target, warehouse::load_target(options));
  context.out << "profile: " << target.profile << "\n";
  context.out << "target: " << target.describe() << "\n";
  Status checked = target.type == warehouse::TargetType::kPostgres ? check_postgres(target, context)
                                                                    : check_warehouse(target, context);
  context.out << "connection: " << (checked.ok() ? "OK" : "FAILED") << "\n";
  return checked;
}

}  // namespace

void register_debug(CLI::App& app, CliContext& context) {
  auto* cmd = app.add_subcommand("debug", "Print versions of the embedded engines and check a profile's connection");
  auto flags = std::make_shared<DebugFlags>();
  cmd->add_option("--project-dir", flags->project_dir, "The dbt project folder (default: .)");
  cmd->add_option("--profiles-dir", flags->profiles_dir, "The folder holding profiles.yml");
  cmd->add_option("--profile", flags->profile, "The profile to use (default: dbt_project.yml's profile)");
  cmd->add_option("--target", flags->target, "The target to check (default: the profile's target)");
  bind_action(*cmd, context, [flags, &context]() -> Status { return run_debug(*flags, context); });
}

}  // namespace strata::cli

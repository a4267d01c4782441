#include "e2e/e2e_support.h"

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "cli/demo/process.h"
#include "common/strings.h"
#include "pg/connection.h"
#include "support/pg_cluster.h"
#include "warehouse/warehouse.h"

namespace strata::testing {
namespace fs = std::filesystem;

std::string strata_binary() { return std::string(STRATA_BINARY_DIR) + "/strata"; }

CommandResult run_strata(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
                         const std::string& cwd, int timeout_s) {
  TempDir out;
  cli::demo::SpawnOptions options;
  options.env = env;
  options.cwd = cwd;
  options.output_path = out.file("output.txt");
  std::vector<std::string> argv = {strata_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto pid = cli::demo::spawn_process(argv, options);
  if (!pid.ok()) throw std::runtime_error(pid.error().to_string());
  auto code = cli::demo::wait_process_for(*pid, std::chrono::seconds(timeout_s));
  CommandResult result;
  read_file(options.output_path, result.output);
  if (!code) {
    ::kill(*pid, SIGKILL);
    cli::demo::wait_process(*pid);
    throw std::runtime_error("strata " + join(args, " ") + " did not finish in " + std::to_string(timeout_s) +
                             " s; output:\n" + result.output);
  }
  result.exit_code = *code;
  return result;
}

ProjectCopy::ProjectCopy() {
  dir_ = temp_.file("novadrive");
  const fs::path source = fs::path(STRATA_SOURCE_DIR) / "examples" / "novadrive";
  fs::create_directories(dir_);
  for (const auto& entry : fs::directory_iterator(source)) {
    const std::string name = entry.path().filename().string();
    if (name == ".strata" || name == "target" || name == "logs") continue;
    fs::copy(entry.path(), fs::path(dir_) / name, fs::copy_options::recursive);
  }
}

std::map<std::string, std::string> ProjectCopy::env(const std::string& database) const {
  auto& pg = shared_pg_cluster();
  return {{"NOVADRIVE_PG_HOST", pg.host()},          {"NOVADRIVE_PG_PORT", std::to_string(pg.port())},
          {"NOVADRIVE_PG_DATABASE", database},      {"NOVADRIVE_PG_USER", pg.superuser()},
          {"NOVADRIVE_PG_PASSWORD", ""},            {"NOVADRIVE_DUCKDB_PATH", duckdb_path()},
          {"NOVADRIVE_TARGET", "dev"}};
}

std::vector<std::string> pg_rows(const std::string& conninfo, const std::string& sql) {
  auto conn = pg::Connection::connect(conninfo);
  if (!conn.ok()) throw std::runtime_error(conn.error().to_string());
  auto result = conn->exec(sql);
  if (!result.ok()) throw std::runtime_error(result.error().to_string() + "\n" + sql);
  std::vector<std::string> rows;
  for (int r = 0; r < result->rows(); ++r) {
    std::vector<std::string> cells;
    for (int c = 0; c < result->columns(); ++c)
      cells.push_back(result->is_null(r, c) ? "∅" : std::string(result->value(r, c)));
    rows.push_back(join(cells, "|"));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

std::vector<std::string> duck_rows(const std::string& duckdb_path, const std::string& sql) {
  warehouse::DuckDbOptions options;
  options.read_only = true;
  auto db = warehouse::open_duckdb(duckdb_path, options);
  if (!db.ok()) throw std::runtime_error(db.error().to_string());
  auto session = (*db)->connect();
  if (!session.ok()) throw std::runtime_error(session.error().to_string());
  auto result = (*session)->query(sql);
  if (!result.ok()) throw std::runtime_error(result.error().to_string() + "\n" + sql);
  std::vector<std::string> rows;
  for (size_t r = 0; r < result->num_rows(); ++r) {
    std::vector<std::string> cells;
    for (size_t c = 0; c < result->schema.size(); ++c)
      cells.push_back(result->is_null(r, c) ? "∅" : result->cell_text(r, c));
    rows.push_back(join(cells, "|"));
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace strata::testing

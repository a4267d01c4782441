#include "ingest/destination.h"

#include <filesystem>

#include "warehouse/profile.h"

namespace strata::ingest {

Result<Destination> resolve_destination(const ConnectionConfig& config, const EnvLookup& env, SecretMasker* masker,
                                        const std::string& target_override) {
  Destination destination;
  if (!config.destination.duckdb_path.empty() && target_override.empty()) {
    std::filesystem::path p(config.destination.duckdb_path);
    if (p.is_relative() && config.destination.duckdb_path != ":memory:") p = std::filesystem::path(config.project_dir) / p;
    destination.duckdb_file = p.string();
    return destination;
  }
  warehouse::ProfileOptions options;
  options.project_dir = config.project_dir;
  options.target = target_override.empty() ? config.destination.target : target_override;
  options.env = env;
  options.masker = masker;
  auto target = warehouse::load_target(options);
  if (!target.ok()) {
    Error e = std::move(target).error();
    if (e.code() == ErrorCode::kNotFound) {
      return Error(ErrorCode::kConfig, "connection " + config.name + " has no destination: " + e.message(),
                   config.destination.where.empty() ? SourceLocation{config.file, 0, 0} : config.destination.where,
                   "add a profiles.yml next to dbt_project.yml, or destination: {duckdb_path: .strata/warehouse.duckdb}");
    }
    return e;
  }
  destination.target = std::move(*target);
  return destination;
}

std::string Destination::duckdb_path() const {
  const std::string path = !duckdb_file.empty()                                          ? duckdb_file
                           : target && target->type == warehouse::TargetType::kDuckDb ? target->duckdb_path()
                                                                                       : "";
  return path == ":memory:" ? "" : path;
}

bool Destination::creates_file() const {
  const std::string path = duckdb_path();
  std::error_code ec;
  return !path.empty() && !std::filesystem::exists(std::filesystem::symlink_status(path, ec));
}

CreatedDatabaseCleanup::CreatedDatabaseCleanup(const Destination& destination) {
  if (!destination.creates_file()) return;
  path_ = destination.duckdb_path();
  std::error_code ec;
  for (auto folder = std::filesystem::absolute(path_, ec).parent_path();
       !folder.empty() && folder != folder.root_path() && !std::filesystem::exists(folder, ec);
       folder = folder.parent_path()) {
    folders_.push_back(folder.string());
  }
}

CreatedDatabaseCleanup::~CreatedDatabaseCleanup() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove(path_, ec);
  std::filesystem::remove(path_ + ".wal", ec);
  for (const std::string& folder : folders_) std::filesystem::remove(folder, ec);  // only while empty
}

Result<std::unique_ptr<warehouse::Database>> open_destination(const Destination& destination) {
  if (destination.target) return warehouse::open_target(*destination.target);
  return warehouse::open_duckdb(destination.duckdb_file);
}

}  // namespace strata::ingest

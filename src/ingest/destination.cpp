#include "ingest/destination.h"

#include <filesystem>

#include "warehouse/profile.h"

namespace strata::ingest {

namespace {

bool uses_duckdb_path(const ConnectionConfig& config, const std::string& target_override) {
  return !config.destination.duckdb_path.empty() && target_override.empty();
}

std::string connection_duckdb_path(const ConnectionConfig& config) {
  std::filesystem::path p(config.destination.duckdb_path);
  if (p.is_relative() && config.destination.duckdb_path != ":memory:") p = std::filesystem::path(config.project_dir) / p;
  return p.string();
}

Result<warehouse::TargetConfig> load_destination_target(const ConnectionConfig& config, const EnvLookup& env,
                                                        SecretMasker* masker, const std::string& target_override) {
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
  return target;
}

}  // namespace

Result<std::unique_ptr<warehouse::Database>> open_destination(const ConnectionConfig& config, const EnvLookup& env,
                                                              SecretMasker* masker,
                                                              const std::string& target_override) {
  if (uses_duckdb_path(config, target_override)) {
    std::filesystem::path p(connection_duckdb_path(config));
    std::error_code ec;
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
    return warehouse::open_duckdb(p.string());
  }
  STRATA_ASSIGN(warehouse::TargetConfig target, load_destination_target(config, env, masker, target_override));
  return warehouse::open_target(target);
}

bool destination_creates_file(const ConnectionConfig& config, const EnvLookup& env, SecretMasker* masker,
                              const std::string& target_override) {
  std::string path;
  if (uses_duckdb_path(config, target_override)) {
    path = connection_duckdb_path(config);
  } else if (auto target = load_destination_target(config, env, masker, target_override);
             target.ok() && target->type == warehouse::TargetType::kDuckDb) {
    path = target->duckdb_path();
  }
  std::error_code ec;
  return !path.empty() && path != ":memory:" && !std::filesystem::exists(std::filesystem::symlink_status(path, ec));
}

}  // namespace strata::ingest

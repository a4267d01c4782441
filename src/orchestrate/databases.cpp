#include "orchestrate/databases.h"

#include <filesystem>

namespace strata::orchestrate {

namespace fs = std::filesystem;

Databases::Databases(std::string project_dir, SecretMaskerPtr masker, EnvLookup env)
    : project_dir_(std::move(project_dir)), masker_(std::move(masker)), env_(env ? env : process_env()) {}

Databases::~Databases() = default;

Result<warehouse::Database*> Databases::duckdb_at(const std::string& path) {
  std::string key = path;
  if (path != ":memory:" && !path.empty()) {
    fs::path p(path);
    if (p.is_relative()) p = fs::path(project_dir_) / p;
    std::error_code ec;
    key = fs::weakly_canonical(p, ec).string();
    if (ec) key = p.lexically_normal().string();
  }
  std::lock_guard lock(mutex_);
  if (auto it = by_path_.find(key); it != by_path_.end()) return it->second.get();
  STRATA_ASSIGN(auto db, warehouse::open_duckdb(key));
  auto* raw = db.get();
  by_path_[key] = std::move(db);
  return raw;
}

Result<warehouse::Database*> Databases::postgres_at(const warehouse::TargetConfig& target) {
  const std::string conninfo = target.postgres_conninfo();
  std::lock_guard lock(mutex_);
  if (auto it = by_conninfo_.find(conninfo); it != by_conninfo_.end()) return it->second.get();
  STRATA_ASSIGN(auto db, warehouse::open_target(target, masker_.get()));
  auto* raw = db.get();
  by_conninfo_[conninfo] = std::move(db);
  return raw;
}

Result<warehouse::Database*> Databases::bigquery_at(const warehouse::TargetConfig& target) {
  // One per profile target: its sessions share one token cache.
  const std::string key = target.profiles_file + "\n" + target.profile + "\n" + target.name;
  std::lock_guard lock(mutex_);
  if (auto it = by_target_.find(key); it != by_target_.end()) return it->second.get();
  STRATA_ASSIGN(auto db, warehouse::open_target(target, masker_.get()));
  auto* raw = db.get();
  by_target_[key] = std::move(db);
  return raw;
}

Result<ResolvedTarget> Databases::target(const std::string& name) {
  warehouse::ProfileOptions options;
  options.project_dir = project_dir_;
  options.target = name;
  options.env = env_;
  options.masker = masker_.get();
  ResolvedTarget out;
  auto config = warehouse::load_target(options);
  if (!config.ok()) {
    if (config.error().code() != ErrorCode::kNotFound || !name.empty()) return config.error();
    STRATA_ASSIGN(out.database, duckdb_at(".strata/warehouse.duckdb"));
    out.config.name = "default";
    out.config.type_name = "duckdb";
    return out;
  }
  out.config = std::move(config).value();
  switch (out.config.type) {
    case warehouse::TargetType::kDuckDb: {
      STRATA_ASSIGN(out.database, duckdb_at(out.config.duckdb_path()));
      return out;
    }
    case warehouse::TargetType::kPostgres: {
      out.postgres_conninfo = out.config.postgres_conninfo();
      STRATA_ASSIGN(out.database, postgres_at(out.config));
      return out;
    }
    case warehouse::TargetType::kBigQuery: {
      STRATA_ASSIGN(out.database, bigquery_at(out.config));
      return out;
    }
  }
  return Error(ErrorCode::kConfig, "tasks on " + out.config.type_name + " targets are not supported",
               out.config.where, "use a duckdb, postgres or bigquery target");
}

}  // namespace strata::orchestrate

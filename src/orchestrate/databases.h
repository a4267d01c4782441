#pragma once
// Databases: the warehouses one process's tasks use, opened once and shared. A DuckDB file may be
// opened only once per process, so sync tasks (the connection's bronze destination), build/test
// tasks (the dbt profile's target) and sql tasks (a profiles.yml target) all get the same
// warehouse::Database for the same file. A PostgreSQL target is opened once too (its sessions
// are connections of their own); sql tasks on it also get its conninfo for the pg module.
// Thread-safety: every method may be called from any thread. Databases handed out live as long
// as this object.

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/env.h"
#include "common/result.h"
#include "common/secrets.h"
#include "warehouse/profile.h"
#include "warehouse/warehouse.h"

namespace strata::orchestrate {

// A profiles.yml target resolved for a task: its database, and for PostgreSQL its conninfo (which
// holds the password: pass it to libpq only).
struct ResolvedTarget {
  warehouse::TargetConfig config;
  warehouse::Database* database = nullptr;
  std::string postgres_conninfo;
};

class Databases {
 public:
  // project_dir: where dbt_project.yml / profiles.yml live; masker receives passwords.
  Databases(std::string project_dir, SecretMaskerPtr masker, EnvLookup env = {});
  ~Databases();

  // The DuckDB file at `path` (relative paths against the project folder), opened on first use
  // (creating its folder). Errors: kConnection when DuckDB cannot open it.
  Result<warehouse::Database*> duckdb_at(const std::string& path);
  // The PostgreSQL warehouse of a postgres target, opened on first use and kept (one per
  // conninfo, which holds the password: never printed). Errors: kConnection when the server cannot
  // be reached or refuses the login.
  Result<warehouse::Database*> postgres_at(const warehouse::TargetConfig& target);
  // The BigQuery warehouse of a bigquery target, opened on first use (credentials read, a first
  // token fetched) and kept, one per profiles.yml target. Errors: kConfig for a missing key file,
  // kConnection when the token endpoint cannot be reached or refuses the credentials.
  Result<warehouse::Database*> bigquery_at(const warehouse::TargetConfig& target);
  // A profiles.yml target ("" = the profile's default). Without any profiles.yml, "" resolves to
  // `.strata/warehouse.duckdb` in the project. Errors: located kConfig errors of profiles.yml,
  // kNotFound for a named target without profiles.yml, kConnection when a PostgreSQL target's
  // server cannot be reached or a BigQuery target's credentials are refused (the first time it is
  // asked for).
  Result<ResolvedTarget> target(const std::string& name);

 private:
  std::string project_dir_;
  SecretMaskerPtr masker_;
  EnvLookup env_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<warehouse::Database>> by_path_;
  std::map<std::string, std::unique_ptr<warehouse::Database>> by_conninfo_;
  std::map<std::string, std::unique_ptr<warehouse::Database>> by_target_;  // bigquery
};

}  // namespace strata::orchestrate

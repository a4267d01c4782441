#pragma once
// Which MetadataStore a project uses, and opening it: the one place that decides (runtime,
// `strata sync`, the demo's report, `strata scheduler` all call open_metadata_store).
//
// Settings, from the environment as Airflow's AIRFLOW__DATABASE__SQL_ALCHEMY_CONN is:
//   STRATA_METADATA_URL     a libpq URL or key=value conninfo: the PostgreSQL metadata store that
//                           several scheduler processes share. Unset or empty: the embedded SQLite
//                           file `<project>/.strata/strata.db` (the default).
//   STRATA_METADATA_SCHEMA  the PostgreSQL schema holding the tables (default strata_meta).
// The password belongs in the URL's environment variable, PGPASSWORD or ~/.pgpass; it is handed
// to the masker and never appears in describe(), logs, the UI or the API.
// Pure functions plus the store they open; thread-safe.

#include <memory>
#include <string>

#include "common/env.h"
#include "common/result.h"
#include "common/secrets.h"
#include "orchestrate/metadata_store.h"

namespace strata::orchestrate {

struct MetadataStoreConfig {
  enum class Kind { kSqlite, kPostgres };
  Kind kind = Kind::kSqlite;
  std::string sqlite_path;  // kSqlite: the file
  std::string conninfo;     // kPostgres: the URL/conninfo, password included (never print it)
  std::string schema;       // kPostgres: the schema

  // "SQLite file <path>" or "PostgreSQL (host H, port P, database D, user U), schema S": safe to log.
  std::string describe() const;
};

// The settings above for a project folder. Errors: kConfig when STRATA_METADATA_URL does not parse
// (the message never holds its password).
Result<MetadataStoreConfig> metadata_store_config(const std::string& project_dir, const EnvLookup& env);

// Opens (creating and migrating) the project's store. `masker` (may be null) learns the password.
// Errors: as SqliteStore::open and PgStore::open — kConnection naming the file, or host, port and
// database, when the store cannot be reached.
Result<std::unique_ptr<MetadataStore>> open_metadata_store(const MetadataStoreConfig& config,
                                                           SecretMasker* masker = nullptr);
Result<std::unique_ptr<MetadataStore>> open_metadata_store(const std::string& project_dir,
                                                           SecretMasker* masker = nullptr,
                                                           const EnvLookup& env = process_env());

}  // namespace strata::orchestrate

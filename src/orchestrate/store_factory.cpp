#include "orchestrate/store_factory.h"

#include "orchestrate/pg_store.h"
#include "orchestrate/sqlite_store.h"
#include "pg/conninfo.h"

namespace strata::orchestrate {

std::string MetadataStoreConfig::describe() const {
  if (kind == Kind::kSqlite) return "SQLite file " + sqlite_path;
  auto params = pg::ConnParams::parse(conninfo);
  const std::string where = params.ok() ? params->describe() : "an unparsable conninfo";
  return "PostgreSQL (" + where + "), schema " + schema;
}

Result<MetadataStoreConfig> metadata_store_config(const std::string& project_dir, const EnvLookup& env) {
  MetadataStoreConfig config;
  auto url = env ? env("STRATA_METADATA_URL") : std::nullopt;
  if (!url || url->empty()) {
    config.sqlite_path = project_dir + "/.strata/strata.db";
    return config;
  }
  auto parsed = pg::ConnParams::parse(*url);
  if (!parsed.ok())
    return Error(ErrorCode::kConfig, "STRATA_METADATA_URL is not a PostgreSQL URL or conninfo: " +
                                         parsed.error().message(),
                 {}, "e.g. postgresql://strata@db.internal:5432/strata (the password from PGPASSWORD or ~/.pgpass)");
  config.kind = MetadataStoreConfig::Kind::kPostgres;
  config.conninfo = *url;
  auto schema = env("STRATA_METADATA_SCHEMA");
  config.schema = schema && !schema->empty() ? *schema : "strata_meta";
  return config;
}

Result<std::unique_ptr<MetadataStore>> open_metadata_store(const MetadataStoreConfig& config,
                                                           SecretMasker* masker) {
  if (config.kind == MetadataStoreConfig::Kind::kSqlite) {
    STRATA_ASSIGN(auto store, SqliteStore::open(config.sqlite_path));
    return std::unique_ptr<MetadataStore>(std::move(store));
  }
  if (masker)
    for (const auto& secret : pg::password_candidates(config.conninfo)) masker->add(secret);
  PgStoreOptions options;
  options.conninfo = config.conninfo;
  options.schema = config.schema;
  options.masker = masker;
  STRATA_ASSIGN(auto store, PgStore::open(options));
  return std::unique_ptr<MetadataStore>(std::move(store));
}

Result<std::unique_ptr<MetadataStore>> open_metadata_store(const std::string& project_dir, SecretMasker* masker,
                                                           const EnvLookup& env) {
  STRATA_ASSIGN(MetadataStoreConfig config, metadata_store_config(project_dir, env));
  return open_metadata_store(config, masker);
}

}  // namespace strata::orchestrate

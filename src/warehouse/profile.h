#pragma once
// dbt profiles: finding profiles.yml, choosing a profile and a target, and opening it.
//
//   ProfileOptions options;                 // --profiles-dir, --target, project folder ...
//   options.project_dir = "examples/novadrive";
//   STRATA_ASSIGN(TargetConfig target, load_target(options));
//   STRATA_ASSIGN(auto database, open_target(target));   // DuckDB or PostgreSQL
//
// Search order for profiles.yml, as dbt: options.profiles_dir (--profiles-dir), then
// $DBT_PROFILES_DIR, then the project folder, then ~/.dbt. The profile is options.profile_name,
// else dbt_project.yml's `profile:`, else the only profile in the file. The target is
// options.target (--target), else the profile's `target:`. `{{ env_var('X', 'default') }}` works
// in every value; passwords are registered with options.masker.
// Errors are located (profiles.yml:line:col) with a hint: kConfig for a missing profile, target,
// type or required key, a value of the wrong type or an unknown type; kNotFound when no
// profiles.yml exists. Pure functions of their inputs (files, env); thread-safe.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/env.h"
#include "common/error.h"
#include "common/result.h"
#include "common/secrets.h"
#include "warehouse/warehouse.h"

namespace strata::warehouse {

enum class TargetType { kDuckDb, kPostgres, kBigQuery };

// One output of a profile, with the fields of every supported type (unused ones stay empty).
struct TargetConfig {
  std::string profile;        // profile name
  std::string name;           // target name
  TargetType type = TargetType::kDuckDb;
  std::string type_name;      // "duckdb", "postgres", "bigquery"
  std::string schema;         // duckdb default "main"; bigquery: the dataset
  int threads = 1;
  std::string profiles_file;  // the profiles.yml it came from
  SourceLocation where;       // the target's position in that file
  std::string project_dir;    // relative DuckDB paths are resolved against it

  // duckdb
  std::string path = ":memory:";             // as written
  std::map<std::string, std::string> settings;  // DuckDB config options

  // postgres (dbt-postgres keys; `database` is accepted for dbname, `pass` for password)
  std::string host;
  int port = 5432;
  std::string user;
  std::string password;  // a secret: never print it
  std::string dbname;
  std::string sslmode;
  int connect_timeout = 10;

  // bigquery (dbt-bigquery keys; `database` is accepted for project, `schema` for dataset).
  // method: oauth (Application Default Credentials), service-account (keyfile), service-account-json
  // (keyfile_json), oauth-secrets (token, or refresh_token + client_id + client_secret [+ token_uri]).
  // keyfile_json, token, refresh_token and client_secret are secrets: never print them.
  std::string project;
  std::string method;
  std::string keyfile;        // path to a service-account key file (relative: against project_dir)
  std::string keyfile_json;   // the key as JSON text (from the keyfile_json: mapping)
  std::string token;
  std::string refresh_token;
  std::string client_id;
  std::string client_secret;
  std::string token_uri;      // oauth-secrets' token endpoint; "" = Google's
  std::string location;       // e.g. "US", "EU", "europe-west1"; "" = BigQuery's default
  std::string priority;       // "interactive" (default) or "batch"
  long long maximum_bytes_billed = 0;      // 0 = no limit
  int job_retries = 1;                     // retries of a request that failed transiently
  int job_execution_timeout_seconds = 0;   // 0 = no timeout
  std::map<std::string, std::string> labels;  // job labels
  std::string api_endpoint;   // "" = https://bigquery.googleapis.com (STRATA_BIGQUERY_API_URL overrides)

  // The DuckDB path with a relative path resolved against project_dir; ":memory:" unchanged.
  std::string duckdb_path() const;
  // A libpq key=value conninfo for a postgres target. Contains the password: pass it to libpq only.
  std::string postgres_conninfo() const;
  // "duckdb target dev (path .strata/x.duckdb, schema main)" / "postgres target pg (host H, port
  // P, database D, user U)" — never the password.
  std::string describe() const;
};

struct ProfileOptions {
  std::string project_dir = ".";  // where dbt_project.yml lives
  std::string profiles_dir;       // --profiles-dir; empty: search
  std::string profile_name;       // empty: from dbt_project.yml
  std::string target;             // --target; empty: the profile's target:
  EnvLookup env = process_env();
  SecretMasker* masker = nullptr;  // not owned; receives passwords
};

// The profiles.yml that would be used. Errors: kNotFound naming every folder searched.
Result<std::string> find_profiles_file(const ProfileOptions& options);
// Finds, parses and validates the selected target.
Result<TargetConfig> load_target(const ProfileOptions& options);
// The same from a profiles.yml given as text (file_name is used in error positions).
Result<TargetConfig> parse_target(std::string_view yaml_text, const std::string& file_name,
                                  const ProfileOptions& options);

// Opens a DuckDB target (creating the parent folder of its file), a PostgreSQL one (connecting
// once) or a BigQuery one (getting a first access token). masker (not owned, may be null, must
// outlive the database) receives the secrets found while opening (a key file's private key, access
// tokens). Errors: see open_duckdb, open_postgres and open_bigquery (bigquery/bigquery_warehouse.h);
// every error is located at the target in profiles.yml.
Result<std::unique_ptr<Database>> open_target(const TargetConfig& target, SecretMasker* masker = nullptr);

}  // namespace strata::warehouse

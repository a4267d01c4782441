#include "warehouse/profile.h"

#include <filesystem>

#include "common/yaml.h"
#include "pg/conninfo.h"
#include "warehouse/bigquery/bigquery_warehouse.h"

namespace strata::warehouse {

namespace fs = std::filesystem;

namespace {

const char* kTypes = "duckdb, postgres or bigquery";

YamlOptions yaml_options(const ProfileOptions& options) {
  YamlOptions y;
  y.env = options.env;
  y.masker = options.masker;
  return y;
}

std::string join_keys(const YamlNode& map, const char* skip = nullptr) {
  std::string out;
  for (const auto& kv : map) {
    std::string key = kv.first.scalar();
    if (skip && key == skip) continue;
    out += (out.empty() ? "" : ", ") + key;
  }
  return out.empty() ? "(none)" : out;
}

// The profile name from dbt_project.yml, or "" when the file or the key is absent.
Result<std::string> project_profile(const ProfileOptions& options) {
  fs::path file = fs::path(options.project_dir) / "dbt_project.yml";
  if (!fs::exists(file)) return std::string();
  STRATA_ASSIGN(YamlDocument doc, load_yaml_file(file.string(), yaml_options(options)));
  const YamlNode& root = doc.root;
  if (!root.is_map() || !root["profile"]) return std::string();
  return yaml_string(doc, root["profile"], "profile");
}

Result<std::string> choose_profile(const YamlDocument& doc, const ProfileOptions& options) {
  if (!options.profile_name.empty()) return options.profile_name;
  STRATA_ASSIGN(std::string from_project, project_profile(options));
  if (!from_project.empty()) return from_project;
  std::vector<std::string> names;
  for (const auto& kv : doc.root) {
    if (kv.first.scalar() != "config") names.push_back(kv.first.scalar());
  }
  if (names.size() == 1) return names[0];
  return doc.error(doc.root, "cannot tell which profile to use: no dbt_project.yml with a profile: key in " +
                                 options.project_dir + ", and this file defines " + join_keys(doc.root, "config"),
                   "add `profile: NAME` to dbt_project.yml");
}

// Reads key as a string when present.
Status read_string(const YamlDocument& doc, const YamlNode& map, const char* key, std::string& out) {
  const YamlNode node = map[key];
  if (!node) return ok_status();
  STRATA_ASSIGN(out, yaml_string(doc, node, key));
  return ok_status();
}

Status read_int(const YamlDocument& doc, const YamlNode& map, const char* key, int& out) {
  const YamlNode node = map[key];
  if (!node) return ok_status();
  STRATA_ASSIGN(long long v, yaml_int(doc, node, key));
  if (v < 0 || v > 1000000) return doc.error(node, std::string(key) + " is out of range", "use a positive number");
  out = static_cast<int>(v);
  return ok_status();
}

Status require(const YamlDocument& doc, const YamlNode& target, const char* key, const std::string& value,
               const std::string& type) {
  if (!value.empty()) return ok_status();
  return doc.error(target, "the " + type + " target has no " + key,
                   std::string("add `") + key + ": ...` to the target (env_var() may supply it)");
}

Status parse_duckdb(const YamlDocument& doc, const YamlNode& node, TargetConfig& t) {
  t.schema = "main";
  STRATA_TRY(read_string(doc, node, "path", t.path));
  STRATA_TRY(read_string(doc, node, "schema", t.schema));
  const YamlNode settings = node["settings"];
  if (settings) {
    if (!settings.is_map()) return doc.error(settings, "settings must be a mapping", "e.g. settings: {memory_limit: 2GB}");
    for (const auto& kv : settings) {
      STRATA_ASSIGN(std::string value, yaml_string(doc, kv.second, kv.first.scalar()));
      t.settings[kv.first.scalar()] = value;
    }
  }
  return ok_status();
}

Status parse_postgres(const YamlDocument& doc, const YamlNode& node, TargetConfig& t,
                      const ProfileOptions& options) {
  STRATA_TRY(read_string(doc, node, "host", t.host));
  STRATA_TRY(read_int(doc, node, "port", t.port));
  STRATA_TRY(read_string(doc, node, "user", t.user));
  STRATA_TRY(read_string(doc, node, "pass", t.password));
  STRATA_TRY(read_string(doc, node, "password", t.password));
  STRATA_TRY(read_string(doc, node, "database", t.dbname));
  STRATA_TRY(read_string(doc, node, "dbname", t.dbname));
  STRATA_TRY(read_string(doc, node, "schema", t.schema));
  STRATA_TRY(read_string(doc, node, "sslmode", t.sslmode));
  STRATA_TRY(read_int(doc, node, "connect_timeout", t.connect_timeout));
  if (options.masker && !t.password.empty()) options.masker->add(t.password);
  STRATA_TRY(require(doc, node, "host", t.host, "postgres"));
  STRATA_TRY(require(doc, node, "user", t.user, "postgres"));
  STRATA_TRY(require(doc, node, "dbname", t.dbname, "postgres"));
  STRATA_TRY(require(doc, node, "schema", t.schema, "postgres"));
  return ok_status();
}

const char* kBigQueryMethods = "oauth, service-account, service-account-json or oauth-secrets";

Status parse_bigquery(const YamlDocument& doc, const YamlNode& node, TargetConfig& t, const ProfileOptions& options) {
  STRATA_TRY(read_string(doc, node, "project", t.project));
  STRATA_TRY(read_string(doc, node, "database", t.project));
  STRATA_TRY(read_string(doc, node, "dataset", t.schema));
  STRATA_TRY(read_string(doc, node, "schema", t.schema));
  STRATA_TRY(read_string(doc, node, "method", t.method));
  STRATA_TRY(read_string(doc, node, "keyfile", t.keyfile));
  STRATA_TRY(read_string(doc, node, "token", t.token));
  STRATA_TRY(read_string(doc, node, "refresh_token", t.refresh_token));
  STRATA_TRY(read_string(doc, node, "client_id", t.client_id));
  STRATA_TRY(read_string(doc, node, "client_secret", t.client_secret));
  STRATA_TRY(read_string(doc, node, "token_uri", t.token_uri));
  STRATA_TRY(read_string(doc, node, "location", t.location));
  STRATA_TRY(read_string(doc, node, "priority", t.priority));
  STRATA_TRY(read_string(doc, node, "api_endpoint", t.api_endpoint));
  STRATA_TRY(read_int(doc, node, "job_retries", t.job_retries));
  STRATA_TRY(read_int(doc, node, "job_execution_timeout_seconds", t.job_execution_timeout_seconds));
  if (const YamlNode bytes = node["maximum_bytes_billed"]) {
    STRATA_ASSIGN(t.maximum_bytes_billed, yaml_int(doc, bytes, "maximum_bytes_billed"));
    if (t.maximum_bytes_billed < 0) return doc.error(bytes, "maximum_bytes_billed is negative", "use a byte count");
  }
  if (const YamlNode labels = node["labels"]) {
    if (!labels.is_map()) return doc.error(labels, "labels must be a mapping", "e.g. labels: {team: data}");
    for (const auto& kv : labels) {
      STRATA_ASSIGN(std::string value, yaml_string(doc, kv.second, kv.first.scalar()));
      t.labels[kv.first.scalar()] = value;
    }
  }
  const YamlNode key_json = node["keyfile_json"];
  if (key_json) {
    if (!key_json.is_map()) {
      return doc.error(key_json, "keyfile_json must be a mapping (the service-account key's fields)",
                       "paste the key file's JSON fields under keyfile_json:, with private_key from env_var()");
    }
    const nlohmann::ordered_json key = yaml_to_json(key_json);
    t.keyfile_json = key.dump();
    if (options.masker && key.contains("private_key") && key["private_key"].is_string()) {
      options.masker->add(key["private_key"].get<std::string>());
    }
  }
  if (options.masker) {
    for (const std::string* secret : {&t.token, &t.refresh_token, &t.client_secret}) {
      if (!secret->empty()) options.masker->add(*secret);
    }
  }
  STRATA_TRY(require(doc, node, "project", t.project, "bigquery"));
  STRATA_TRY(require(doc, node, "dataset", t.schema, "bigquery"));
  if (!node["method"]) {
    return doc.error(node, "the bigquery target has no method",
                     std::string("add `method:` ") + kBigQueryMethods + ", as dbt-bigquery");
  }
  if (t.method == "service-account") {
    STRATA_TRY(require(doc, node, "keyfile", t.keyfile, "bigquery service-account"));
  } else if (t.method == "service-account-json") {
    if (!key_json) {
      return doc.error(node, "the bigquery service-account-json target has no keyfile_json",
                       "add `keyfile_json:` with the service-account key's fields (or use method: service-account "
                       "with keyfile: PATH)");
    }
  } else if (t.method == "oauth-secrets") {
    if (t.token.empty() && (t.refresh_token.empty() || t.client_id.empty() || t.client_secret.empty())) {
      return doc.error(node, "the bigquery oauth-secrets target has neither a token nor refresh_token, client_id and "
                             "client_secret",
                       "add `token:` (an access token), or all of refresh_token, client_id and client_secret");
    }
  } else if (t.method != "oauth") {
    return doc.error(node["method"], "unknown bigquery method '" + t.method + "'", std::string("use ") + kBigQueryMethods);
  }
  if (!t.priority.empty() && t.priority != "interactive" && t.priority != "batch") {
    return doc.error(node["priority"], "unknown priority '" + t.priority + "'", "use interactive or batch");
  }
  return ok_status();
}

Result<TargetConfig> parse_document(const YamlDocument& doc, const ProfileOptions& options) {
  if (!doc.root.is_map()) {
    return doc.error(doc.root, "profiles.yml must be a mapping of profile names", "see dbt's profiles.yml format");
  }
  STRATA_ASSIGN(std::string profile_name, choose_profile(doc, options));
  const YamlNode profile = doc.root[profile_name];
  if (!profile || !profile.is_map()) {
    return doc.error(doc.root, "profile '" + profile_name + "' is not defined; this file defines " +
                                   join_keys(doc.root, "config"),
                     "add it, or set `profile:` in dbt_project.yml to one of those");
  }
  std::string target_name = options.target;
  if (target_name.empty()) {
    if (!profile["target"]) {
      return doc.error(profile, "profile '" + profile_name + "' has no target: and no --target was given",
                       "add `target: dev` (the output to use by default)");
    }
    STRATA_ASSIGN(target_name, yaml_string(doc, profile["target"], "target"));
  }
  const YamlNode outputs = profile["outputs"];
  if (!outputs || !outputs.is_map()) {
    return doc.error(profile, "profile '" + profile_name + "' has no outputs: mapping",
                     "add `outputs:` with one entry per target");
  }
  const YamlNode node = outputs[target_name];
  if (!node || !node.is_map()) {
    const YamlNode& at = profile["target"] && options.target.empty() ? profile["target"] : outputs;
    return doc.error(at, "target '" + target_name + "' is not among the outputs of profile '" + profile_name +
                             "' (" + join_keys(outputs) + ")",
                     "use --target with one of them, or add it under outputs:");
  }
  TargetConfig t;
  t.profile = profile_name;
  t.name = target_name;
  t.profiles_file = doc.file;
  t.where = doc.where(node);
  t.project_dir = options.project_dir;
  if (!node["type"]) return doc.error(node, "target '" + target_name + "' has no type", std::string("add `type:` ") + kTypes);
  STRATA_ASSIGN(t.type_name, yaml_string(doc, node["type"], "type"));
  STRATA_TRY(read_int(doc, node, "threads", t.threads));
  if (t.type_name == "duckdb") {
    t.type = TargetType::kDuckDb;
    STRATA_TRY(parse_duckdb(doc, node, t));
  } else if (t.type_name == "postgres") {
    t.type = TargetType::kPostgres;
    STRATA_TRY(parse_postgres(doc, node, t, options));
  } else if (t.type_name == "bigquery") {
    t.type = TargetType::kBigQuery;
    STRATA_TRY(parse_bigquery(doc, node, t, options));
  } else {
    return doc.error(node["type"], "unknown target type '" + t.type_name + "'", std::string("use ") + kTypes);
  }
  return t;
}

}  // namespace

std::string TargetConfig::duckdb_path() const {
  if (path.empty() || path == ":memory:") return ":memory:";
  fs::path p(path);
  if (p.is_absolute() || project_dir.empty()) return p.string();
  return (fs::path(project_dir) / p).lexically_normal().string();
}

std::string TargetConfig::postgres_conninfo() const {
  std::string out = "host=" + pg::quote_conninfo_value(host) + " port=" + std::to_string(port) +
                    " user=" + pg::quote_conninfo_value(user) + " dbname=" + pg::quote_conninfo_value(dbname) +
                    " connect_timeout=" + std::to_string(connect_timeout);
  if (!password.empty()) out += " password=" + pg::quote_conninfo_value(password);
  if (!sslmode.empty()) out += " sslmode=" + pg::quote_conninfo_value(sslmode);
  return out;
}

std::string TargetConfig::describe() const {
  switch (type) {
    case TargetType::kDuckDb: return "duckdb target " + name + " (path " + duckdb_path() + ", schema " + schema + ")";
    case TargetType::kPostgres:
      return "postgres target " + name + " (host " + host + ", port " + std::to_string(port) + ", database " + dbname +
             ", user " + user + ")";
    case TargetType::kBigQuery: return "bigquery target " + name + " (project " + project + ", dataset " + schema + ")";
  }
  return name;
}

Result<std::string> find_profiles_file(const ProfileOptions& options) {
  std::vector<std::string> folders;
  if (!options.profiles_dir.empty()) {
    folders.push_back(options.profiles_dir);  // an explicit folder is the only one searched
  } else {
    if (auto env_dir = options.env("DBT_PROFILES_DIR"); env_dir && !env_dir->empty()) folders.push_back(*env_dir);
    folders.push_back(options.project_dir.empty() ? "." : options.project_dir);
    if (auto home = options.env("HOME"); home && !home->empty()) folders.push_back(*home + "/.dbt");
  }
  std::string searched;
  for (const auto& folder : folders) {
    fs::path file = fs::path(folder) / "profiles.yml";
    if (fs::is_regular_file(file)) return file.string();
    searched += (searched.empty() ? "" : ", ") + folder;
  }
  return Error(ErrorCode::kNotFound, "no profiles.yml found (searched " + searched + ")", SourceLocation{},
               "pass --profiles-dir, or put profiles.yml in the project folder or ~/.dbt");
}

Result<TargetConfig> parse_target(std::string_view yaml_text, const std::string& file_name,
                                  const ProfileOptions& options) {
  STRATA_ASSIGN(YamlDocument doc, load_yaml_string(yaml_text, file_name, yaml_options(options)));
  return parse_document(doc, options);
}

Result<TargetConfig> load_target(const ProfileOptions& options) {
  STRATA_ASSIGN(std::string file, find_profiles_file(options));
  STRATA_ASSIGN(YamlDocument doc, load_yaml_file(file, yaml_options(options)));
  return parse_document(doc, options);
}

Result<std::unique_ptr<Database>> open_target(const TargetConfig& target, SecretMasker* masker) {
  if (target.type == TargetType::kPostgres) {
    auto db = open_postgres(target.postgres_conninfo(), masker);
    if (!db.ok()) return std::move(db).error().at(target.where);
    return db;
  }
  if (target.type == TargetType::kBigQuery) {
    auto db = open_bigquery(target, masker);
    if (!db.ok()) return std::move(db).error().at(target.where);
    return db;
  }
  const std::string path = target.duckdb_path();
  DuckDbOptions options;
  options.settings = target.settings;
  auto db = open_duckdb(path, options);
  if (!db.ok()) return std::move(db).error().at(target.where);
  return db;
}

}  // namespace strata::warehouse

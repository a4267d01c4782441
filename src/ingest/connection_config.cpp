#include "ingest/connection_config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "ingest/catalog.h"
#include "ingest/cursor.h"

namespace strata::ingest {
namespace {

constexpr std::pair<SyncMode, const char*> kModes[] = {
    {SyncMode::kFullRefreshOverwrite, "full_refresh_overwrite"},
    {SyncMode::kFullRefreshAppend, "full_refresh_append"},
    {SyncMode::kIncrementalAppend, "incremental_append"},
    {SyncMode::kIncrementalDedup, "incremental_dedup"},
};

// Rejects keys of a mapping that are not in `allowed`, with the list of valid ones.
Status check_keys(const YamlDocument& doc, const YamlNode& map, std::string_view what,
                  const std::vector<std::string>& allowed) {
  for (auto kv : map) {
    std::string key = kv.first.is_scalar() ? kv.first.scalar() : "?";
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      const std::string near = closest_match(key, std::vector<std::string_view>(allowed.begin(), allowed.end()), 2);
      return doc.error(kv.first, "unknown key '" + key + "' in " + std::string(what),
                       (near.empty() ? "" : "did you mean '" + near + "'? ") + "valid keys: " + join(allowed, ", "));
    }
  }
  return ok_status();
}

Result<YamlNode> require_map(const YamlDocument& doc, const YamlNode& parent, const char* key,
                               std::string_view what) {
  YamlNode node = parent[key];
  if (!node) return doc.error(parent, std::string(what) + " needs '" + key + "'", std::string("add ") + key + ": …");
  if (!node.is_map()) return doc.error(node, std::string(key) + " must be a mapping", std::string(key) + ":\n  key: value");
  return node;
}

// A string or a list of strings.
Result<std::vector<std::string>> string_list(const YamlDocument& doc, const YamlNode& node, std::string_view what) {
  std::vector<std::string> out;
  if (node.is_scalar()) {
    out.push_back(node.scalar());
    return out;
  }
  if (!node.is_sequence()) {
    return doc.error(node, std::string(what) + " must be a list of names", std::string(what) + ": [a, b]");
  }
  for (auto item : node) {
    STRATA_ASSIGN(std::string s, yaml_string(doc, item, what));
    out.push_back(std::move(s));
  }
  return out;
}

Status load_source(const YamlDocument& doc, const YamlNode& root, SourceConfig& source,
                   const YamlOptions& options, std::vector<std::string>& warnings) {
  STRATA_ASSIGN(YamlNode node, require_map(doc, root, "source", "a connection file"));
  STRATA_TRY(check_keys(doc, node, "source",
                        {"type", "host", "port", "database", "dbname", "user", "password", "sslmode", "schemas",
                         "replication", "replication_slot", "publication"}));
  source.where = doc.where(node);
  if (!node["type"]) return doc.error(node, "source needs 'type'", "type: postgres");
  STRATA_ASSIGN(std::string type, yaml_string(doc, node["type"], "type"));
  if (type != "postgres" && type != "postgresql") {
    return doc.error(node["type"], "unsupported source type '" + type + "'", "type: postgres");
  }
  if (node["host"]) {
    STRATA_ASSIGN(source.host, yaml_string(doc, node["host"], "host"));
  }
  if (node["port"]) {
    STRATA_ASSIGN(long long port, yaml_int(doc, node["port"], "port"));
    if (port < 1 || port > 65535) return doc.error(node["port"], "port must be between 1 and 65535", "port: 5432");
    source.port = static_cast<int>(port);
  }
  YamlNode db = node["database"] ? node["database"] : node["dbname"];
  if (!db) return doc.error(node, "source needs 'database'", "database: mydb");
  STRATA_ASSIGN(source.database, yaml_string(doc, db, "database"));
  if (!node["user"]) return doc.error(node, "source needs 'user'", "user: \"{{ env_var('PG_USER') }}\"");
  STRATA_ASSIGN(source.user, yaml_string(doc, node["user"], "user"));
  if (node["password"]) {
    STRATA_ASSIGN(source.password, yaml_string(doc, node["password"], "password"));
    if (options.masker && !source.password.empty()) options.masker->add(source.password);
    if (!source.password.empty() && !node["password"].is_templated()) {
      warnings.push_back(doc.where(node["password"]).to_string() +
                         ": warning: the source password is written in the connection file; keep it in the "
                         "environment instead\n  hint: password: \"{{ env_var('PGPASSWORD') }}\"");
    }
  }
  if (node["sslmode"]) {
    STRATA_ASSIGN(source.sslmode, yaml_string(doc, node["sslmode"], "sslmode"));
    static const std::set<std::string> kSsl = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
    if (!kSsl.count(source.sslmode)) {
      return doc.error(node["sslmode"], "unknown sslmode '" + source.sslmode + "'",
                       "one of disable, allow, prefer, require, verify-ca, verify-full");
    }
  }
  if (node["schemas"]) {
    STRATA_ASSIGN(source.schemas, string_list(doc, node["schemas"], "schemas"));
    source.where_schemas = doc.where(node["schemas"]);
  }
  if (node["replication"]) {
    STRATA_ASSIGN(source.replication, yaml_string(doc, node["replication"], "replication"));
    source.where_replication = doc.where(node["replication"]);
    if (source.replication != "standard" && source.replication != "cdc") {
      return doc.error(node["replication"], "unknown replication '" + source.replication + "'",
                       "replication: standard (cursor-based) or replication: cdc (logical replication)");
    }
  }
  for (const char* key : {"replication_slot", "publication"}) {
    if (!node[key]) continue;
    if (!source.cdc()) {
      return doc.error(node[key], std::string(key) + " is only used with replication: cdc", "replication: cdc");
    }
    const bool slot = std::string_view(key) == "replication_slot";
    STRATA_ASSIGN(std::string name, yaml_string(doc, node[key], key));
    (slot ? source.where_slot : source.where_publication) = doc.where(node[key]);
    (slot ? source.replication_slot : source.publication) = name;
    // PostgreSQL's slot names: lower-case letters, digits and underscores, at most 63.
    auto allowed = [&](char c) {
      if (!slot) return c != '\'' && c != '"';
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    };
    const bool valid = !name.empty() && name.size() <= 63 && std::all_of(name.begin(), name.end(), allowed);
    if (!valid) {
      return doc.error(node[key], std::string(key) + " '" + name + "' is not a valid name",
                       slot ? "lower-case letters, digits and underscores, at most 63 characters"
                            : "a publication name of at most 63 characters without quotes");
    }
  }
  return ok_status();
}

Status load_destination(const YamlDocument& doc, const YamlNode& root, DestinationConfig& dest) {
  YamlNode node = root["destination"];
  if (!node) return ok_status();
  if (!node.is_map()) return doc.error(node, "destination must be a mapping", "destination:\n  schema: bronze");
  STRATA_TRY(check_keys(doc, node, "destination", {"target", "schema", "duckdb_path"}));
  dest.where = doc.where(node);
  if (node["target"]) {
    STRATA_ASSIGN(dest.target, yaml_string(doc, node["target"], "target"));
  }
  if (node["schema"]) {
    STRATA_ASSIGN(dest.schema, yaml_string(doc, node["schema"], "schema"));
  }
  if (dest.schema.empty()) return doc.error(node["schema"], "schema must not be empty", "schema: bronze");
  if (node["duckdb_path"]) {
    STRATA_ASSIGN(dest.duckdb_path, yaml_string(doc, node["duckdb_path"], "duckdb_path"));
  }
  return ok_status();
}

// Strata's own tables and columns start with _strata_ (any case: DuckDB ignores it).
bool starts_with_strata(const std::string& name) { return to_lower(name).rfind("_strata_", 0) == 0; }

Status split_stream_name(const YamlDocument& doc, const YamlNode& node, const std::string& name, StreamConfig& s) {
  std::string why;
  std::optional<StreamName> parsed = parse_stream_name(name, why);
  if (!parsed) {
    return doc.error(node, "stream name '" + name + "' is not valid: " + why,
                     "name: public.orders, or name: '\"my.schema\".orders' for a schema whose name holds a dot");
  }
  s.schema = parsed->schema;
  s.table = parsed->table;
  s.exact_name = parsed->quoted;
  return ok_status();
}

// `cdc`: the source replicates with replication: cdc (see ingest/cdc.h).
Result<StreamConfig> load_stream(const YamlDocument& doc, const YamlNode& node, bool cdc) {
  StreamConfig s;
  if (cdc) s.mode = SyncMode::kIncrementalDedup;  // Airbyte's CDC default for a table with a key
  s.where = doc.where(node);
  if (node.is_scalar()) {  // "- public.orders" shorthand
    s.where_name = s.where;
    STRATA_TRY(split_stream_name(doc, node, node.scalar(), s));
    if (cdc) s.cursor_field = kLsnColumn;
    return s;
  }
  if (!node.is_map()) return doc.error(node, "a stream must be a mapping", "- name: public.orders\n  sync_mode: …");
  STRATA_TRY(check_keys(doc, node, "a stream",
                        {"name", "sync_mode", "cursor_field", "primary_key", "columns", "parallelism",
                         "bronze_table"}));
  if (!node["name"]) return doc.error(node, "a stream needs 'name'", "name: public.orders");
  STRATA_ASSIGN(std::string name, yaml_string(doc, node["name"], "name"));
  s.where_name = doc.where(node["name"]);
  STRATA_TRY(split_stream_name(doc, node["name"], name, s));
  s.where_mode = s.where_cursor = s.where_key = s.where_columns = s.where_name;
  if (node["sync_mode"]) {
    STRATA_ASSIGN(std::string mode, yaml_string(doc, node["sync_mode"], "sync_mode"));
    auto parsed = parse_sync_mode(mode);
    if (!parsed) {
      std::vector<std::string_view> names;
      for (const auto& [m, n] : kModes) names.push_back(n);
      const std::string near = closest_match(to_lower(mode), names);
      return doc.error(node["sync_mode"], "unknown sync_mode '" + mode + "'",
                       (near.empty() ? "" : "did you mean '" + near + "'? ") +
                           "one of full_refresh_overwrite, full_refresh_append, incremental_append, incremental_dedup");
    }
    s.mode = *parsed;
    s.where_mode = doc.where(node["sync_mode"]);
  }
  if (node["cursor_field"]) {
    STRATA_ASSIGN(s.cursor_field, yaml_string(doc, node["cursor_field"], "cursor_field"));
    s.where_cursor = doc.where(node["cursor_field"]);
  }
  if (node["primary_key"]) {
    STRATA_ASSIGN(s.primary_key, string_list(doc, node["primary_key"], "primary_key"));
    s.primary_key_given = true;
    s.where_key = doc.where(node["primary_key"]);
  }
  if (node["columns"]) {
    STRATA_ASSIGN(s.columns, string_list(doc, node["columns"], "columns"));
    s.where_columns = doc.where(node["columns"]);
  }
  if (node["parallelism"]) {
    STRATA_ASSIGN(long long p, yaml_int(doc, node["parallelism"], "parallelism"));
    if (p < 1 || p > 64) return doc.error(node["parallelism"], "parallelism must be between 1 and 64", "parallelism: 4");
    s.parallelism = static_cast<int>(p);
  }
  if (node["bronze_table"]) {
    STRATA_ASSIGN(s.bronze_table, yaml_string(doc, node["bronze_table"], "bronze_table"));
    if (s.bronze_table.empty() || starts_with_strata(s.bronze_table)) {
      return doc.error(node["bronze_table"], "bronze_table '" + s.bronze_table + "' is not allowed",
                       "a non-empty name that does not start with _strata_ (Strata's own tables)");
    }
  }
  if (cdc) {
    if (!is_incremental(s.mode)) {
      return doc.error(node["sync_mode"], std::string("sync_mode ") + sync_mode_name(s.mode) +
                                              " cannot read changes with replication: cdc",
                       "sync_mode: incremental_dedup (or incremental_append); a full refresh is strata sync "
                       "--full-refresh");
    }
    if (node["cursor_field"]) {
      return doc.error(node["cursor_field"], "a stream of a replication: cdc source has no cursor_field",
                       "remove it: changes are read from the WAL, ordered by their LSN (_strata_lsn)");
    }
    s.cursor_field = kLsnColumn;
  }
  if (is_incremental(s.mode) && s.cursor_field.empty()) {
    return doc.error(node, std::string(sync_mode_name(s.mode)) + " needs a cursor_field",
                     "add cursor_field: updated_at (a column that grows when a row changes)");
  }
  return s;
}

Error stream_error(const SourceLocation& at, std::string message, std::string hint) {
  return Error(ErrorCode::kConfig, std::move(message), at, std::move(hint));
}

// What keeps a stream from running though its table exists: a column named like Strata's own, a
// bronze name Strata keeps or another stream already lands in (`bronze_names`, lower-cased,
// gets this stream's).
std::optional<Error> stream_problem(const ConnectionConfig& config, const StreamConfig& s, const CatalogTable& table,
                                    std::map<std::string, const StreamConfig*>& bronze_names) {
  std::map<std::string, std::string> lowered;  // DuckDB's column names ignore case
  for (const CatalogColumn& c : table.columns) {
    if (!s.selects(c.name)) continue;
    const SourceLocation& at = s.columns.empty() ? s.where_name : s.where_columns;
    if (starts_with_strata(c.name)) {
      return stream_error(at,
                          "column '" + c.name + "' of " + s.full_name() +
                              " is named like Strata's own bronze columns (_strata_…)",
                          config.streams_listed ? "leave it out with columns: [...] on the stream"
                                                : "list the streams (streams: […]) and leave it out with columns: […]");
    }
    auto [same, fresh] = lowered.emplace(to_lower(c.name), c.name);
    if (!fresh) {
      return stream_error(at,
                          "columns '" + same->second + "' and '" + c.name + "' of " + s.full_name() +
                              " would land in one bronze column (bronze column names ignore case)",
                          config.streams_listed ? "keep one of them with columns: [...] on the stream"
                                                : "list the streams (streams: […]) and keep one of them with "
                                                  "columns: […]");
    }
  }
  const std::string bronze = bronze_table_name(s);
  if (starts_with_strata(bronze)) {
    return stream_error(s.where_name, "table " + s.full_name() + " would land in bronze table " + bronze +
                                          ", a name Strata keeps for its own tables",
                        "give the stream another name in bronze: bronze_table: <name>");
  }
  auto [other, fresh] = bronze_names.emplace(to_lower(bronze), &s);
  if (!fresh) {
    return stream_error(s.where_name,
                        "streams " + other->second->full_name() + " and " + s.full_name() +
                            " would both land in bronze table " + bronze + " (bronze names ignore case)",
                        config.streams_listed ? "give one of them another name: bronze_table: <name>"
                                              : "list the streams (streams: […]) and give one of them "
                                                "bronze_table: <name>");
  }
  return std::nullopt;
}

// The stream's table; a schema name may hold dots, so every dot of "schema.table" is tried (the
// stream keeps the split that matched).
const CatalogTable* find_table(const Catalog& catalog, StreamConfig& s) {
  if (const CatalogTable* t = catalog.find(s.schema, s.table)) return t;
  if (s.exact_name) return nullptr;
  const std::string full = s.full_name();
  for (size_t dot = full.find('.'); dot != std::string::npos; dot = full.find('.', dot + 1)) {
    if (const CatalogTable* t = catalog.find(full.substr(0, dot), full.substr(dot + 1))) {
      s.schema = t->schema;
      s.table = t->name;
      return t;
    }
  }
  return nullptr;
}

}  // namespace

const char* sync_mode_name(SyncMode mode) {
  for (const auto& [m, name] : kModes) {
    if (m == mode) return name;
  }
  return "?";
}

std::optional<SyncMode> parse_sync_mode(std::string_view name) {
  for (const auto& [m, n] : kModes) {
    if (name == n) return m;
  }
  if (name == "incremental_deduped_history") return SyncMode::kIncrementalDedup;  // Airbyte's name
  return std::nullopt;
}

std::string SourceConfig::conninfo() const {
  auto quote = [](const std::string& v) {
    std::string out = "'";
    for (char c : v) {
      if (c == '\'' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    return out + "'";
  };
  std::string s = "host=" + quote(host) + " port=" + std::to_string(port) + " dbname=" + quote(database) +
                  " user=" + quote(user) + " sslmode=" + quote(sslmode) + " application_name='strata'";
  if (!password.empty()) s += " password=" + quote(password);
  return s;
}

std::string connection_path(const std::string& project_dir, const std::string& name_or_path) {
  std::filesystem::path p(name_or_path);
  if (p.extension() == ".yml" || p.extension() == ".yaml") return name_or_path;
  std::filesystem::path base = project_dir.empty() ? std::filesystem::path(".") : std::filesystem::path(project_dir);
  return (base / "connections" / (name_or_path + ".yml")).string();
}

Result<ConnectionConfig> load_connection_config(const std::string& path, const YamlOptions& options) {
  YamlOptions strict = options;
  strict.other_jinja = false;  // nothing renders a connection file's values later
  strict.unique_keys = true;
  STRATA_ASSIGN(YamlDocument doc, load_yaml_file(path, strict));
  ConnectionConfig config;
  config.file = path;
  std::filesystem::path p(path);
  config.name = p.stem().string();
  std::filesystem::path folder = p.parent_path();
  config.project_dir = (folder.filename() == "connections" ? folder.parent_path() : folder).string();
  if (config.project_dir.empty()) config.project_dir = ".";
  const YamlNode& root = doc.root;
  if (!root.is_map()) return doc.error(root, "a connection file must be a mapping", "source:, destination:, streams:");
  STRATA_TRY(check_keys(doc, root, "a connection file",
                        {"source", "destination", "streams", "schema_changes", "parallel_threshold_mb",
                         "max_parallelism"}));
  STRATA_TRY(load_source(doc, root, config.source, options, config.warnings));
  STRATA_TRY(load_destination(doc, root, config.destination));
  if (root["schema_changes"]) {
    STRATA_ASSIGN(std::string v, yaml_string(doc, root["schema_changes"], "schema_changes"));
    if (v == "propagate") {
      config.schema_changes = SchemaChanges::kPropagate;
    } else if (v == "fail") {
      config.schema_changes = SchemaChanges::kFail;
    } else {
      return doc.error(root["schema_changes"], "unknown schema_changes '" + v + "'", "propagate or fail");
    }
  }
  if (root["parallel_threshold_mb"]) {
    STRATA_ASSIGN(long long mb, yaml_int(doc, root["parallel_threshold_mb"], "parallel_threshold_mb"));
    if (mb < 0) return doc.error(root["parallel_threshold_mb"], "parallel_threshold_mb must be >= 0", "e.g. 256");
    config.parallel_threshold_bytes = mb << 20;
  }
  if (root["max_parallelism"]) {
    STRATA_ASSIGN(long long n, yaml_int(doc, root["max_parallelism"], "max_parallelism"));
    if (n < 1 || n > 64) return doc.error(root["max_parallelism"], "max_parallelism must be between 1 and 64", "e.g. 4");
    config.max_parallelism = static_cast<int>(n);
  }
  if (YamlNode streams = root["streams"]) {
    if (!streams.is_sequence()) {
      return doc.error(streams, "streams must be a list", "streams:\n  - name: public.orders");
    }
    config.streams_listed = true;
    config.where_streams = doc.where(streams);
    std::set<std::string> seen;
    for (auto item : streams) {
      STRATA_ASSIGN(StreamConfig s, load_stream(doc, item, config.source.cdc()));
      if (!seen.insert(s.full_name()).second) {
        // "x.y"."z" and "x"."y.z" are two tables with one stream name, which keys one state row.
        return doc.error(item, "stream " + s.full_name() + " is listed twice",
                         "keep one entry per table; two tables both named " + s.full_name() +
                             " need two connections with different destination schemas");
      }
      config.streams.push_back(std::move(s));
    }
  }
  if (config.source.cdc()) {
    // strata_<connection>, in the characters a slot name may hold.
    std::string fallback = "strata_";
    for (char c : to_lower(config.name)) fallback += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    fallback = fallback.substr(0, 63);
    if (config.source.replication_slot.empty()) config.source.replication_slot = fallback;
    if (config.source.publication.empty()) config.source.publication = fallback;
    if (!config.streams_listed) {
      return Error(ErrorCode::kConfig,
                   "replication: cdc needs a streams: list (the tables of its publication to sync)",
                   config.source.where_replication,
                   "streams:\n  - name: public.orders\n    sync_mode: incremental_dedup");
    }
  }
  return config;
}

// Every schema of source.schemas exists in the source, unless a stream of it synced before (its
// streams then fail alone, as any stream whose table left).
Status check_schemas(const ConnectionConfig& config, const Catalog& catalog, const SyncedStreams& synced) {
  for (const std::string& schema : config.source.schemas) {
    if (std::find(catalog.schemas.begin(), catalog.schemas.end(), schema) != catalog.schemas.end()) continue;
    const bool synced_before = std::any_of(synced.begin(), synced.end(),
                                           [&](const auto& s) { return s.first.rfind(schema + ".", 0) == 0; });
    if (synced_before) continue;
    const std::string near =
        closest_match(schema, std::vector<std::string_view>(catalog.schemas.begin(), catalog.schemas.end()));
    return stream_error(config.source.where_schemas.empty() ? config.source.where : config.source.where_schemas,
                        "schema '" + schema + "' is not in the source",
                        (near.empty() ? "" : "did you mean " + near + "? ") + "schemas found: " +
                            join(catalog.schemas, ", "));
  }
  return ok_status();
}

// Whether the file names another cursor or key than the stream's last sync used.
bool file_changed(const SyncedStream& synced, const StreamConfig& s) {
  if (synced.cursor_field != s.cursor_field) return true;
  return s.primary_key_given && !synced.primary_key.empty() &&
         synced.primary_key != nlohmann::json(s.primary_key).dump();
}

// The stream against its source table (null: not found): the table, its `columns`, cursor and
// primary key exist, the cursor's type can be one, and dedup has a key. Fills the key from the table and adds the cursor and
// key to a `columns` list. The first problem, located in the file, or nothing.
std::optional<Error> check_against_table(const Catalog& catalog, const CatalogTable* table, StreamConfig& s) {
  if (!table) {
    if (auto parent = catalog.partition_parents.find(s.full_name()); parent != catalog.partition_parents.end()) {
      return stream_error(s.where_name, s.full_name() + " is a partition of " + parent->second,
                          "sync the partitioned table instead: name: " + parent->second +
                              " (its partitions are read through it)");
    }
    std::vector<std::string> names, all;
    for (const CatalogTable& t : catalog.tables) {
      if (names.size() < 8) names.push_back(t.full_name());
      all.push_back(t.full_name());
    }
    const std::string near = closest_match(s.full_name(), std::vector<std::string_view>(all.begin(), all.end()));
    return stream_error(s.where_name, "unknown table " + s.full_name() + " in the source",
                        names.empty() ? "the source has no tables in the configured schemas"
                                      : (near.empty() ? "" : "did you mean " + near + "? ") + "tables found: " +
                                            join(names, ", ") + (catalog.tables.size() > 8 ? ", …" : ""));
  }
  if (!table->readable) {
    return stream_error(s.where_name, "the source's user cannot read " + s.full_name() + " (" +
                                          table->not_readable_reason() + ")",
                        table->not_readable_hint());
  }
  for (const std::string& c : s.columns) {
    if (!table->column(c)) {
      return stream_error(s.where_columns, "column '" + c + "' is not in " + s.full_name(),
                          "run strata discover to see its columns");
    }
  }
  if (!s.cursor_field.empty() && s.cursor_field != kLsnColumn) {
    if (!table->column(s.cursor_field)) {
      std::string hint = table->suggested_cursors.empty()
                             ? "run strata discover to see its columns"
                             : "suggested cursor columns: " + join(table->suggested_cursors, ", ");
      return stream_error(s.where_cursor,
                          "cursor_field '" + s.cursor_field + "' is not a column of " + s.full_name(), hint);
    }
    const CatalogColumn* cursor = table->column(s.cursor_field);
    if (!cursor_type_supported(cursor->mapping.type) || cursor->mapping.array_depth > 0) {
      return stream_error(s.where_cursor,
                          "cursor_field '" + s.cursor_field + "' has type " + cursor->pg_type +
                              "; a cursor must be an integer, date or timestamp column",
                          "pick a column that grows when a row changes, e.g. updated_at");
    }
    if (!s.columns.empty() && std::find(s.columns.begin(), s.columns.end(), s.cursor_field) == s.columns.end()) {
      s.columns.push_back(s.cursor_field);
    }
  }
  if (!s.primary_key_given) s.primary_key = table->primary_key;
  for (const std::string& k : s.primary_key) {
    if (!table->column(k)) {
      return stream_error(s.where_key, "primary_key column '" + k + "' is not in " + s.full_name(),
                          "run strata discover to see its columns");
    }
    if (!s.columns.empty() && std::find(s.columns.begin(), s.columns.end(), k) == s.columns.end()) {
      s.columns.push_back(k);
    }
  }
  if (s.mode == SyncMode::kIncrementalDedup && s.primary_key.empty()) {
    return stream_error(s.primary_key_given ? s.where_key : s.where_mode,
                        s.primary_key_given ? "incremental_dedup needs a primary key, and primary_key is empty"
                                            : "incremental_dedup needs a primary key, and " + s.full_name() +
                                                  " has none",
                        "add primary_key: [col, …] to the stream, or use incremental_append");
  }
  return std::nullopt;
}

Status validate_streams(ConnectionConfig& config, const Catalog& catalog, const SyncedStreams& synced) {
  STRATA_TRY(check_schemas(config, catalog, synced));
  if (!config.streams_listed) {
    for (const CatalogTable& t : catalog.tables) {
      if (!t.readable && !synced.count(t.full_name())) continue;  // as Airbyte's catalog leaves it out
      StreamConfig s;
      s.schema = t.schema;
      s.table = t.name;
      s.where = s.where_name = SourceLocation{config.file, 0, 0};
      config.streams.push_back(std::move(s));
    }
  }
  if (config.streams.empty()) {
    return stream_error(config.streams_listed ? config.where_streams : SourceLocation{config.file, 0, 0},
                        config.streams_listed ? "streams: lists no table" : "the source has no table to sync",
                        config.streams_listed ? "list at least one: streams:\n  - name: public.orders"
                                              : "check source.schemas (strata discover CONN lists what it sees)");
  }
  std::map<std::string, const StreamConfig*> bronze_names;  // lower-cased
  std::map<std::string, const StreamConfig*> stream_names;  // a stream's name keys its state
  for (StreamConfig& s : config.streams) {
    auto [same, fresh] = stream_names.emplace(s.full_name(), &s);
    if (!fresh) {
      // Only discovered tables can meet here: schema "x.y" with table "z", and schema "x" with "y.z".
      s.invalid = stream_error(s.where_name,
                               "tables \"" + same->second->schema + "\".\"" + same->second->table + "\" and \"" +
                                   s.schema + "\".\"" + s.table + "\" are both named " + s.full_name() +
                                   ", which keys one stream's state; only the first is synced",
                               "rename one of them in the source, or list the one to sync with its name quoted: "
                               "streams: [{name: '" + quoted_stream_name(s.schema, s.table) + "'}]");
      continue;
    }
    const CatalogTable* table = find_table(catalog, s);
    std::optional<Error> drift = check_against_table(catalog, table, s);
    const auto state = synced.find(s.full_name());
    if (drift && (state == synced.end() || file_changed(state->second, s))) return *std::move(drift);
    if (drift) {
      // Synced before: the source changed, not the file, and the other streams still run.
      s.invalid = std::move(drift);
      continue;
    }
    std::optional<Error> problem = stream_problem(config, s, *table, bronze_names);
    if (problem && config.streams_listed) return *std::move(problem);
    s.invalid = std::move(problem);
  }
  return ok_status();
}

std::string default_bronze_table(const std::string& source_schema, const std::string& source_table) {
  return source_schema == "public" ? source_table : source_schema + "_" + source_table;
}

std::string bronze_table_name(const StreamConfig& stream) {
  return stream.bronze_table.empty() ? default_bronze_table(stream.schema, stream.table) : stream.bronze_table;
}

}  // namespace strata::ingest

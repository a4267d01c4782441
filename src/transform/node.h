#pragma once
// The nodes of a dbt project (models, seeds, snapshots, tests, sources, analyses) and macros, as
// parsed from disk. Plain values: built by the parser, then read-only (safe to share across threads).

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace strata::transform {

using Json = nlohmann::ordered_json;

enum class ResourceType : std::uint8_t { kModel, kSeed, kSnapshot, kTest, kSource, kAnalysis };

// "model", "seed", "snapshot", "test", "source", "analysis".
const char* resource_type_name(ResourceType type);
// Parses a resource type name; nullopt when unknown.
std::optional<ResourceType> parse_resource_type(std::string_view name);

// A `ref('name')` or `ref('package', 'name')` call found in a node, with an optional version.
struct RefCall {
  std::string package;  // empty when not given
  std::string name;
  std::string version;  // empty when not given
  bool operator==(const RefCall&) const = default;
};

// A `source('source_name', 'table_name')` call.
struct SourceCall {
  std::string source_name;
  std::string table_name;
  bool operator==(const SourceCall&) const = default;
};

// A documented column (from property files).
struct ColumnDoc {
  std::string name;
  std::string description;
  std::string data_type;  // empty when not given
  Json constraints = Json::array();  // [{type, expression, name, to, to_columns}], as written (see contract.h)
  Json meta = Json::object();
  std::vector<std::string> tags;
};

// What a generic test was created from: `unique`, `not_null`, a custom `{% test %}` macro...
struct TestMetadata {
  std::string name;        // macro name without the "test_" prefix, e.g. "accepted_values"
  std::string namespace_;  // package of the test macro when given as `pkg.test`; else empty
  Json kwargs = Json::object();  // arguments, with `column_name` and `model` as dbt renders them
  // The column is quoted in the test's SQL with the adapter's quotes (the column's `quote: true`,
  // or its source's `quoting: {column: true}`), as dbt passes `column_name`.
  bool quote_column = false;
};

// Where each config key of a node was last set (the winning place: an in-file config() call, a
// property file's `config:`, or dbt_project.yml), by normalised key; keys left at their defaults
// have no entry. Shared: every node under a dbt_project.yml folder config points at one location.
using ConfigOrigins = std::map<std::string, std::shared_ptr<const SourceLocation>, std::less<>>;
// A ConfigOrigins entry for `where`.
inline std::shared_ptr<const SourceLocation> config_origin(SourceLocation where) {
  return std::make_shared<const SourceLocation>(std::move(where));
}

// One node of the graph. Fields not relevant to a resource type stay empty.
struct Node {
  std::string unique_id;            // "model.jaffle.orders", "source.jaffle.raw.orders"...
  ResourceType resource_type = ResourceType::kModel;
  std::string name;                 // model/seed/snapshot/test name; for sources the table name
  std::string package_name;
  std::string path;                 // relative to its resource folder (dbt's `path`)
  std::string original_file_path;   // relative to the project root
  std::vector<std::string> fqn;
  std::string raw_code;             // SQL with Jinja; for seeds empty
  std::string language = "sql";
  Json config = Json::object();     // resolved configs (project tree + properties + in-file)
  std::string description;
  std::vector<ColumnDoc> columns;
  Json constraints = Json::array();  // model-level constraints ({type, columns, expression, to, to_columns})
  Json meta = Json::object();
  std::vector<std::string> tags;
  std::string patch_path;           // property file that documented this node, if any
  SourceLocation where;             // the node's definition (file and line), for errors
  ConfigOrigins config_where;       // where config's keys were set, for errors about their values
  // Nodes whose Jinja the static scan could not read exactly (rendered at parse time):
  // `config_before_file` is their config before the scanned in-file config() calls were merged,
  // which the render restores for keys that no branch it took sets; `enabled_undecided` marks
  // those that may set enabled, whose refs the graph links only once the render decided.
  Json config_before_file;
  bool enabled_undecided = false;

  // Dependencies as written; resolved into `depends_on` by the graph.
  std::vector<RefCall> refs;
  std::vector<SourceCall> sources;
  std::vector<std::string> depends_on;         // unique ids of parents (filled by Graph)
  std::vector<std::string> depends_on_macros;  // "macro.pkg.name"

  // Relation (filled by the resolver from configs and generate_* macros).
  std::string database;
  std::string schema;
  std::string alias;                // the relation's name (identifier for sources)
  std::string relation_name;        // quoted, qualified name as SQL sees it ("" until resolved)

  // Tests.
  std::optional<TestMetadata> test_metadata;  // set for generic tests
  std::string column_name;          // the tested column, when attached to one
  std::string attached_node;        // unique id of the tested node, when any
  std::string file_key_name;        // e.g. "models.orders" for generic tests

  // Sources.
  std::string source_name;
  std::string source_description;
  std::string identifier;
  std::string loaded_at_field;
  Json freshness = nullptr;         // {warn_after:{count,period}, error_after:{...}, filter}
  Json quoting = Json::object();

  // Snapshots defined in YAML: the select they snapshot.
  bool is_yaml_snapshot = false;

  // Unit tests (dbt ≥ 1.8), a kind of test: {model, given, expect, overrides} as written in the
  // property file (given: [{input, rows, format}], expect: {rows, format}); null for other nodes.
  Json unit_test = nullptr;

  bool is_test() const { return resource_type == ResourceType::kTest; }
  // The configured materialization (config.materialized), "" when none. Valid while config is
  // unchanged.
  const std::string& materialized() const;
  bool enabled() const;
  // Sets `tags` to config's tags and merges config's meta into `meta`: what a node's config says of
  // them once its configs are merged (after parsing, and again after a parse-time render).
  void refresh_tags_and_meta();
  // Where config `key` was set (see ConfigOrigins); the node's definition when it was not.
  const SourceLocation& config_location(std::string_view key) const;
};

// A macro definition found in a .sql file under a macro path (or a `{% test %}` / `{% snapshot %}`
// file); body is rendered by the Jinja layer.
struct MacroDef {
  std::string unique_id;            // "macro.pkg.name"
  std::string name;
  std::string package_name;
  std::string original_file_path;
  std::string path;
  std::string description;
  std::vector<std::string> arguments;
  int line = 0;
  std::string macro_sql;                       // the block, `{% macro … %}` through `{% endmacro %}`
  std::vector<std::string> depends_on_macros;  // macros it calls ("macro.pkg.name"), see macro_deps.h
};

// A `{% docs name %}...{% enddocs %}` block.
struct DocBlock {
  std::string unique_id;  // "doc.pkg.name"
  std::string name;
  std::string package_name;
  std::string original_file_path;
  std::string contents;
};

}  // namespace strata::transform

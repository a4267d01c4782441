// Property files (`version: 2`): patches for models/seeds/snapshots/analyses, YAML snapshots,
// sources, macro docs, and the generic tests they declare.
#include <algorithm>
#include <set>

#include "common/parallel.h"
#include "common/strings.h"
#include "transform/parser_internal.h"
#include "transform/static_parser.h"

namespace strata::transform::detail {

namespace {

constexpr const char* kTestConfigKeys[] = {"severity", "where", "limit", "warn_if", "error_if", "store_failures",
                                           "store_failures_as", "tags", "meta", "enabled", "fail_calc", "alias",
                                           "schema", "database"};

bool is_test_config_key(std::string_view key) {
  for (auto k : kTestConfigKeys)
    if (key == k) return true;
  return false;
}

std::string scalar_or(const YamlNode& node, const char* key, std::string fallback = {}) {
  const YamlNode v = node[key];
  return v && v.is_scalar() ? v.scalar() : fallback;
}

// What a generic test is attached to: the few fields of the tested node (model/seed/snapshot or
// source) a test needs, copied so that adding nodes (which may move the node vector) keeps them valid.
struct TestTarget {
  ResourceType resource_type = ResourceType::kModel;
  std::string name;
  std::string source_name;  // sources only
  std::string unique_id;
  std::string column;       // empty for node-level tests
  bool quote_column = false;  // see TestMetadata::quote_column

  static TestTarget of(const Node& n, std::string column = {}, bool quote_column = false) {
    return {n.resource_type, n.name, n.source_name, n.unique_id, std::move(column), quote_column};
  }
};

// Whether a column's tests quote its name: its own `quote:` if given, else `otherwise` (a source's
// quoting.column). Errors: a `quote:` that is not a boolean (located).
Result<bool> column_quoted(const YamlDocument& doc, const YamlNode& column, bool otherwise) {
  const YamlNode quote = column["quote"];
  if (!quote || quote.is_null()) return otherwise;
  return yaml_bool(doc, quote, "quote");
}

struct FileContext {
  const YamlDocument* doc;
  std::string original_file_path;
  std::vector<std::string> folders;  // folders of the property file inside its resource dir
};

// Merges a property file's `config:` into `out`; `out_where` (optional) gets where each key is.
Status config_into(const YamlDocument& doc, const YamlNode& config, const std::string& kind, Json& out,
                   ConfigOrigins* out_where = nullptr) {
  if (!config) return ok_status();
  if (!config.is_map()) return doc.error(config, "`config` must be a mapping");
  STRATA_TRY(check_config_keys(doc, config, kind));
  Json c = Json::object();
  ConfigOrigins where;
  for (const auto& kv : config) {
    const std::string key = normalize_config_key(kv.first.scalar());
    c[key] = yaml_to_json(kv.second);
    if (out_where) where[key] = config_origin(doc.where(kv.second));
  }
  if (out_where)
    merge_configs(out, *out_where, c, where);
  else
    merge_configs(out, c);
  return ok_status();
}

void collect_refs_from_args(const Json& value, Node& test) {
  if (value.is_string()) {
    std::string text = value.get<std::string>();
    if (text.find("ref(") == std::string::npos && text.find("source(") == std::string::npos) return;
    StaticScan scan = static_scan("{{ " + text + " }}");
    test.refs.insert(test.refs.end(), scan.refs.begin(), scan.refs.end());
    test.sources.insert(test.sources.end(), scan.sources.begin(), scan.sources.end());
  } else if (value.is_array() || value.is_object()) {
    for (const auto& v : value) collect_refs_from_args(v, test);
  }
}

// Builds the test node of one entry of a `tests:` list; touches nothing shared.
Status build_generic_test(const ParseState& state, const FileContext& ctx, const YamlNode& entry,
                          const TestTarget& target, Node& test) {
  const ProjectConfig& p = state.out.project;
  const YamlDocument& doc = *ctx.doc;
  std::string test_name;
  YamlNode body;
  if (entry.is_scalar()) {
    test_name = entry.scalar();
  } else if (entry.is_map() && entry["test_name"]) {
    test_name = entry["test_name"].scalar();
    body = entry;
  } else if (entry.is_map() && entry.size() == 1) {
    auto kv = *entry.begin();
    test_name = kv.first.scalar();
    body = kv.second;
  } else {
    return doc.error(entry, "a test must be a name (`- unique`) or a mapping with one test name",
                     "write e.g. `- accepted_values: {values: ['a', 'b']}`");
  }
  if (body && !body.is_null() && !body.is_map())
    return doc.error(body, "the arguments of test '" + test_name + "' must be a mapping");

  test.resource_type = ResourceType::kTest;
  test.package_name = p.name;
  test.original_file_path = ctx.original_file_path;
  test.path = ctx.original_file_path;
  test.where = doc.where(entry);
  TestMetadata meta;
  auto dot = test_name.find('.');
  meta.name = dot == std::string::npos ? test_name : test_name.substr(dot + 1);
  if (dot != std::string::npos) meta.namespace_ = test_name.substr(0, dot);
  Json args = Json::object();
  Json config = Json::object();
  ConfigOrigins config_where;
  std::string custom_name;
  if (body && body.is_map()) {
    for (const auto& kv : body) {
      const std::string key = kv.first.scalar();
      if (key == "test_name" || key == "description") continue;
      if (key == "name") {
        custom_name = kv.second.scalar();
      } else if (key == "config") {
        STRATA_TRY(config_into(doc, kv.second, "tests", config, &config_where));
      } else if (key == "arguments") {
        if (!kv.second.is_map()) return doc.error(kv.second, "`arguments` must be a mapping");
        for (const auto& a : kv.second) args[a.first.scalar()] = yaml_to_json(a.second);
      } else if (is_test_config_key(key)) {
        config[normalize_config_key(key)] = yaml_to_json(kv.second);
        config_where[normalize_config_key(key)] = config_origin(doc.where(kv.second));
      } else {
        args[key] = yaml_to_json(kv.second);
      }
    }
  }
  const TestTarget& on = target;
  bool is_source = on.resource_type == ResourceType::kSource;
  std::string target_name = is_source ? on.source_name + "_" + on.name : on.name;
  if (!target.column.empty()) args["column_name"] = target.column;
  std::string name_prefix = is_source ? "source_" + meta.name : meta.name;
  if (!meta.namespace_.empty()) name_prefix = meta.namespace_ + "_" + name_prefix;
  test.name = custom_name.empty() ? generic_test_name(name_prefix, target_name, args) : custom_name;
  if (is_source) {
    test.sources.push_back({on.source_name, on.name});
    args["model"] = "{{ get_where_subquery(source('" + on.source_name + "', '" + on.name + "')) }}";
  } else {
    test.refs.push_back({"", on.name, ""});
    args["model"] = "{{ get_where_subquery(ref('" + on.name + "')) }}";
  }
  for (auto it = args.begin(); it != args.end(); ++it)
    if (it.key() != "model") collect_refs_from_args(it.value(), test);
  meta.kwargs = std::move(args);
  meta.quote_column = !target.column.empty() && target.quote_column;
  test.test_metadata = std::move(meta);
  test.column_name = target.column;
  test.attached_node = on.unique_id;
  test.file_key_name = (is_source ? "sources." + on.source_name : std::string(resource_type_name(on.resource_type)) +
                                                                      "s." + on.name);
  test.raw_code = "{{ " + (test.test_metadata->namespace_.empty() ? "" : test.test_metadata->namespace_ + ".") +
                  "test_" + test.test_metadata->name + "(**_dbt_generic_test_kwargs) }}";
  test.fqn.push_back(p.name);
  test.fqn.insert(test.fqn.end(), ctx.folders.begin(), ctx.folders.end());
  test.fqn.push_back(test.name);
  test.unique_id = "test." + p.name + "." + test.name + "." +
                   md5_hex(test.name + "|" + on.unique_id + "|" + target.column + "|" + test.test_metadata->kwargs.dump())
                       .substr(0, 10);
  test.config = default_config(ResourceType::kTest);
  apply_project_configs(state, "tests", test.fqn, test.config, &test.config_where);
  merge_configs(test.config, test.config_where, config, config_where);
  return ok_status();
}

// The generic tests of one property file, in declaration order. They are built on a few threads
// when flushed (a file may declare thousands) and then added in that order. Flush before adding
// any other node, so that nodes keep the order they are declared in, and before returning an
// error, so that the first error in the file is the one reported.
class TestBatch {
 public:
  explicit TestBatch(const FileContext& ctx) : ctx_(ctx) {}

  // Queues the entries of holder's `tests:` / `data_tests:` lists. Errors: a list that is not one.
  Status add(const YamlNode& holder, const TestTarget& target) {
    for (const char* key : {"tests", "data_tests"}) {
      const YamlNode list = holder[key];
      if (!list || list.is_null()) continue;
      if (!list.is_sequence()) return ctx_.doc->error(list, std::string("`") + key + "` must be a list");
      for (const auto& entry : list) pending_.push_back({entry, target});
    }
    return ok_status();
  }

  // Builds and adds the queued tests. Errors: the first bad test entry, in declaration order.
  Status flush(ParseState& state) {
    std::vector<Node> built(pending_.size());
    Status status = parallel_for_status(pending_.size(), [&](size_t i) {
      return build_generic_test(state, ctx_, pending_[i].entry, pending_[i].target, built[i]);
    });
    pending_.clear();
    STRATA_TRY(status);
    for (Node& test : built) add_node(state, std::move(test));
    return ok_status();
  }

 private:
  struct Pending {
    YamlNode entry;
    TestTarget target;
  };
  const FileContext& ctx_;
  std::vector<Pending> pending_;
};

// A `constraints:` list (dbt ≥ 1.5, applied when the model's contract is enforced): each item a
// mapping with a known `type`, and what that type needs. `model_level` items name their
// `columns` (primary_key, unique, foreign_key).
Result<Json> parse_constraints(const YamlDocument& doc, const YamlNode& list, bool model_level) {
  Json out = Json::array();
  if (!list || list.is_null()) return out;
  if (!list.is_sequence()) return doc.error(list, "`constraints` must be a list of {type: …}");
  static const std::set<std::string> kTypes = {"not_null", "unique", "primary_key", "check", "foreign_key", "custom"};
  for (const auto& item : list) {
    if (!item.is_map() || !item["type"])
      return doc.error(item, "a constraint needs a `type`", "one of not_null, unique, primary_key, check, foreign_key, custom");
    const std::string type = item["type"].scalar();
    if (!kTypes.count(type))
      return doc.error(item["type"], "unknown constraint type '" + type + "'",
                       "use not_null, unique, primary_key, check, foreign_key or custom");
    Json c = yaml_to_json(item);
    const bool has_expression = !scalar_or(item, "expression").empty();
    if ((type == "check" || type == "custom") && !has_expression)
      return doc.error(item, "a " + type + " constraint needs an `expression`", "e.g. expression: \"amount >= 0\"");
    if (type == "foreign_key" && !has_expression && !item["to"])
      return doc.error(item, "a foreign_key constraint needs `to` and `to_columns`, or an `expression`",
                       "e.g. to: ref('customers')\n  to_columns: [id]");
    if (model_level && type == "not_null")
      return doc.error(item, "not_null is a column constraint", "put it under the column's `constraints:`");
    if (model_level && type != "check" && type != "custom" && !(item["columns"] && item["columns"].is_sequence()))
      return doc.error(item, "a model-level " + type + " constraint needs `columns: [...]`");
    out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<ColumnDoc>> parse_columns(ParseState& state, const FileContext& ctx, const YamlNode& list,
                                             const Node* target, std::vector<std::pair<std::string, YamlNode>>& tests) {
  std::vector<ColumnDoc> out;
  if (!list || list.is_null()) return out;
  if (!list.is_sequence()) return ctx.doc->error(list, "`columns` must be a list of {name, description, tests}");
  (void)state;
  (void)target;
  for (const auto& node : list) {
    const YamlNode& col = node;
    if (!node.is_map() || !col["name"]) return ctx.doc->error(node, "a column needs a `name`");
    ColumnDoc c;
    c.name = col["name"].scalar();
    c.description = scalar_or(col, "description");
    c.data_type = scalar_or(col, "data_type");
    STRATA_ASSIGN(c.constraints, parse_constraints(*ctx.doc, col["constraints"], false));
    if (col["meta"]) c.meta = yaml_to_json(col["meta"]);
    if (col["tags"] && col["tags"].is_sequence())
      for (const auto& t : col["tags"]) c.tags.push_back(t.scalar());
    tests.emplace_back(c.name, std::move(col));
    out.push_back(std::move(c));
  }
  return out;
}

Status patch_nodes(ParseState& state, const FileContext& ctx, const YamlNode& list, ResourceType type,
                   const std::string& kind, TestBatch& tests) {
  const YamlDocument& doc = *ctx.doc;
  if (!list.is_sequence()) return doc.error(list, "`" + kind + "` must be a list of {name: …}");
  for (const auto& node_yaml : list) {
    const YamlNode& entry = node_yaml;
    if (!node_yaml.is_map() || !entry["name"])
      return doc.error(node_yaml, "each entry of `" + kind + "` needs a `name`");
    const std::string name = entry["name"].scalar();
    auto found = state.by_name.find(std::string(resource_type_name(type)) + ":" + name);
    if (found == state.by_name.end() && type == ResourceType::kSnapshot && entry["relation"]) {
      // A snapshot defined in YAML (dbt ≥ 1.9): select * from its relation.
      Node node;
      node.resource_type = ResourceType::kSnapshot;
      node.name = name;
      node.package_name = state.out.project.name;
      node.original_file_path = ctx.original_file_path;
      node.path = ctx.original_file_path;
      node.where = doc.where(node_yaml);
      node.is_yaml_snapshot = true;
      node.raw_code = "select * from {{ " + entry["relation"].scalar() + " }}";
      StaticScan scan = static_scan(node.raw_code);
      node.refs = scan.refs;
      node.sources = scan.sources;
      node.fqn = {state.out.project.name};
      node.fqn.insert(node.fqn.end(), ctx.folders.begin(), ctx.folders.end());
      node.fqn.push_back(name);
      node.unique_id = "snapshot." + node.package_name + "." + name;
      node.config = default_config(ResourceType::kSnapshot);
      apply_project_configs(state, "snapshots", node.fqn, node.config, &node.config_where);
      STRATA_TRY(tests.flush(state));
      add_node(state, std::move(node));
      found = state.by_name.find("snapshot:" + name);
    }
    if (found == state.by_name.end()) {
      state.out.warnings.push_back(doc.where(node_yaml).to_string() + ": did not find a " + resource_type_name(type) +
                                   " named '" + name + "' for these properties; they are ignored");
      continue;
    }
    size_t index = static_cast<size_t>(found->second);
    {
      Node& node = state.out.nodes[index];
      node.patch_path = state.out.project.name + "://" + ctx.original_file_path;
      node.description = scalar_or(entry, "description", node.description);
      STRATA_TRY(config_into(doc, entry["config"], kind, node.config, &node.config_where));
      if (entry["meta"]) merge_configs(node.config, Json{{"meta", yaml_to_json(entry["meta"])}});
      if (entry["tags"]) merge_configs(node.config, Json{{"tags", yaml_to_json(entry["tags"])}});
      if (entry["docs"]) merge_configs(node.config, Json{{"docs", yaml_to_json(entry["docs"])}});
    }
    std::vector<std::pair<std::string, YamlNode>> column_tests;
    STRATA_ASSIGN(auto columns, parse_columns(state, ctx, entry["columns"], &state.out.nodes[index], column_tests));
    state.out.nodes[index].columns = std::move(columns);
    STRATA_ASSIGN(state.out.nodes[index].constraints, parse_constraints(doc, entry["constraints"], true));
    add_foreign_key_dependencies(state.out.nodes[index]);
    if (!state.out.nodes[index].enabled()) continue;
    // Flushing tests appends to nodes: take what the tests need before the vector can move.
    STRATA_TRY(tests.add(entry, TestTarget::of(state.out.nodes[index])));
    for (const auto& [column, col] : column_tests) {
      STRATA_ASSIGN(bool quoted, column_quoted(doc, col, false));
      STRATA_TRY(tests.add(col, TestTarget::of(state.out.nodes[index], column, quoted)));
    }
  }
  return ok_status();
}

Json merged_freshness(const Json& source_level, const YamlNode& table_node, bool& disabled) {
  disabled = false;
  if (table_node && table_node.is_null()) {
    disabled = true;
    return nullptr;
  }
  Json f = source_level;
  if (table_node && table_node.is_map()) {
    if (!f.is_object()) f = Json::object();
    f.update(yaml_to_json(table_node));
  }
  return f;
}

Status parse_sources(ParseState& state, const FileContext& ctx, const YamlNode& list, TestBatch& tests) {
  const YamlDocument& doc = *ctx.doc;
  const ProjectConfig& p = state.out.project;
  if (!list.is_sequence()) return doc.error(list, "`sources` must be a list of {name, schema, tables}");
  for (const auto& src : list) {
    if (!src.is_map() || !src["name"]) return doc.error(src, "a source needs a `name`");
    const std::string source_name = src["name"].scalar();
    Json source_config = Json::object();
    STRATA_TRY(config_into(doc, src["config"], "sources", source_config));
    Json source_freshness = src["freshness"] ? yaml_to_json(src["freshness"]) : Json(nullptr);
    if (source_config.contains("freshness")) source_freshness = source_config["freshness"];
    std::string source_loaded_at = scalar_or(src, "loaded_at_field");
    const YamlNode tables = src["tables"];
    if (!tables) continue;
    if (!tables.is_sequence()) return doc.error(tables, "`tables` must be a list of {name: …}");
    for (const auto& tbl : tables) {
      if (!tbl.is_map() || !tbl["name"]) return doc.error(tbl, "a source table needs a `name`");
      Node node;
      node.resource_type = ResourceType::kSource;
      node.name = tbl["name"].scalar();
      node.source_name = source_name;
      node.package_name = p.name;
      node.original_file_path = ctx.original_file_path;
      node.path = ctx.original_file_path;
      node.where = doc.where(tbl);
      node.unique_id = "source." + p.name + "." + source_name + "." + node.name;
      node.fqn = {p.name};
      node.fqn.insert(node.fqn.end(), ctx.folders.begin(), ctx.folders.end());
      node.fqn.push_back(source_name);
      node.fqn.push_back(node.name);
      node.database = scalar_or(src, "database", scalar_or(src, "catalog"));
      node.schema = scalar_or(src, "schema", source_name);
      node.identifier = scalar_or(tbl, "identifier", node.name);
      node.alias = node.identifier;
      node.description = scalar_or(tbl, "description");
      node.source_description = scalar_or(src, "description");
      node.loaded_at_field = scalar_or(tbl, "loaded_at_field", source_loaded_at);
      if (src["quoting"]) node.quoting = yaml_to_json(src["quoting"]);
      if (tbl["quoting"]) node.quoting.update(yaml_to_json(tbl["quoting"]));
      node.config = default_config(ResourceType::kSource);
      apply_project_configs(state, "sources", {p.name, source_name, node.name}, node.config, &node.config_where);
      merge_configs(node.config, source_config);
      STRATA_TRY(config_into(doc, tbl["config"], "sources", node.config, &node.config_where));
      bool disabled = false;
      YamlNode table_fresh = tbl["freshness"];
      if (tbl["config"] && tbl["config"]["freshness"]) table_fresh = tbl["config"]["freshness"];
      node.freshness = merged_freshness(source_freshness, table_fresh, disabled);
      if (disabled) node.freshness = nullptr;
      if (src["meta"]) node.meta.update(yaml_to_json(src["meta"]));
      if (tbl["meta"]) node.meta.update(yaml_to_json(tbl["meta"]));
      if (src["tags"]) merge_configs(node.config, Json{{"tags", yaml_to_json(src["tags"])}});
      if (tbl["tags"]) merge_configs(node.config, Json{{"tags", yaml_to_json(tbl["tags"])}});
      std::vector<std::pair<std::string, YamlNode>> column_tests;
      STRATA_ASSIGN(node.columns, parse_columns(state, ctx, tbl["columns"], nullptr, column_tests));
      const bool enabled = node.enabled();
      const bool node_quoting_columns = node.quoting.is_object() && node.quoting.value("column", false) == true;
      TestTarget target = TestTarget::of(node);
      STRATA_TRY(tests.flush(state));
      add_node(state, std::move(node));
      if (!enabled) continue;
      STRATA_TRY(tests.add(tbl, target));
      for (const auto& [column, col] : column_tests) {
        target.column = column;
        STRATA_ASSIGN(target.quote_column, column_quoted(doc, col, node_quoting_columns));
        STRATA_TRY(tests.add(col, target));
      }
    }
  }
  return ok_status();
}

Status parse_macro_docs(ParseState& state, const FileContext& ctx, const YamlNode& list) {
  if (!list.is_sequence()) return ctx.doc->error(list, "`macros` must be a list of {name, description}");
  for (const auto& entry : list) {
    if (!entry.is_map() || !entry["name"]) return ctx.doc->error(entry, "a macro entry needs a `name`");
    for (auto& m : state.out.macros)
      if (m.name == entry["name"].scalar()) m.description = scalar_or(entry, "description");
  }
  return ok_status();
}

// A fixture's rows: a list of mappings (format dict, the default), or CSV or SQL text.
Status check_fixture(const YamlDocument& doc, const YamlNode& fixture, const std::string& what) {
  if (!fixture.is_map()) return doc.error(fixture, what + " must be a mapping with `rows`");
  const std::string format = fixture["format"] ? fixture["format"].scalar() : "dict";
  if (format != "dict" && format != "csv" && format != "sql")
    return doc.error(fixture["format"], "unknown fixture format '" + format + "'", "use dict, csv or sql");
  const YamlNode rows = fixture["rows"];
  if (!rows || rows.is_null()) return ok_status();  // no rows
  if (format == "dict" ? !rows.is_sequence() : !rows.is_scalar())
    return doc.error(rows, format == "dict" ? "`rows` must be a list of {column: value} mappings"
                                            : "`rows` must be " + format + " text with format " + format);
  if (format == "dict")
    for (const auto& row : rows)
      if (!row.is_map()) return doc.error(row, "each row must be a {column: value} mapping");
  return ok_status();
}

// `unit_tests:` (dbt ≥ 1.8): each one a test node of the model it names, run after it is built.
Status parse_unit_tests(ParseState& state, const FileContext& ctx, const YamlNode& list) {
  const YamlDocument& doc = *ctx.doc;
  if (!list.is_sequence()) return doc.error(list, "`unit_tests` must be a list of {name, model, given, expect}");
  for (const auto& entry : list) {
    if (!entry.is_map() || !entry["name"] || !entry["model"] || !entry["expect"])
      return doc.error(entry, "a unit test needs `name`, `model` and `expect`",
                       "e.g. {name: t, model: orders, given: [{input: \"ref('stg')\", rows: [{id: 1}]}], "
                       "expect: {rows: [{id: 1}]}}");
    const YamlNode given = entry["given"];
    if (given && !given.is_null()) {
      if (!given.is_sequence()) return doc.error(given, "`given` must be a list of {input, rows}");
      for (const auto& input : given) {
        if (!input.is_map() || !input["input"])
          return doc.error(input, "each `given` entry needs an `input`: ref('model') or source('source', 'table')");
        STRATA_TRY(check_fixture(doc, input, "a `given` entry"));
      }
    }
    STRATA_TRY(check_fixture(doc, entry["expect"], "`expect`"));
    Node node;
    node.resource_type = ResourceType::kTest;
    node.name = entry["name"].scalar();
    const std::string model = entry["model"].scalar();
    node.package_name = state.out.project.name;
    node.original_file_path = ctx.original_file_path;
    node.path = ctx.original_file_path;
    node.where = doc.where(entry);
    node.description = scalar_or(entry, "description");
    node.refs.push_back({"", model, ""});
    node.attached_node = "model." + node.package_name + "." + model;
    node.fqn = {node.package_name};
    node.fqn.insert(node.fqn.end(), ctx.folders.begin(), ctx.folders.end());
    node.fqn.push_back(model);
    node.fqn.push_back(node.name);
    node.unique_id = "unit_test." + node.package_name + "." + model + "." + node.name;
    node.config = default_config(ResourceType::kTest);
    apply_project_configs(state, "unit_tests", node.fqn, node.config, &node.config_where);
    STRATA_TRY(config_into(doc, entry["config"], "tests", node.config, &node.config_where));
    node.unit_test = Json{{"model", model},
                          {"given", given ? yaml_to_json(given) : Json::array()},
                          {"expect", yaml_to_json(entry["expect"])},
                          {"overrides", entry["overrides"] ? yaml_to_json(entry["overrides"]) : Json::object()}};
    add_node(state, std::move(node));
  }
  return ok_status();
}

// The top-level sections of a property file, in order.
Status parse_sections(ParseState& state, const FileContext& ctx, TestBatch& tests) {
  const YamlDocument& doc = *ctx.doc;
  static const std::set<std::string> kIgnored = {"exposures", "metrics", "semantic_models", "saved_queries",
                                                 "groups", "data_tests"};
  for (const auto& kv : doc.root) {
    const std::string key = kv.first.scalar();
    if (key == "version") continue;
    if (key == "models") {
      STRATA_TRY(patch_nodes(state, ctx, kv.second, ResourceType::kModel, "models", tests));
    } else if (key == "seeds") {
      STRATA_TRY(patch_nodes(state, ctx, kv.second, ResourceType::kSeed, "seeds", tests));
    } else if (key == "snapshots") {
      STRATA_TRY(patch_nodes(state, ctx, kv.second, ResourceType::kSnapshot, "snapshots", tests));
    } else if (key == "analyses") {
      STRATA_TRY(patch_nodes(state, ctx, kv.second, ResourceType::kAnalysis, "analyses", tests));
    } else if (key == "sources") {
      STRATA_TRY(parse_sources(state, ctx, kv.second, tests));
    } else if (key == "macros") {
      STRATA_TRY(parse_macro_docs(state, ctx, kv.second));
    } else if (key == "unit_tests") {
      STRATA_TRY(tests.flush(state));
      STRATA_TRY(parse_unit_tests(state, ctx, kv.second));
    } else if (kIgnored.count(key)) {
      state.out.warnings.push_back(doc.where(kv.first).to_string() + ": `" + key + "` is not supported yet; ignored");
    } else {
      return doc.error(kv.first, "unknown key '" + key + "' in property file",
                       "expected models, seeds, snapshots, sources, analyses or macros");
    }
  }
  return ok_status();
}

}  // namespace

Status check_config_keys(const YamlDocument& doc, const YamlNode& config, const std::string& kind) {
  for (const auto& kv : config) {
    std::string key = normalize_config_key(kv.first.scalar());
    if (is_known_config_key(key, kind)) continue;
    std::string suggestion = suggest_config_key(key, kind);
    return doc.error(kv.first, "unknown config key '" + kv.first.scalar() + "'",
                     suggestion.empty() ? "remove it or use a config dbt knows" : "did you mean '" + suggestion + "'?");
  }
  return ok_status();
}

Status parse_property_file(ParseState& state, const YamlDocument& doc, const std::string& resource_dir,
                           const std::string& relative) {
  if (!doc.root || doc.root.is_null()) return ok_status();
  if (!doc.root.is_map()) return doc.error(doc.root, "a property file must be a mapping with `version: 2`");
  FileContext ctx{&doc, resource_dir + "/" + relative, {}};
  std::string stem;
  split_path(relative, ctx.folders, stem);
  TestBatch tests(ctx);
  Status sections = parse_sections(state, ctx, tests);
  STRATA_TRY(tests.flush(state));  // its tests come before the section that failed, if any
  return sections;
}

}  // namespace strata::transform::detail

namespace strata::transform {

// A foreign key's `to: ref('m')` (or source(…)) makes the model depend on m, as in dbt 1.9, so the
// referenced table exists when the model's constraint is created.
void add_foreign_key_dependencies(Node& node) {
  auto add = [&](const Json& constraints) {
    for (const auto& c : constraints) {
      if (c.value("type", std::string()) != "foreign_key" || !c.contains("to") || !c["to"].is_string()) continue;
      StaticScan scan = static_scan("{{ " + c["to"].get<std::string>() + " }}");
      for (auto& ref : scan.refs)
        if (std::find(node.refs.begin(), node.refs.end(), ref) == node.refs.end()) node.refs.push_back(ref);
      for (auto& src : scan.sources)
        if (std::find(node.sources.begin(), node.sources.end(), src) == node.sources.end()) node.sources.push_back(src);
    }
  };
  add(node.constraints);
  for (const auto& column : node.columns) add(column.constraints);
}

}  // namespace strata::transform

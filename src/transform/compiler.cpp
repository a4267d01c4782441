#include "transform/compiler.h"

#include <algorithm>
#include <unordered_set>

#include <yaml-cpp/yaml.h>

#include "common/strings.h"
#include "transform/compiler_internal.h"
#include "transform/project.h"
#include "transform/static_parser.h"
#include "warehouse/warehouse.h"

namespace strata::transform {

using jinja::CallArgs;
using jinja::CallContext;
using jinja::Value;
using detail::RelationObject;
using detail::RenderState;

namespace detail {

std::optional<Value> RelationObject::get_attr(std::string_view name) const {
  if (name == "database") return database_.empty() ? Value::none() : Value(database_);
  if (name == "schema") return Value(schema_);
  if (name == "identifier" || name == "name" || name == "table") return Value(identifier_);
  if (name == "type") return Value(type_);
  if (name == "is_table") return Value(type_ == "table");
  if (name == "is_view") return Value(type_ == "view");
  if (name == "render") {
    std::string text = to_string();
    return jinja::make_function("render", [text](CallArgs&, CallContext&) -> Result<Value> { return Value(text); });
  }
  if (name == "include" || name == "quote" || name == "incorporate") {
    auto self = std::make_shared<RelationObject>(*this);
    return jinja::make_function(std::string(name), [self](CallArgs&, CallContext&) -> Result<Value> {
      return Value::object(self);
    });
  }
  return std::nullopt;
}

std::string RelationObject::to_string() const { return dialect_.qualify(database_, schema_, identifier_); }

namespace {

class TableObject : public jinja::Object {
 public:
  TableObject(std::vector<std::string> names, jinja::ValueList rows) : names_(std::move(names)), rows_(std::move(rows)) {}
  std::string type_name() const override { return "Table"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    if (name == "rows") return Value(rows_);
    if (name == "column_names") {
      jinja::ValueList out;
      for (const auto& n : names_) out.emplace_back(n);
      return Value::tuple(std::move(out));
    }
    if (name == "columns") {
      jinja::ValueList cols;
      for (size_t c = 0; c < names_.size(); ++c) {
        jinja::ValueList values;
        for (const auto& r : rows_) values.push_back(r.as_list()[c]);
        jinja::Dict d;
        d.set("name", Value(names_[c]));
        Value vals(std::move(values));
        d.set("values", jinja::make_function("values", [vals](CallArgs&, CallContext&) -> Result<Value> {
                return vals;
              }));
        cols.emplace_back(std::move(d));
      }
      return Value(std::move(cols));
    }
    return std::nullopt;
  }
  std::optional<Value> get_item(const Value& key) const override {
    if (key.is_int() && key.as_int() >= 0 && static_cast<size_t>(key.as_int()) < rows_.size()) return rows_[key.as_int()];
    return std::nullopt;
  }
  std::optional<jinja::ValueList> iterate() const override { return rows_; }
  bool truthy() const override { return true; }

 private:
  std::vector<std::string> names_;
  jinja::ValueList rows_;
};

}  // namespace

Value table_value(const std::vector<std::string>& names, const std::vector<std::vector<Value>>& rows) {
  jinja::ValueList list;
  for (const auto& r : rows) list.push_back(Value::tuple(r));
  return Value::object(std::make_shared<TableObject>(names, std::move(list)));
}

}  // namespace detail

namespace {

constexpr size_t kNoNode = static_cast<size_t>(-1);

RenderState& state_of(CallContext& ctx) { return *static_cast<RenderState*>(ctx.user_data()); }

std::string arg_string(const CallArgs& args, size_t pos, std::string_view name) {
  const Value* v = args.get(pos, name);
  return v && v->is_string() ? v->as_string() : (v ? v->to_string() : std::string());
}

Result<Json> value_json(const Value& v) {
  auto j = v.to_json();
  if (!j.ok()) return std::move(j).error();
  return Json::parse(j->dump());
}

Value yaml_value(const YAML::Node& node) { return Value::from_json(nlohmann::json::parse(yaml_to_json(node).dump())); }

void emit_yaml(YAML::Emitter& out, const Json& j) {
  if (j.is_object()) {
    out << YAML::BeginMap;
    for (auto it = j.begin(); it != j.end(); ++it) {
      out << YAML::Key << it.key() << YAML::Value;
      emit_yaml(out, it.value());
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    out << YAML::BeginSeq;
    for (const auto& v : j) emit_yaml(out, v);
    out << YAML::EndSeq;
  } else if (j.is_string()) {
    out << j.get<std::string>();
  } else if (j.is_null()) {
    out << YAML::Null;
  } else {
    out << j.dump();
  }
}

Value relation_of(const sql::Dialect& dialect, const Node& n) {
  std::string type = n.materialized() == "view" ? "view" : "table";
  if (n.resource_type == ResourceType::kSource)
    return Value::object(std::make_shared<RelationObject>(dialect, n.database, n.schema, n.identifier, "table"));
  return Value::object(std::make_shared<RelationObject>(dialect, n.database, n.schema, n.alias, type));
}

Json model_json(const Node& n) {
  Json j = Json::object();
  j["unique_id"] = n.unique_id;
  j["name"] = n.name;
  j["resource_type"] = resource_type_name(n.resource_type);
  j["package_name"] = n.package_name;
  j["original_file_path"] = n.original_file_path;
  j["path"] = n.path;
  j["fqn"] = n.fqn;
  j["alias"] = n.alias;
  j["schema"] = n.schema;
  j["database"] = n.database;
  j["config"] = n.config;
  j["tags"] = n.tags;
  j["raw_code"] = n.raw_code;
  j["description"] = n.description;
  j["meta"] = n.meta;
  j["depends_on"] = Json{{"nodes", n.depends_on}};
  j["relation_name"] = n.relation_name;
  if (n.test_metadata) j["test_metadata"] = Json{{"name", n.test_metadata->name}, {"kwargs", n.test_metadata->kwargs}};
  if (n.resource_type == ResourceType::kSource) {
    j["source_name"] = n.source_name;
    j["identifier"] = n.identifier;
    j["loaded_at_field"] = n.loaded_at_field;
  }
  return j;
}

Error as_config_error(Error e) {
  Error out(ErrorCode::kConfig, e.message(), e.where(), e.hint());
  return out;
}

}  // namespace

struct Compiler::Impl {
  const Graph* graph = nullptr;
  CompilerOptions options;
  const sql::Dialect* dialect = nullptr;
  jinja::Environment env;
  std::shared_ptr<const jinja::Context> base;
  std::unordered_set<std::string> user_macros;
  std::mutex cache_mutex;
  std::vector<std::shared_ptr<const jinja::Template>> cache;

  Result<std::shared_ptr<const jinja::Template>> node_template(size_t i);
  Result<std::string> render_text(const std::string& text, size_t node, RenderState& state, const std::string& name);
  Result<std::string> compile(size_t i, const RenderOptions& options, std::vector<size_t>& stack);
  Result<std::string> generic_test_text(size_t i) const;
  void register_functions();
  Json var_lookup_scope(size_t node) const;
};

namespace {

const Node* node_of(const Graph& g, size_t i) { return i == kNoNode ? nullptr : &g.node(i); }

}  // namespace

void Compiler::Impl::register_functions() {
  Impl* self = this;
  const sql::Dialect& d = *dialect;
  env.add_function("ref", [self, &d](CallArgs& args, CallContext& ctx) -> Result<Value> {
    RenderState& st = state_of(ctx);
    RefCall ref;
    if (args.positional.size() >= 2) {
      ref.package = arg_string(args, 0, "");
      ref.name = arg_string(args, 1, "");
    } else {
      ref.name = arg_string(args, 0, "name");
    }
    if (ref.name.empty()) return ctx.error("ref() needs a model name: ref('model')");
    const Node* from = node_of(*self->graph, st.node);
    auto target = self->graph->resolve_ref(ref, from ? from->package_name : self->graph->project().project.name);
    if (st.parse_mode) {
      st.capture.refs.push_back(ref);
      if (!target) return Value::object(std::make_shared<RelationObject>(d, "", "", ref.name));
    }
    if (!target)
      return ctx.error("depends on a node named '" + ref.name + "' which was not found");
    const Node& t = self->graph->node(*target);
    if (from && !st.parse_mode &&
        std::find(from->depends_on.begin(), from->depends_on.end(), t.unique_id) == from->depends_on.end())
      return ctx.error("dbt was unable to infer all dependencies for the model \"" + from->name +
                       "\": add `-- depends_on: {{ ref('" + ref.name + "') }}` at the top of the model");
    if (t.materialized() == "ephemeral" && !st.parse_mode) {
      if (std::find(st.ephemerals.begin(), st.ephemerals.end(), *target) == st.ephemerals.end())
        st.ephemerals.push_back(*target);
      return Value(std::string("__dbt__cte__") + t.name);
    }
    return relation_of(d, t);
  });
  env.add_function("source", [self, &d](CallArgs& args, CallContext& ctx) -> Result<Value> {
    RenderState& st = state_of(ctx);
    SourceCall src{arg_string(args, 0, "source_name"), arg_string(args, 1, "table_name")};
    if (st.parse_mode) st.capture.sources.push_back(src);
    auto target = self->graph->resolve_source(src);
    if (!target) {
      if (st.parse_mode) return Value::object(std::make_shared<RelationObject>(d, "", src.source_name, src.table_name));
      return ctx.error("depends on a source named '" + src.source_name + "." + src.table_name + "' which was not found");
    }
    return relation_of(d, self->graph->node(*target));
  });
  env.add_function("var", [self](CallArgs& args, CallContext& ctx) -> Result<Value> {
    std::string name = arg_string(args, 0, "name");
    Json scope = self->var_lookup_scope(state_of(ctx).node);
    if (scope.contains(name)) return Value::from_json(nlohmann::json::parse(scope[name].dump()));
    if (const Value* def = args.get(1, "default")) return *def;
    return ctx.error("Required var '" + name + "' not found in config: vars supplied to this node = " + scope.dump());
  });
  env.add_function("env_var", [self](CallArgs& args, CallContext& ctx) -> Result<Value> {
    std::string name = arg_string(args, 0, "var");
    if (auto v = self->options.env(name)) {
      if (is_secret_env_name(name)) self->options.logger.masker()->add(*v);
      return Value(*v);
    }
    if (const Value* def = args.get(1, "default")) return *def;
    return ctx.error("Env var required but not provided: '" + name + "'");
  });
  env.add_function("is_incremental", [](CallArgs&, CallContext& ctx) -> Result<Value> {
    return Value(state_of(ctx).options.is_incremental);
  });
  env.add_function("log", [self](CallArgs& args, CallContext& ctx) -> Result<Value> {
    if (!state_of(ctx).parse_mode) {
      bool info = args.get_or(1, "info", Value(false)).truthy();
      self->options.logger.log(info ? LogLevel::kInfo : LogLevel::kDebug, arg_string(args, 0, "msg"));
    }
    return Value(std::string());
  });
  env.add_function("print", [self](CallArgs& args, CallContext& ctx) -> Result<Value> {
    if (!state_of(ctx).parse_mode) self->options.logger.info("{}", arg_string(args, 0, "msg"));
    return Value(std::string());
  });
  env.add_function("fromjson", [](CallArgs& args, CallContext& ctx) -> Result<Value> {
    try {
      return Value::from_json(nlohmann::json::parse(arg_string(args, 0, "string")));
    } catch (const std::exception& e) {
      if (const Value* def = args.get(1, "default")) return *def;
      return ctx.error(std::string("fromjson: ") + e.what());
    }
  });
  env.add_function("tojson", [](CallArgs& args, CallContext& ctx) -> Result<Value> {
    const Value* v = args.get(0, "value");
    if (!v) return ctx.error("tojson() needs a value");
    auto j = v->to_json();
    if (!j.ok()) return ctx.error(j.error().message());
    return Value(j->dump());
  });
  env.add_function("fromyaml", [](CallArgs& args, CallContext& ctx) -> Result<Value> {
    try {
      return yaml_value(YAML::Load(arg_string(args, 0, "value")));
    } catch (const std::exception& e) {
      return ctx.error(std::string("fromyaml: ") + e.what());
    }
  });
  env.add_function("toyaml", [](CallArgs& args, CallContext& ctx) -> Result<Value> {
    const Value* v = args.get(0, "value");
    if (!v) return ctx.error("toyaml() needs a value");
    STRATA_ASSIGN(Json j, value_json(*v));
    YAML::Emitter out;
    emit_yaml(out, j);
    return Value(std::string(out.c_str()) + "\n");
  });
  env.add_function("get_where_subquery", [self](CallArgs& args, CallContext& ctx) -> Result<Value> {
    const Value* rel = args.get(0, "relation");
    if (!rel) return ctx.error("get_where_subquery() needs a relation");
    const Node* n = node_of(*self->graph, state_of(ctx).node);
    if (!n || !n->config.contains("where") || !n->config["where"].is_string()) return *rel;
    return Value("(select * from " + rel->to_string() + " where " + n->config["where"].get<std::string>() +
                 ") dbt_subquery");
  });
  env.add_function("statement", [](CallArgs& args, CallContext& ctx) -> Result<Value> {
    RenderState& st = state_of(ctx);
    std::string name = arg_string(args, 0, "name");
    bool fetch = args.get_or(1, "fetch_result", Value(false)).truthy();
    const Value* caller = args.keyword_arg("caller");
    if (!caller) return ctx.error("statement() must be used as {% call statement(...) %}");
    CallArgs none;
    STRATA_ASSIGN(Value body, ctx.call(*caller, none));
    if (!st.options.execute || st.parse_mode) return Value(std::string());
    if (!st.options.warehouse) return ctx.error("statement '" + name + "' needs a warehouse connection");
    auto result = st.options.warehouse->query(body.to_string());
    if (!result.ok()) return ctx.error("statement '" + name + "' failed: " + result.error().message());
    jinja::Dict out;
    std::vector<std::string> names;
    for (const auto& f : result->schema) names.push_back(f.name);
    std::vector<std::vector<Value>> rows;
    if (fetch)
      for (size_t r = 0; r < result->num_rows(); ++r) {
        std::vector<Value> row;
        for (size_t c = 0; c < names.size(); ++c)
          row.push_back(result->is_null(r, c) ? Value::none() : Value(result->cell_text(r, c)));
        rows.push_back(std::move(row));
      }
    Value table = detail::table_value(names, rows);
    out.set("table", table);
    out.set("data", table.as_object()->get_attr("rows").value_or(Value()));
    out.set("response", Value("OK"));
    st.statements[name] = Value(std::move(out));
    return Value(std::string());
  });
  env.add_function("load_result", [](CallArgs& args, CallContext& ctx) -> Result<Value> {
    RenderState& st = state_of(ctx);
    auto it = st.statements.find(arg_string(args, 0, "name"));
    return it == st.statements.end() ? Value::none() : it->second;
  });
  env.add_function("run_query", [](CallArgs& args, CallContext& ctx) -> Result<Value> {
    RenderState& st = state_of(ctx);
    if (!st.options.execute || st.parse_mode) return Value::none();
    if (!st.options.warehouse) return ctx.error("run_query() needs a warehouse connection");
    auto result = st.options.warehouse->query(arg_string(args, 0, "sql"));
    if (!result.ok()) return ctx.error("run_query failed: " + result.error().message());
    std::vector<std::string> names;
    for (const auto& f : result->schema) names.push_back(f.name);
    std::vector<std::vector<Value>> rows;
    for (size_t r = 0; r < result->num_rows(); ++r) {
      std::vector<Value> row;
      for (size_t c = 0; c < names.size(); ++c)
        row.push_back(result->is_null(r, c) ? Value::none() : Value(result->cell_text(r, c)));
      rows.push_back(std::move(row));
    }
    return detail::table_value(names, rows);
  });
}

Json Compiler::Impl::var_lookup_scope(size_t node) const {
  const ProjectConfig& p = graph->project().project;
  std::string package = node == kNoNode ? p.name : graph->node(node).package_name;
  Json scope = Json::object();
  for (auto it = p.vars.begin(); it != p.vars.end(); ++it)
    if (!(it.key() == p.name && it.value().is_object())) scope[it.key()] = it.value();
  if (p.vars.contains(package) && p.vars[package].is_object()) scope.update(p.vars[package]);
  scope.update(options.cli_vars);
  return scope;
}

// Host objects that need the Impl: config, adapter, exceptions.
namespace {

class ConfigObject : public jinja::Object {
 public:
  explicit ConfigObject(const Graph& g) : graph_(g) {}
  std::string type_name() const override { return "Config"; }
  Result<Value> call(CallArgs& args, CallContext& ctx) const override {
    RenderState& st = state_of(ctx);
    if (st.parse_mode) {
      for (const auto& [k, v] : args.keyword) {
        auto j = value_json(v);
        if (j.ok()) st.capture.config[normalize_config_key(k)] = *j;
      }
      if (!args.positional.empty() && args.positional[0].is_dict()) {
        auto j = value_json(args.positional[0]);
        if (j.ok())
          for (auto it = j->begin(); it != j->end(); ++it) st.capture.config[normalize_config_key(it.key())] = it.value();
      }
    }
    return Value(std::string());
  }
  std::optional<Value> get_attr(std::string_view name) const override {
    if (name != "get" && name != "require") return std::nullopt;
    const Graph* g = &graph_;
    bool require = name == "require";
    return jinja::make_function(std::string(name), [g, require](CallArgs& args, CallContext& ctx) -> Result<Value> {
      std::string key = normalize_config_key(arg_string(args, 0, "name"));
      RenderState& st = state_of(ctx);
      if (st.node != kNoNode) {
        const Json& cfg = g->node(st.node).config;
        auto it = cfg.find(key);
        if (it != cfg.end() && !it->is_null()) return Value::from_json(nlohmann::json::parse(it->dump()));
      }
      if (const Value* def = args.get(1, "default")) return *def;
      if (require && !st.parse_mode) return ctx.error("config '" + key + "' is required");
      return Value::none();
    });
  }

 private:
  const Graph& graph_;
};

class ExceptionsObject : public jinja::Object {
 public:
  explicit ExceptionsObject(Logger logger) : logger_(std::move(logger)) {}
  std::string type_name() const override { return "Exceptions"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    if (name == "raise_compiler_error" || name == "raise_not_implemented")
      return jinja::make_function(std::string(name), [](CallArgs& args, CallContext& ctx) -> Result<Value> {
        return Error(ErrorCode::kConfig, "Compilation Error: " + arg_string(args, 0, "msg"), ctx.location());
      });
    if (name == "warn") {
      Logger logger = logger_;
      return jinja::make_function("warn", [logger](CallArgs& args, CallContext& ctx) -> Result<Value> {
        logger.warn("{}: {}", ctx.location().to_string(), arg_string(args, 0, "msg"));
        return Value(std::string());
      });
    }
    return std::nullopt;
  }

 private:
  Logger logger_;
};

class AdapterObject : public jinja::Object {
 public:
  AdapterObject(const sql::Dialect& dialect, std::string type) : dialect_(dialect), type_(std::move(type)) {}
  std::string type_name() const override { return "Adapter"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    const sql::Dialect& d = dialect_;
    std::string type = type_;
    if (name == "quote")
      return jinja::make_function("quote", [&d](CallArgs& args, CallContext&) -> Result<Value> {
        return Value(d.quote_identifier(arg_string(args, 0, "identifier")));
      });
    if (name == "type")
      return jinja::make_function("type", [type](CallArgs&, CallContext&) -> Result<Value> { return Value(type); });
    if (name == "dispatch")
      return jinja::make_function("dispatch", [type](CallArgs& args, CallContext& ctx) -> Result<Value> {
        std::string macro = arg_string(args, 0, "macro_name");
        for (const std::string& candidate : {type + "__" + macro, "default__" + macro, macro}) {
          Value v = ctx.lookup(candidate);
          if (v.is_callable()) return v;
        }
        return ctx.error("no macro named '" + macro + "' for adapter.dispatch (looked for " + type + "__" + macro +
                         ", default__" + macro + ")");
      });
    if (name == "get_relation")
      return jinja::make_function("get_relation", [&d](CallArgs& args, CallContext& ctx) -> Result<Value> {
        RenderState& st = state_of(ctx);
        if (st.parse_mode || !st.options.warehouse) return Value::none();
        std::string database = arg_string(args, 0, "database"), schema = arg_string(args, 1, "schema"),
                    identifier = arg_string(args, 2, "identifier");
        auto rels = st.options.warehouse->relations(schema);
        if (!rels.ok()) return ctx.error(rels.error().message());
        for (const auto& r : *rels)
          if (to_lower(r.relation.name) == to_lower(identifier))
            return Value::object(std::make_shared<RelationObject>(
                d, database == "None" ? "" : database, schema, r.relation.name,
                r.kind == warehouse::RelationKind::kView ? "view" : "table"));
        return Value::none();
      });
    if (name == "get_columns_in_relation")
      return jinja::make_function("get_columns_in_relation", [](CallArgs& args, CallContext& ctx) -> Result<Value> {
        RenderState& st = state_of(ctx);
        if (st.parse_mode || !st.options.warehouse) return Value(jinja::ValueList{});
        const Value* rel = args.get(0, "relation");
        if (!rel || !rel->is_object()) return ctx.error("get_columns_in_relation() needs a relation");
        auto* r = dynamic_cast<RelationObject*>(rel->as_object().get());
        if (!r) return ctx.error("get_columns_in_relation() needs a relation");
        auto cols = st.options.warehouse->columns({r->database(), r->schema(), r->identifier()});
        if (!cols.ok()) return ctx.error(cols.error().message());
        jinja::ValueList out;
        for (const auto& c : *cols) {
          jinja::Dict col;
          col.set("name", Value(c.name));
          col.set("column", Value(c.name));
          col.set("data_type", Value(c.native_type));
          col.set("dtype", Value(c.native_type));
          out.emplace_back(std::move(col));
        }
        return Value(std::move(out));
      });
    return std::nullopt;
  }

 private:
  const sql::Dialect& dialect_;
  std::string type_;
};

}  // namespace

Result<std::shared_ptr<const jinja::Template>> Compiler::Impl::node_template(size_t i) {
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    if (cache[i]) return cache[i];
  }
  const Node& n = graph->node(i);
  std::string text;
  if (n.is_test() && n.test_metadata) {
    STRATA_ASSIGN(text, generic_test_text(i));
  } else {
    text = n.raw_code;
  }
  auto parsed = env.parse(text, graph->project().project.root + "/" + n.original_file_path);
  if (!parsed.ok()) {
    Error e = as_config_error(std::move(parsed).error());
    if (n.where.line > 1 && e.where().line > 0) {
      SourceLocation at = e.where();
      at.line += n.where.line - 1;
      e = std::move(e).at(at);
    }
    return e;
  }
  std::lock_guard<std::mutex> lock(cache_mutex);
  cache[i] = *parsed;
  return cache[i];
}

// `{{ test_x(model=get_where_subquery(ref('m')), column_name='c', values=[...]) }}`.
Result<std::string> Compiler::Impl::generic_test_text(size_t i) const {
  const Node& n = graph->node(i);
  const TestMetadata& meta = *n.test_metadata;
  std::string macro = (meta.namespace_.empty() ? "" : meta.namespace_ + ".") + "test_" + meta.name;
  std::string text = "{{ " + macro + "(";
  bool first = true;
  for (auto it = meta.kwargs.begin(); it != meta.kwargs.end(); ++it) {
    if (!first) text += ", ";
    first = false;
    text += it.key() + "=";
    const Json& v = it.value();
    if (it.key() == "model") {
      std::string m = v.get<std::string>();
      // "{{ get_where_subquery(ref('x')) }}" → the expression inside.
      text += std::string(trim(std::string_view(m).substr(2, m.size() - 4)));
    } else if (v.is_string()) {
      std::string s = v.get<std::string>();
      if (starts_with(s, "ref(") || starts_with(s, "source(")) {
        text += s;
      } else {
        text += "'" + replace_all(replace_all(s, "\\", "\\\\"), "'", "\\'") + "'";
      }
    } else {
      text += "fromjson('" + replace_all(replace_all(v.dump(), "\\", "\\\\"), "'", "\\'") + "')";
    }
  }
  return text + ") }}";
}

Result<std::string> Compiler::Impl::render_text(const std::string& text, size_t node, RenderState& state,
                                                const std::string& name) {
  auto parsed = env.parse(text, name);
  if (!parsed.ok()) return as_config_error(std::move(parsed).error());
  jinja::Context ctx(base);
  ctx.user_data = &state;
  ctx.set("execute", Value(state.options.execute && !state.parse_mode));
  if (node != kNoNode) {
    const Node& n = graph->node(node);
    if (!n.is_test()) ctx.set("this", relation_of(*dialect, n));
    ctx.set("model", Value::from_json(nlohmann::json::parse(model_json(n).dump())));
  }
  auto out = (*parsed)->render(ctx);
  if (!out.ok()) return as_config_error(std::move(out).error());
  return std::move(*out);
}

Result<std::string> Compiler::Impl::compile(size_t i, const RenderOptions& options, std::vector<size_t>& stack) {
  STRATA_ASSIGN(auto tmpl, node_template(i));
  RenderState state;
  state.node = i;
  state.options = options;
  jinja::Context ctx(base);
  ctx.user_data = &state;
  ctx.set("execute", Value(options.execute));
  const Node& n = graph->node(i);
  if (!n.is_test()) ctx.set("this", relation_of(*dialect, n));
  ctx.set("model", Value::from_json(nlohmann::json::parse(model_json(n).dump())));
  auto sql = tmpl->render(ctx);
  if (!sql.ok()) return as_config_error(std::move(sql).error());
  if (state.ephemerals.empty()) return std::move(*sql);
  std::vector<std::pair<std::string, std::string>> ctes;
  stack.push_back(i);
  for (size_t e : state.ephemerals) {
    if (std::find(stack.begin(), stack.end(), e) != stack.end()) continue;
    RenderOptions child = options;
    child.is_incremental = false;
    STRATA_ASSIGN(std::string body, compile(e, child, stack));
    ctes.emplace_back("__dbt__cte__" + graph->node(e).name, body);
  }
  stack.pop_back();
  return inject_ctes(*sql, ctes);
}

std::string inject_ctes(const std::string& sql, const std::vector<std::pair<std::string, std::string>>& ctes) {
  if (ctes.empty()) return sql;
  std::string defs;
  for (const auto& [name, body] : ctes) {
    if (!defs.empty()) defs += ",\n";
    defs += name + " as (\n" + body + "\n)";
  }
  // Skip leading whitespace and comments to find a leading WITH.
  size_t pos = 0;
  while (pos < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[pos]))) {
      ++pos;
    } else if (sql.compare(pos, 2, "--") == 0) {
      pos = sql.find('\n', pos);
      if (pos == std::string::npos) pos = sql.size();
    } else if (sql.compare(pos, 2, "/*") == 0) {
      size_t end = sql.find("*/", pos + 2);
      pos = end == std::string::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  if (to_lower(sql.substr(pos, 4)) == "with" && pos + 4 < sql.size() &&
      std::isspace(static_cast<unsigned char>(sql[pos + 4]))) {
    size_t after = pos + 4;
    std::string rest = sql.substr(after);
    bool recursive = to_lower(std::string(trim(rest)).substr(0, 9)) == "recursive";
    if (recursive) {
      size_t r = to_lower(rest).find("recursive");
      return sql.substr(0, after + r + 9) + " " + defs + "," + sql.substr(after + r + 9);
    }
    return sql.substr(0, after) + " " + defs + "," + rest;
  }
  return sql.substr(0, pos) + "with " + defs + "\n" + sql.substr(pos);
}

Compiler::Compiler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Compiler::~Compiler() = default;

const Graph& Compiler::graph() const { return *impl_->graph; }

Result<std::unique_ptr<Compiler>> Compiler::create(const Graph& graph, CompilerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->graph = &graph;
  impl->options = std::move(options);
  if (!impl->options.env) impl->options.env = process_env();
  const std::string& type = impl->options.target.type;
  impl->dialect = type == "postgres" ? &sql::postgres_dialect()
                  : type == "bigquery" ? &sql::bigquery_dialect()
                                       : &sql::duckdb_dialect();
  impl->cache.resize(graph.size());
  jinja::Environment& env = impl->env;
  env.add_tag({"test", jinja::CustomTag::Kind::kMacro, "test_", nullptr, nullptr});
  env.add_tag({"materialization", jinja::CustomTag::Kind::kMacro, "", [](const jinja::TagHeader& h) -> Result<std::string> {
                 std::string adapter = "default";
                 for (const auto& [k, v] : h.kwargs)
                   if (k == "adapter") adapter = v.to_string();
                 return "materialization_" + h.name + "_" + adapter;
               }, nullptr});
  env.add_tag({"docs", jinja::CustomTag::Kind::kRawBody, "", nullptr, nullptr});
  env.add_tag({"snapshot", jinja::CustomTag::Kind::kBody, "", nullptr,
               [](const jinja::CustomBlock& block, CallContext& ctx) -> Result<std::string> {
                 std::string out;
                 jinja::Context inner;
                 (void)ctx;
                 return block.body ? block.body->render(inner) : Result<std::string>(out);
               }});
  impl->register_functions();
  env.add_global("config", Value::object(std::make_shared<ConfigObject>(graph)));
  env.add_global("exceptions", Value::object(std::make_shared<ExceptionsObject>(impl->options.logger)));
  env.add_global("adapter", Value::object(std::make_shared<AdapterObject>(*impl->dialect, type)));
  const TargetInfo& t = impl->options.target;
  jinja::Dict target;
  target.set("name", Value(t.name));
  target.set("type", Value(t.type));
  target.set("schema", Value(t.schema));
  target.set("database", Value(t.database));
  target.set("threads", Value(static_cast<std::int64_t>(t.threads)));
  target.set("profile_name", Value(t.profile_name));
  env.add_global("target", Value(std::move(target)));
  env.add_global("invocation_id", Value(impl->options.invocation_id));
  env.add_global("run_started_at", Value(impl->options.run_started_at));
  env.add_global("flags", Value(jinja::Dict{}));

  // Built-in macros first, then the project's (which override them).
  auto builtins = env.parse(detail::builtin_macros_source(), "<strata builtin macros>");
  if (!builtins.ok()) return std::move(builtins).error();
  for (const auto& name : (*builtins)->macro_names())
    if (auto m = (*builtins)->macro(name)) env.add_global(name, *m);
  for (const auto& file : graph.project().macro_files) {
    auto parsed = env.parse(file.contents, file.absolute_path);
    if (!parsed.ok()) return as_config_error(std::move(parsed).error());
    for (const auto& name : (*parsed)->macro_names()) {
      if (auto m = (*parsed)->macro(name)) env.add_global(name, *m);
      impl->user_macros.insert(name);
    }
  }
  impl->base = std::make_shared<jinja::Context>();
  return std::unique_ptr<Compiler>(new Compiler(std::move(impl)));
}

Status Compiler::parse_render(Graph& graph) {
  bool changed = false;
  for (size_t i = 0; i < graph.size(); ++i) {
    const Node& n = graph.node(i);
    if (n.is_test() || n.resource_type == ResourceType::kSource || n.resource_type == ResourceType::kSeed) continue;
    if (n.raw_code.find("{%") == std::string::npos && n.raw_code.find("{{") == std::string::npos) continue;
    StaticScan scan = static_scan(n.raw_code);
    if (scan.exact) continue;
    RenderState state;
    state.node = i;
    state.parse_mode = true;
    state.options.execute = false;
    auto out = impl_->render_text(n.raw_code, i, state, graph.project().project.root + "/" + n.original_file_path);
    if (!out.ok()) return std::move(out).error();
    Node& m = graph.mutable_node(i);
    if (state.capture.refs != m.refs || state.capture.sources != m.sources) {
      m.refs = state.capture.refs;
      m.sources = state.capture.sources;
      changed = true;
    }
    merge_configs(m.config, state.capture.config);
  }
  if (changed) STRATA_TRY(graph.refresh_edges());
  return ok_status();
}

NameMacro Compiler::name_macro() {
  Impl* impl = impl_.get();
  return [impl](const std::string& macro, const Json& custom, const Node& node) -> Result<std::optional<std::string>> {
    if (!impl->user_macros.count(macro)) return std::optional<std::string>();
    RenderState state;
    state.parse_mode = false;
    state.options.execute = false;
    auto found = impl->graph->find(node.unique_id);
    state.node = found ? *found : kNoNode;
    std::string arg = custom.is_string() ? "'" + replace_all(custom.get<std::string>(), "'", "\\'") + "'" : "none";
    STRATA_ASSIGN(std::string out, impl->render_text("{{ " + macro + "(" + arg + ", model) }}", state.node, state,
                                                     "<" + macro + ">"));
    return std::optional<std::string>(std::string(trim(out)));
  };
}

Result<std::string> Compiler::compile(size_t i, const RenderOptions& options) {
  std::vector<size_t> stack;
  return impl_->compile(i, options, stack);
}

Result<std::string> Compiler::render(const std::string& text, size_t i, const RenderOptions& options,
                                     const std::string& name) {
  RenderState state;
  state.node = i;
  state.options = options;
  STRATA_ASSIGN(std::string sql, impl_->render_text(text, i, state, name));
  std::vector<std::pair<std::string, std::string>> ctes;
  for (size_t e : state.ephemerals) {
    std::vector<size_t> stack;
    STRATA_ASSIGN(std::string body, impl_->compile(e, options, stack));
    ctes.emplace_back("__dbt__cte__" + impl_->graph->node(e).name, body);
  }
  return inject_ctes(sql, ctes);
}

Result<std::string> Compiler::test_summary_sql(size_t i, const std::string& compiled) const {
  const Node& n = impl_->graph->node(i);
  auto text = [&](const char* key, const char* fallback) {
    auto it = n.config.find(key);
    return it != n.config.end() && it->is_string() ? it->get<std::string>() : std::string(fallback);
  };
  std::string fail_calc = text("fail_calc", "count(*)");
  std::string inner = compiled;
  auto limit = n.config.find("limit");
  if (limit != n.config.end() && limit->is_number_integer()) inner += "\nlimit " + std::to_string(limit->get<long long>());
  return "select\n  " + fail_calc + " as failures,\n  " + fail_calc + " " + text("warn_if", "!= 0") +
         " as should_warn,\n  " + fail_calc + " " + text("error_if", "!= 0") + " as should_error\nfrom (\n" + inner +
         "\n) dbt_internal_test";
}

}  // namespace strata::transform

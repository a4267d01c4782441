#include "transform/compiler.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include <yaml-cpp/yaml.h>

#include "common/strings.h"
#include "transform/artifacts.h"
#include "transform/compiler_impl.h"
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

namespace {

using detail::arg_string;
using detail::kNoNode;
using detail::state_of;
using detail::value_json;

Value yaml_value(const YamlNode& node) { return Value::from_json(nlohmann::json::parse(yaml_to_json(node).dump())); }

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

// `empty`: as ref() and source() give it under --empty; `batch`: a microbatch's window, which
// filters a node with an `event_time` config to the batch's rows.
Value relation_of(const sql::Dialect& dialect, const Node& n, bool empty = false,
                  const RenderOptions* render = nullptr) {
  const EventTimeWindow* batch = render ? render->batch : nullptr;
  std::string type = n.materialized() == "view" ? "view" : "table";
  const bool source = n.resource_type == ResourceType::kSource;
  auto relation = std::make_shared<RelationObject>(dialect, n.database, n.schema, source ? n.identifier : n.alias,
                                                   source ? "table" : type, empty);
  auto event_time = n.config.find("event_time");
  if (batch && event_time != n.config.end() && event_time->is_string() && !event_time->get<std::string>().empty()) {
    const std::string column = event_time->get<std::string>();
    relation->set_filter(column + " >= cast(" + dialect.quote_string(batch->start) + " as timestamp) and " + column +
                         " < cast(" + dialect.quote_string(batch->end) + " as timestamp)");
  }
  if (render && render->fixtures) {
    auto fixture = render->fixtures->find(n.unique_id);
    if (fixture != render->fixtures->end()) relation->set_replacement(fixture->second);
  }
  return Value::object(std::move(relation));
}

// `this` in a node's compile: its relation, or a unit test's fixture for it (`input: this`);
// never filtered to a batch, as dbt's.
Value this_of(const sql::Dialect& dialect, const Node& n, const RenderOptions& options) {
  RenderOptions fixtures_only;
  fixtures_only.fixtures = options.fixtures;
  return relation_of(dialect, n, false, &fixtures_only);
}

// The `model` variable: the node as dbt's context shows it, built straight into Jinja values;
// a microbatch model's batch as `model.batch` (id, event_time_start, event_time_end).
Value model_value(const Node& n, const EventTimeWindow* batch = nullptr) {
  auto strings = [](const std::vector<std::string>& list) {
    jinja::ValueList out;
    out.reserve(list.size());
    for (const auto& s : list) out.emplace_back(s);
    return Value(std::move(out));
  };
  jinja::Dict j;
  j.set("unique_id", Value(n.unique_id));
  j.set("name", Value(n.name));
  j.set("resource_type", Value(std::string(resource_type_name(n.resource_type))));
  j.set("package_name", Value(n.package_name));
  j.set("original_file_path", Value(n.original_file_path));
  j.set("path", Value(n.path));
  j.set("fqn", strings(n.fqn));
  j.set("alias", Value(n.alias));
  j.set("schema", Value(n.schema));
  j.set("database", Value(n.database));
  j.set("config", Value::from_json(n.config));
  j.set("tags", strings(n.tags));
  j.set("raw_code", Value(n.raw_code));
  j.set("description", Value(n.description));
  j.set("meta", Value::from_json(n.meta));
  jinja::Dict depends;
  depends.set("nodes", strings(n.depends_on));
  j.set("depends_on", Value(std::move(depends)));
  j.set("relation_name", Value(n.relation_name));
  if (n.test_metadata) {
    jinja::Dict meta;
    meta.set("name", Value(n.test_metadata->name));
    meta.set("kwargs", Value::from_json(n.test_metadata->kwargs));
    j.set("test_metadata", Value(std::move(meta)));
  }
  if (n.resource_type == ResourceType::kSource) {
    j.set("source_name", Value(n.source_name));
    j.set("identifier", Value(n.identifier));
    j.set("loaded_at_field", Value(n.loaded_at_field));
  }
  auto strategy = n.config.find("incremental_strategy");
  if (batch || (strategy != n.config.end() && *strategy == "microbatch")) {
    // Compiled outside a batch (compile, the run's first compile), its values are none.
    jinja::Dict b;
    b.set("id", batch ? Value(batch->id) : Value::none());
    b.set("event_time_start", batch ? Value(batch->start) : Value::none());
    b.set("event_time_end", batch ? Value(batch->end) : Value::none());
    j.set("batch", Value(std::move(b)));
  }
  return Value(std::move(j));
}

// `packages` is the text of the project's packages.yml and dependencies.yml: an undefined name
// that a package there provides (`dbt_utils.star(...)`) gets a hint instead of a bare message.
Error as_config_error(Error e, const std::string& packages = {}) {
  std::string hint = e.hint();
  const std::string& m = e.message();
  const std::string suffix = "' is undefined";
  if (!packages.empty() && m.size() > suffix.size() + 1 && m[0] == '\'' && ends_with(m, suffix)) {
    std::string name = m.substr(1, m.size() - suffix.size() - 1);
    if (packages.find(name) != std::string::npos || packages.find(replace_all(name, "_", "-")) != std::string::npos)
      hint = "'" + name + "' is a package declared in packages.yml that is not installed: run `strata deps` (hub, git "
             "and tarball packages: run `dbt deps` where the internet is reachable and copy its dbt_packages/ here)";
  }
  return Error(ErrorCode::kConfig, m, e.where(), hint);
}

}  // namespace


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
      // dbt's ephemeral relation: renders as the CTE's name, is_cte true.
      return Value::object(std::make_shared<RelationObject>(d, "", "", detail::kEphemeralPrefix + t.name, "cte"));
    }
    return relation_of(d, t, self->options.empty, &st.options);
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
    return relation_of(d, self->graph->node(*target), self->options.empty, &st.options);
  });
  env.add_function("var", [self](CallArgs& args, CallContext& ctx) -> Result<Value> {
    std::string name = arg_string(args, 0, "name");
    if (const Json* o = state_of(ctx).options.overrides; o && o->contains("vars") && (*o)["vars"].contains(name))
      return Value::from_json((*o)["vars"][name]);
    Json scope = self->var_lookup_scope(state_of(ctx).node);
    if (scope.contains(name)) return Value::from_json(nlohmann::json::parse(scope[name].dump()));
    if (const Value* def = args.get(1, "default")) return *def;
    return ctx.error("Required var '" + name + "' not found in config: vars supplied to this node = " + scope.dump());
  });
  env.add_function("env_var", [self](CallArgs& args, CallContext& ctx) -> Result<Value> {
    std::string name = arg_string(args, 0, "var");
    if (const Json* o = state_of(ctx).options.overrides; o && o->contains("env_vars") && (*o)["env_vars"].contains(name)) {
      const Json& v = (*o)["env_vars"][name];
      return Value(v.is_string() ? v.get<std::string>() : v.dump());
    }
    if (auto v = self->options.env(name)) {
      if (is_secret_env_name(name)) self->options.logger.masker()->add(*v);
      return Value(*v);
    }
    if (const Value* def = args.get(1, "default")) return *def;
    return ctx.error("Env var required but not provided: '" + name + "'");
  });
  env.add_function("doc", [self](CallArgs& args, CallContext& ctx) -> Result<Value> {
    std::string package, name = arg_string(args, 0, "name");
    if (args.positional.size() >= 2) {
      package = name;
      name = arg_string(args, 1, "");
    }
    for (const auto& d : self->graph->project().docs)
      if (d.name == name && (package.empty() || d.package_name == package)) return Value(d.contents);
    return ctx.error("doc('" + name + "') names no {% docs " + name + " %} block in the project's .md files");
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
    YamlOptions options;
    options.substitute_env = false;
    auto doc = load_yaml_string(arg_string(args, 0, "value"), "fromyaml()", options);
    if (!doc.ok()) return ctx.error("fromyaml: " + doc.error().message());
    return yaml_value(doc->root);
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
    detail::AgateResult agate = detail::agate_result(*result, fetch);
    out.set("table", agate.table);
    out.set("data", agate.data);
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
    return detail::agate_result(*result, true).table;
  });
}

// As dbt's: the package's own dbt_project.yml vars (global, then scoped to it), then the root
// project's (global, then `vars: {package: {...}}`), then --vars. A key naming a project and
// holding a mapping is a scope, not a var.
Json Compiler::Impl::var_lookup_scope(size_t node) const {
  const ParsedProject& parsed = graph->project();
  const std::string& package = node == kNoNode ? parsed.project.name : graph->node(node).package_name;
  auto is_scope = [&](const std::string& key, const Json& value) {
    if (!value.is_object()) return false;
    if (key == parsed.project.name) return true;
    return std::any_of(parsed.packages.begin(), parsed.packages.end(), [&](const ProjectConfig& p) { return p.name == key; });
  };
  Json scope = Json::object();
  auto add = [&](const ProjectConfig& p) {
    for (auto it = p.vars.begin(); it != p.vars.end(); ++it)
      if (!is_scope(it.key(), it.value())) scope[it.key()] = it.value();
    if (p.vars.contains(package) && p.vars[package].is_object()) scope.update(p.vars[package]);
  };
  for (const auto& p : parsed.packages)
    if (p.name == package) add(p);
  add(parsed.project);
  scope.update(options.cli_vars);
  return scope;
}

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
  auto parsed = env.parse(text, node_file_path(graph->project(), n));
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


// What ref()/source() print for a literal call, or nullopt when the Jinja path must decide (an
// unknown target, a dependency the parser did not record).
std::optional<std::string> Compiler::Impl::plain_relation(const detail::PlainCall& call, const Node& from,
                                                          std::vector<size_t>& ephemerals) const {
  std::optional<size_t> target;
  if (call.kind == detail::PlainCall::Kind::kRef) target = graph->resolve_ref(call.ref, from.package_name);
  else if (call.kind == detail::PlainCall::Kind::kSource) target = graph->resolve_source(call.source);
  if (!target) return std::nullopt;
  const Node& t = graph->node(*target);
  if (std::find(from.depends_on.begin(), from.depends_on.end(), t.unique_id) == from.depends_on.end())
    return std::nullopt;
  if (t.resource_type == ResourceType::kSource) return dialect->qualify(t.database, t.schema, t.identifier);
  if (t.materialized() == "ephemeral") {
    if (std::find(ephemerals.begin(), ephemerals.end(), *target) == ephemerals.end()) ephemerals.push_back(*target);
    return "__dbt__cte__" + t.name;
  }
  return dialect->qualify(t.database, t.schema, t.alias);
}

// Node i compiled without Jinja when its text allows it (see fast_compile.cpp); nullopt otherwise.
std::optional<std::string> Compiler::Impl::fast_compile(size_t i, std::vector<size_t>& ephemerals) const {
  const Node& n = graph->node(i);
  if (!fast_paths || options.empty || overridden("ref", n) || overridden("source", n) || overridden("config", n))
    return std::nullopt;
  if (n.is_test() && n.test_metadata) {
    const TestMetadata& meta = *n.test_metadata;
    if (!meta.namespace_.empty() || meta.quote_column || overridden("test_" + meta.name, n) ||
        overridden("get_where_subquery", n))
      return std::nullopt;
    auto model_arg = meta.kwargs.find("model");
    if (model_arg == meta.kwargs.end() || !model_arg->is_string()) return std::nullopt;
    std::string_view m = trim(std::string_view(model_arg->get_ref<const std::string&>()));
    constexpr std::string_view kOpen = "{{ get_where_subquery(", kClose = ") }}";
    if (!starts_with(m, kOpen) || !ends_with(m, kClose)) return std::nullopt;
    auto call = detail::parse_plain_call(m.substr(kOpen.size(), m.size() - kOpen.size() - kClose.size()));
    if (!call) return std::nullopt;
    auto model = plain_relation(*call, n, ephemerals);
    if (!model) return std::nullopt;
    auto where = n.config.find("where");
    if (where != n.config.end() && where->is_string())
      *model = "(select * from " + *model + " where " + where->get<std::string>() + ") dbt_subquery";
    return detail::builtin_test_sql(meta, *model, [&](std::string_view text) -> std::optional<std::string> {
      auto c = detail::parse_plain_call(text);
      if (!c) return std::nullopt;
      return plain_relation(*c, n, ephemerals);
    });
  }
  auto parts = detail::plain_template(n.raw_code);
  if (!parts) return std::nullopt;
  std::string out;
  for (const auto& part : *parts) {
    out += part.text;
    if (part.call.kind == detail::PlainCall::Kind::kNone) continue;
    auto rel = plain_relation(part.call, n, ephemerals);
    if (!rel) return std::nullopt;
    out += *rel;
  }
  return out;
}

Result<std::string> Compiler::Impl::render_text(const std::string& text, size_t node, RenderState& state,
                                                const std::string& name) {
  auto parsed = env.parse(text, name);
  if (!parsed.ok()) return as_config_error(std::move(parsed).error());
  jinja::Context ctx(base_for(node));
  ctx.user_data = &state;
  ctx.set("execute", Value(state.options.execute && !state.parse_mode));
  if (state.options.variables)
    for (auto it = state.options.variables->begin(); it != state.options.variables->end(); ++it)
      ctx.set(it.key(), Value::from_json(it.value()));
  if (node != kNoNode) {
    const Node& n = graph->node(node);
    if (!n.is_test()) ctx.set("this", relation_of(*dialect, n));
    ctx.set("model", model_value(n));
  } else if (name == "<inline>") {
    // dbt's node of `show|compile --inline`.
    const std::string& project = graph->project().project.name;
    jinja::Dict model;
    model.set("name", Value(std::string("inline_query")));
    model.set("unique_id", Value("sql_operation." + project + ".inline_query"));
    model.set("resource_type", Value(std::string("sql_operation")));
    model.set("package_name", Value(project));
    model.set("raw_code", Value(text));
    model.set("config", Value(jinja::Dict()));
    ctx.set("model", Value(std::move(model)));
  }
  auto out = (*parsed)->render(ctx);
  if (!out.ok()) return as_config_error(std::move(out).error(), packages_text);
  return std::move(*out);
}

Result<std::string> Compiler::Impl::compile(size_t i, const RenderOptions& options, std::vector<size_t>& stack) {
  RenderState state;
  state.node = i;
  state.options = options;
  // A batch's event-time filters and a unit test's fixtures need ref() and source() as Jinja renders them.
  std::optional<std::string> fast =
      options.batch || options.fixtures ? std::nullopt : fast_compile(i, state.ephemerals);
  Result<std::string> sql = std::string();
  if (fast) {
    sql = std::move(*fast);
  } else {
    state.ephemerals.clear();
    STRATA_ASSIGN(auto tmpl, node_template(i));
    jinja::Context ctx(base_for(i));
    ctx.user_data = &state;
    ctx.set("execute", Value(options.execute));
    const Node& n = graph->node(i);
    if (!n.is_test()) ctx.set("this", this_of(*dialect, n, options));
    ctx.set("model", model_value(n, options.batch));
    sql = tmpl->render(ctx);
    if (!sql.ok()) return as_config_error(std::move(sql).error(), packages_text);
  }
  if (state.ephemerals.empty()) return std::move(*sql);
  stack.push_back(i);
  auto ctes = ephemeral_ctes(state.ephemerals, options, stack);
  stack.pop_back();
  if (!ctes.ok()) return std::move(ctes).error();
  return inject_ctes(*sql, *ctes);
}

Result<std::vector<std::pair<std::string, std::string>>> Compiler::Impl::ephemeral_ctes(
    const std::vector<size_t>& ephemerals, const RenderOptions& options, std::vector<size_t>& stack) {
  std::vector<std::pair<std::string, std::string>> ctes;
  for (size_t e : ephemerals) {
    if (std::find(stack.begin(), stack.end(), e) != stack.end()) continue;
    const Node& node = graph->node(e);
    if (options.fixtures && options.fixtures->count(node.unique_id)) {
      ctes.emplace_back("__dbt__cte__" + node.name, options.fixtures->at(node.unique_id));
      continue;
    }
    RenderOptions child = options;
    child.is_incremental = false;
    STRATA_ASSIGN(std::string body, compile(e, child, stack));
    ctes.emplace_back("__dbt__cte__" + node.name, std::move(body));
  }
  return ctes;
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
void Compiler::set_fast_paths(bool enabled) { impl_->fast_paths = enabled; }

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
  env.add_global("config", detail::config_object(graph));
  env.add_global("exceptions", detail::exceptions_object(impl->options.logger));
  env.add_global("adapter", detail::adapter_object(*impl->dialect, type, impl->namespaces));
  env.add_global("api", detail::api_object(*impl->dialect));
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
  env.add_global("dbt_version", Value(std::string(kDbtVersion)));
  env.add_global("run_started_at", detail::run_started_at_value(impl->options.run_started_at));
  env.add_global("modules", detail::modules_value());
  detail::add_python_builtins(env);
  env.add_global("graph", detail::graph_value(graph, [](const Node& n) { return model_value(n); }));
  env.add_global("flags", Value::from_json(impl->options.flags));

  impl->base = std::make_shared<jinja::Context>();
  STRATA_TRY(detail::load_macros(env, graph, impl->base, *impl->namespaces, impl->user_macros));
  for (const char* file : {"/packages.yml", "/dependencies.yml"}) {
    std::string text;
    if (read_file(graph.project().project.root + file, text)) impl->packages_text += text;
  }
  return std::unique_ptr<Compiler>(new Compiler(std::move(impl)));
}


bool Compiler::has_macro(const std::string& name) const { return impl_->user_macros.count(name) > 0; }

std::optional<std::string> Compiler::macro_call(const std::string& name) const {
  const detail::MacroNamespaces& ns = *impl_->namespaces;
  if (auto dot = name.find('.'); dot != std::string::npos) {
    if (ns.find(name.substr(0, dot), name.substr(dot + 1))) return name;
    return std::nullopt;
  }
  if (has_macro(name)) return name;
  for (const auto& [package, macros] : ns.packages)
    if (package != ns.root && package != "dbt" && ns.find(package, name)) return package + "." + name;
  if (ns.find("dbt", name)) return name;
  return std::nullopt;
}

NameMacro Compiler::name_macro() {
  Impl* impl = impl_.get();
  const bool any = impl->user_macros.count("generate_database_name") ||
                   impl->user_macros.count("generate_schema_name") || impl->user_macros.count("generate_alias_name");
  if (!any) return {};
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
  std::vector<size_t> stack;
  STRATA_ASSIGN(auto ctes, impl_->ephemeral_ctes(state.ephemerals, options, stack));
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

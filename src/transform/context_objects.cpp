// Host objects of the dbt Jinja context: relations, config, exceptions, adapter.
#include "common/strings.h"
#include "transform/compiler_internal.h"
#include "transform/project.h"
#include "warehouse/warehouse.h"

namespace strata::transform::detail {

using jinja::CallArgs;
using jinja::CallContext;
using jinja::Value;

std::optional<Value> RelationObject::get_attr(std::string_view name) const {
  if (name == "database") return database_.empty() ? Value::none() : Value(database_);
  if (name == "schema") return Value(schema_);
  if (name == "identifier" || name == "name" || name == "table") return Value(identifier_);
  if (name == "type") return Value(type_);
  if (name == "is_table") return Value(type_ == "table");
  if (name == "is_view") return Value(type_ == "view");
  if (name == "is_cte") return Value(type_ == "cte");
  if (name == "is_materialized_view") return Value(type_ == "materialized_view");
  if (name == "path") {
    jinja::Dict path;
    path.set("database", database_.empty() ? Value::none() : Value(database_));
    path.set("schema", Value(schema_));
    path.set("identifier", Value(identifier_));
    return Value(std::move(path));
  }
  if (name == "get") {
    // dbt's BaseRelation.get: "metadata" gives the relation class's name; other keys its fields.
    auto self = std::make_shared<RelationObject>(*this);
    return jinja::make_function("get", [self](CallArgs& args, CallContext&) -> Result<Value> {
      const std::string key = arg_string(args, 0, "key");
      if (key == "metadata") {
        const sql::DialectId id = self->dialect_.id();
        jinja::Dict metadata;
        metadata.set("type", Value(std::string(id == sql::DialectId::kPostgres   ? "PostgresRelation"
                                               : id == sql::DialectId::kBigQuery ? "BigQueryRelation"
                                                                                 : "DuckDBRelation")));
        return Value(std::move(metadata));
      }
      if (key != "get") {
        if (auto v = self->get_attr(key)) return *v;
      }
      const Value* fallback = args.get(1, "default");
      return fallback ? *fallback : Value::none();
    });
  }
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

std::string RelationObject::to_string() const {
  if (type_ == "cte") return identifier_;
  const std::string name = dialect_.qualify(database_, schema_, identifier_);
  if (!replacement_.empty()) return "(" + replacement_ + ")" + (dialect_.id() == sql::DialectId::kPostgres ? " _dbt_fixture_" + identifier_ : "");
  if (!empty_ && filter_.empty()) return name;
  // As dbt's adapters: PostgreSQL (before 16) needs an alias on a subquery, DuckDB does not (and
  // then takes the model's own alias, `{{ ref('x') }} as x`).
  const std::string subquery = "(select * from " + name + " where " + (empty_ ? "false limit 0" : filter_) + ")";
  if (dialect_.id() != sql::DialectId::kPostgres) return subquery;
  return subquery + (empty_ ? " _dbt_limit_subq_" : " _dbt_et_filter_subq_") + identifier_;
}

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

// adapter.dispatch(name, macro_namespace): as dbt's, for each namespace of the search order (see
// MacroNamespaces::dispatch_order) the adapter's prefix, then default__ (dbt-duckdb's and
// dbt-postgres's plugins declare no parent adapter).
Result<Value> dispatch(const std::string& type, const MacroNamespaces& ns, CallArgs& args, CallContext& ctx) {
  std::string macro = arg_string(args, 0, "macro_name");
  std::string space;
  if (const Value* v = args.get(1, "macro_namespace"); v && !v->is_none()) space = v->to_string();
  if (auto dot = macro.find('.'); dot != std::string::npos)
    return ctx.error("In adapter.dispatch, got a macro name of '" + macro + "', but '.' is not a valid macro name "
                     "component: write adapter.dispatch('" + macro.substr(dot + 1) + "', macro_namespace='" +
                     macro.substr(0, dot) + "')");
  const std::string prefixes[] = {type, "default"};
  std::string tried;
  for (const auto& package : ns.dispatch_order(space)) {
    for (const auto& prefix : prefixes) {
      const std::string candidate = prefix + "__" + macro;
      if (package.empty()) {
        if (const Value* v = ns.find_global(candidate)) return *v;
        Value local = ctx.lookup(candidate);  // a macro of the template being rendered
        if (local.is_callable()) return local;
      } else if (const Value* v = ns.find(package, candidate)) {
        return *v;
      }
      tried += (tried.empty() ? "'" : ", '") + (package.empty() ? "" : package + ".") + candidate + "'";
    }
  }
  if (space.empty()) {
    Value plain = ctx.lookup(macro);
    if (plain.is_callable()) return plain;
  }
  return ctx.error("In dispatch: No macro named '" + macro + "' found within namespace: '" +
                   (space.empty() ? "None" : space) + "'\n    Searched for: " + tried);
}

// A relation the warehouse listed, as templates see it (database "None": the session's own).
Value relation_value(const sql::Dialect& d, const std::string& database, const warehouse::RelationInfo& r) {
  return Value::object(std::make_shared<RelationObject>(d, database == "None" ? "" : database, r.relation.schema,
                                                        r.relation.name,
                                                        r.kind == warehouse::RelationKind::kView ? "view" : "table"));
}

class AdapterObject : public jinja::Object {
 public:
  AdapterObject(const sql::Dialect& dialect, std::string type, std::shared_ptr<const MacroNamespaces> namespaces)
      : dialect_(dialect), type_(std::move(type)), namespaces_(std::move(namespaces)) {}
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
    if (name == "dispatch") {
      std::shared_ptr<const MacroNamespaces> ns = namespaces_;
      return jinja::make_function("dispatch", [type, ns](CallArgs& args, CallContext& ctx) -> Result<Value> {
        return dispatch(type, *ns, args, ctx);
      });
    }
    if (name == "get_relation")
      return jinja::make_function("get_relation", [&d](CallArgs& args, CallContext& ctx) -> Result<Value> {
        RenderState& st = state_of(ctx);
        if (st.parse_mode || !st.options.warehouse) return Value::none();
        const std::string database = arg_string(args, 0, "database"), schema = arg_string(args, 1, "schema"),
                          identifier = arg_string(args, 2, "identifier");
        auto rels = st.options.warehouse->relations(schema);
        if (!rels.ok()) return ctx.error(rels.error().message());
        for (const auto& r : *rels)
          if (to_lower(r.relation.name) == to_lower(identifier)) return relation_value(d, database, r);
        return Value::none();
      });
    // adapter.list_relations(database, schema): the schema's tables and views, as Relations.
    if (name == "list_relations")
      return jinja::make_function("list_relations", [&d](CallArgs& args, CallContext& ctx) -> Result<Value> {
        RenderState& st = state_of(ctx);
        if (st.parse_mode || !st.options.warehouse) return Value(jinja::ValueList{});
        const std::string database = arg_string(args, 0, "database"), schema = arg_string(args, 1, "schema");
        auto rels = st.options.warehouse->relations(schema);
        if (!rels.ok()) return ctx.error(rels.error().message());
        jinja::ValueList out;
        for (const auto& r : *rels) out.push_back(relation_value(d, database, r));
        return Value(std::move(out));
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
        for (const auto& c : *cols) out.push_back(column_value(r->dialect(), c.name, c.native_type));
        return Value(std::move(out));
      });
    return std::nullopt;
  }

 private:
  const sql::Dialect& dialect_;
  std::string type_;
  std::shared_ptr<const MacroNamespaces> namespaces_;
};

}  // namespace

Value config_object(const Graph& graph) { return Value::object(std::make_shared<ConfigObject>(graph)); }
Value exceptions_object(Logger logger) { return Value::object(std::make_shared<ExceptionsObject>(std::move(logger))); }
Value adapter_object(const sql::Dialect& dialect, std::string type, std::shared_ptr<const MacroNamespaces> namespaces) {
  return Value::object(std::make_shared<AdapterObject>(dialect, std::move(type), std::move(namespaces)));
}

}  // namespace strata::transform::detail

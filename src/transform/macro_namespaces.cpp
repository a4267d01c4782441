// The project's macros by namespace: dbt's MacroNamespace search order and adapter.dispatch's
// search packages (see compiler_internal.h).
#include "transform/compiler_internal.h"

namespace strata::transform::detail {

using jinja::Value;

const Value* MacroNamespaces::find(const std::string& package, const std::string& name) const {
  auto it = packages.find(package);
  return it == packages.end() ? nullptr : it->second.find(name);
}

const Value* MacroNamespaces::find_global(const std::string& name) const {
  if (const Value* v = find(root, name)) return v;
  for (const auto& [package, macros] : packages)
    if (package != root && package != "dbt")
      if (const Value* v = macros.find(name)) return v;
  return find("dbt", name);
}

std::vector<std::string> MacroNamespaces::dispatch_order(const std::string& macro_namespace) const {
  if (macro_namespace.empty()) return {""};
  auto configured = search_orders.find(macro_namespace);
  if (configured != search_orders.end() && !configured->second.empty()) return configured->second;
  if (packages.count(macro_namespace)) return {root, macro_namespace};
  return {""};
}

namespace {

// `dispatch:` of dbt_project.yml: [{macro_namespace: x, search_order: [a, b]}, ...].
std::map<std::string, std::vector<std::string>> search_orders_of(const Json& dispatch) {
  std::map<std::string, std::vector<std::string>> out;
  if (!dispatch.is_array()) return out;
  for (const auto& entry : dispatch) {
    if (!entry.is_object() || !entry.contains("macro_namespace") || !entry["macro_namespace"].is_string()) continue;
    std::vector<std::string>& order = out[entry["macro_namespace"].get<std::string>()];
    if (entry.contains("search_order") && entry["search_order"].is_array())
      for (const auto& p : entry["search_order"])
        if (p.is_string()) order.push_back(p.get<std::string>());
  }
  return out;
}

}  // namespace

Status load_macros(jinja::Environment& env, const Graph& graph, const std::shared_ptr<const jinja::Context>& base,
                   MacroNamespaces& ns, std::unordered_set<std::string>& root_macros) {
  const ParsedProject& project = graph.project();
  ns.root = project.project.name;
  ns.search_orders = search_orders_of(project.project.dispatch);
  jinja::Dict& dbt = ns.packages["dbt"];
  for (const char* source : {builtin_macros_source(), builtin_utils_macros_source(), builtin_date_macros_source()}) {
    auto builtins = env.parse(source, "<strata builtin macros>");
    if (!builtins.ok()) return std::move(builtins).error();
    for (const auto& name : (*builtins)->macro_names())
      if (auto m = (*builtins)->macro(name)) {
        env.add_global(name, *m);
        dbt.set(name, *m);
      }
  }
  // dbt's macros written in C++ (compiler.cpp) are reachable as dbt.x too.
  for (const char* native : {"get_where_subquery", "is_incremental"})
    if (const Value* f = env.global(native)) dbt.set(native, *f);
  ns.packages[ns.root];
  for (const auto& package : project.packages) ns.packages[package.name];
  for (const auto& file : project.macro_files) {
    auto parsed = env.parse(file.contents, file.absolute_path);
    if (!parsed.ok()) {
      Error e = std::move(parsed).error();
      return Error(ErrorCode::kConfig, e.message(), e.where(), e.hint());
    }
    const bool is_root = file.package_name == ns.root;
    jinja::Dict& macros = ns.packages[file.package_name];
    for (const auto& name : (*parsed)->macro_names()) {
      auto m = (*parsed)->macro(name);
      if (!m) continue;
      macros.set(name, *m);
      if (!is_root) continue;
      env.add_global(name, *m);  // the root project's macros are global and override built-ins
      root_macros.insert(name);
    }
  }
  // Namespaces as globals: `dbt_utils.star(...)`, `dbt.current_timestamp()`, `my_project.x()`;
  // never over a root macro of the same name.
  for (const auto& [package, macros] : ns.packages) {
    if (!root_macros.count(package)) env.add_global(package, Value(macros));
    if (package == ns.root || package == "dbt") continue;
    auto local = std::make_shared<jinja::Context>(base);
    for (const auto& [name, macro] : macros.entries()) local->set(name.as_string(), macro);
    ns.locals[package] = std::move(local);
  }
  return ok_status();
}

}  // namespace strata::transform::detail

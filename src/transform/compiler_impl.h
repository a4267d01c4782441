#pragma once
// Compiler::Impl, shared by compiler.cpp (the render context, compiling nodes) and
// compiler_parse.cpp (the parse-time render of configs, refs and generic tests). Internal to the
// transform module. Thread-safety: as Compiler's.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "transform/compiler.h"
#include "transform/compiler_internal.h"

namespace strata::transform {

struct Compiler::Impl {
  const Graph* graph = nullptr;
  CompilerOptions options;
  const sql::Dialect* dialect = nullptr;
  jinja::Environment env;
  std::shared_ptr<const jinja::Context> base;
  std::unordered_set<std::string> user_macros;  // macros the root project defines
  std::shared_ptr<detail::MacroNamespaces> namespaces = std::make_shared<detail::MacroNamespaces>();
  std::string packages_text;  // packages.yml + dependencies.yml, for hints on undefined package names
  bool fast_paths = true;
  std::mutex cache_mutex;
  std::vector<std::shared_ptr<const jinja::Template>> cache;

  Result<std::shared_ptr<const jinja::Template>> node_template(size_t i);
  Result<std::string> render_text(const std::string& text, size_t node, detail::RenderState& state, const std::string& name);
  Status render_config_values(Graph& graph);
  Result<std::string> compile(size_t i, const RenderOptions& options, std::vector<size_t>& stack);
  // The `__dbt__cte__x` CTEs of the ephemeral nodes a render referenced (those on `stack` left
  // out): each compiled, or a unit test's fixture for it.
  Result<std::vector<std::pair<std::string, std::string>>> ephemeral_ctes(const std::vector<size_t>& ephemerals,
                                                                          const RenderOptions& options,
                                                                          std::vector<size_t>& stack);
  Result<std::string> generic_test_text(size_t i) const;
  // Renders generic test `n` (node i) in parse mode and gives it the configs its macro's config()
  // calls set, except those its YAML or the project set. A render error is left to the run.
  Status capture_generic_test_config(Node& n, size_t i);
  std::optional<std::string> fast_compile(size_t i, std::vector<size_t>& ephemerals) const;
  std::optional<std::string> plain_relation(const detail::PlainCall& call, const Node& from,
                                            std::vector<size_t>& ephemerals) const;
  // Whether the root project, or the package of node `n` (its local namespace), defines `name`.
  bool overridden(const std::string& name, const Node& n) const {
    return user_macros.count(name) > 0 || (n.package_name != namespaces->root && namespaces->find(n.package_name, name));
  }
  // The base context of a render of node i: its package's local macros over the shared base.
  const std::shared_ptr<const jinja::Context>& base_for(size_t i) const {
    if (i == detail::kNoNode) return base;
    auto local = namespaces->locals.find(graph->node(i).package_name);
    return local == namespaces->locals.end() ? base : local->second;
  }
  void register_functions();
  Json var_lookup_scope(size_t node) const;
};

}  // namespace strata::transform

#include "transform/selection.h"

#include <algorithm>
#include <deque>
#include <optional>

#include "common/strings.h"

namespace strata::transform {

namespace {

using Mask = std::vector<bool>;

// What terms are evaluated against: the graph and, with --state, the comparison with it.
struct Scope {
  const Graph& graph;
  const StateComparison* state = nullptr;
};

// A parsed selection term: [@][N+]method:value[+N].
struct Term {
  bool childrens_parents = false;
  bool parents = false;
  int parents_depth = -1;  // -1: unlimited
  bool children = false;
  int children_depth = -1;
  std::string method;      // "" → default method
  std::string argument;    // for config.X: X
  std::string value;
};

Error usage(std::string message, std::string hint = {}) {
  return Error(ErrorCode::kUsage, std::move(message), {}, std::move(hint));
}

Result<Term> parse_term(std::string_view text) {
  Term t;
  std::string_view s = text;
  if (!s.empty() && s.front() == '@') {
    t.childrens_parents = true;
    s.remove_prefix(1);
  }
  size_t digits = 0;
  while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
  if (digits < s.size() && s[digits] == '+') {
    t.parents = true;
    if (digits > 0) t.parents_depth = std::stoi(std::string(s.substr(0, digits)));
    s.remove_prefix(digits + 1);
  }
  size_t end = s.size();
  while (end > 0 && std::isdigit(static_cast<unsigned char>(s[end - 1]))) --end;
  if (end > 0 && s[end - 1] == '+') {
    t.children = true;
    if (end < s.size()) t.children_depth = std::stoi(std::string(s.substr(end)));
    s = s.substr(0, end - 1);
  }
  if (t.childrens_parents && (t.parents || t.children))
    return usage("selector '" + std::string(text) + "' combines @ with +", "use either @model or +model+");
  size_t colon = s.find(':');
  if (colon != std::string_view::npos) {
    std::string method(s.substr(0, colon));
    t.value = std::string(s.substr(colon + 1));
    auto dot = method.find('.');
    if (dot != std::string::npos) {
      t.argument = method.substr(dot + 1);
      method = method.substr(0, dot);
    }
    t.method = method;
  } else {
    t.value = std::string(s);
  }
  if (t.value.empty()) return usage("selector '" + std::string(text) + "' has no value");
  return t;
}

std::string default_method(const std::string& value) {
  if (value.find('/') != std::string::npos || value.find('\\') != std::string::npos) return "path";
  if (ends_with(value, ".sql") || ends_with(value, ".py") || ends_with(value, ".csv")) return "file";
  return "fqn";
}

bool fqn_match(const Node& n, const std::string& value) {
  if (glob_match(value, n.fqn.back())) return true;
  std::vector<std::string> flat;
  for (const auto& seg : n.fqn)
    for (auto& part : split(seg, '.')) flat.push_back(part);
  auto parts = split(value, '.');
  if (parts.size() > flat.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == "*") return true;
    if (!glob_match(parts[i], flat[i])) return false;
  }
  return true;
}

bool path_match(const Node& n, std::string value) {
  while (value.size() > 1 && value.back() == '/') value.pop_back();
  if (starts_with(value, "./")) value = value.substr(2);
  const std::string& p = n.original_file_path;
  if (glob_match(value, p)) return true;
  return starts_with(p, value + "/") || (value.find_first_of("*?[") != std::string::npos &&
                                         glob_match(value + "/*", p));
}

bool config_value_match(const Json& v, const std::string& value) {
  if (v.is_string()) return glob_match(value, v.get<std::string>());
  if (v.is_boolean()) return to_lower(value) == (v.get<bool>() ? "true" : "false");
  if (v.is_number()) return v.dump() == value;
  if (v.is_array()) {
    for (const auto& item : v)
      if (config_value_match(item, value)) return true;
  }
  return false;
}

Result<bool> matches(const Scope& sc, size_t i, const Term& t, const std::string& method) {
  const Node& n = sc.graph.node(i);
  const std::string& v = t.value;
  if (method == "state" || method == "result" || method == "source_status") {
    if (!sc.state)
      return usage("the " + method + ": method compares with an earlier invocation: pass --state DIR",
                   "DIR is that invocation's target folder (manifest.json" +
                       std::string(method == "result"          ? ", run_results.json)"
                                   : method == "source_status" ? ", sources.json)"
                                                               : ")"));
    if (method == "source_status") return sc.state->source_status_matches(i, v);
    return method == "state" ? sc.state->state_matches(i, v) : sc.state->result_matches(i, v);
  }
  // dbt's fqn method looks at manifest nodes only: a source named like a model (source `orders`,
  // model `orders`) is not selected by `orders`, so `orders+` does not pull in the source's children.
  if (method == "fqn") return n.resource_type != ResourceType::kSource && fqn_match(n, v);
  if (method == "tag") {
    for (const auto& tag : n.tags)
      if (glob_match(v, tag)) return true;
    return false;
  }
  if (method == "path") return path_match(n, v);
  if (method == "file") {
    std::string base = n.original_file_path.substr(n.original_file_path.rfind('/') + 1);
    std::string stem = base.substr(0, base.rfind('.'));
    return glob_match(v, base) || glob_match(v, stem);
  }
  if (method == "config") {
    if (t.argument.empty()) return usage("config selector needs a key: config.materialized:table");
    auto it = n.config.find(t.argument);
    return it != n.config.end() && config_value_match(*it, v);
  }
  if (method == "resource_type") {
    if (!parse_resource_type(v)) return usage("unknown resource_type '" + v + "'",
                                              "use model, seed, snapshot, test, source or analysis");
    return resource_type_name(n.resource_type) == v || (v == "data_test" && n.is_test());
  }
  if (method == "source") {
    if (n.resource_type != ResourceType::kSource) return false;
    auto parts = split(v, '.');
    if (parts.size() == 1) return glob_match(parts[0], n.source_name);
    if (parts.size() == 2)
      return (glob_match(parts[0], n.source_name) && glob_match(parts[1], n.name)) ||
             (glob_match(parts[0], n.package_name) && glob_match(parts[1], n.source_name));
    return glob_match(parts[0], n.package_name) && glob_match(parts[1], n.source_name) &&
           glob_match(parts[2], n.name);
  }
  if (method == "test_type") {
    if (!n.is_test()) return false;
    bool generic = n.test_metadata.has_value();
    bool unit = !n.unit_test.is_null();
    if (v == "generic" || v == "schema") return generic;
    if (v == "singular" || v == "data") return !generic && !unit;
    if (v == "unit") return unit;
    return usage("unknown test_type '" + v + "'", "use generic, singular or unit");
  }
  if (method == "test_name") {
    if (!n.is_test()) return false;
    return glob_match(v, n.test_metadata ? n.test_metadata->name : n.name);
  }
  if (method == "package") return glob_match(v, n.package_name);
  return usage("unknown selection method '" + method + "'",
               "use one of fqn, tag, path, file, config.X, resource_type, source, test_type, test_name, package, state, "
               "result, source_status");
}

void walk(const Graph& g, Mask& mask, const Mask& start, bool up, int depth) {
  std::deque<std::pair<size_t, int>> queue;
  std::vector<int> best(g.size(), -1);
  for (size_t i = 0; i < g.size(); ++i)
    if (start[i]) {
      queue.emplace_back(i, 0);
      best[i] = 0;
    }
  while (!queue.empty()) {
    auto [i, d] = queue.front();
    queue.pop_front();
    if (depth >= 0 && d >= depth) continue;
    for (size_t next : up ? g.parents(i) : g.children(i)) {
      if (best[next] >= 0) continue;
      best[next] = d + 1;
      mask[next] = true;
      queue.emplace_back(next, d + 1);
    }
  }
}

Result<Mask> evaluate_term(const Scope& sc, const Term& t) {
  const Graph& g = sc.graph;
  std::string method = t.method.empty() ? default_method(t.value) : t.method;
  Mask base(g.size(), false);
  bool any = false;
  for (size_t i = 0; i < g.size(); ++i) {
    STRATA_ASSIGN(bool m, matches(sc, i, t, method));
    base[i] = m;
    any |= m;
  }
  if (!any) return base;
  Mask out = base;
  if (t.childrens_parents) {
    walk(g, out, base, false, -1);
    Mask descendants = out;
    walk(g, out, descendants, true, -1);
    return out;
  }
  if (t.parents) walk(g, out, base, true, t.parents_depth);
  if (t.children) walk(g, out, base, false, t.children_depth);
  return out;
}

// The selected nodes and every ancestor of one (what a build of them builds first).
Mask with_ancestors(const Graph& g, const Mask& mask) {
  Mask out = mask;
  std::vector<size_t> stack;
  for (size_t i = 0; i < g.size(); ++i)
    if (mask[i]) stack.push_back(i);
  while (!stack.empty()) {
    const size_t i = stack.back();
    stack.pop_back();
    for (size_t p : g.parents(i))
      if (!out[p]) {
        out[p] = true;
        stack.push_back(p);
      }
  }
  return out;
}

// Adds the tests of the nodes in `mask`, as `mode` says.
void add_indirect_tests(const Graph& g, Mask& mask, IndirectSelection mode = IndirectSelection::kEager) {
  if (mode == IndirectSelection::kEmpty) return;
  const Mask base = mode == IndirectSelection::kBuildable ? with_ancestors(g, mask) : mask;
  const Mask selected = mask;
  for (size_t i = 0; i < g.size(); ++i) {
    if (!g.node(i).is_test() || mask[i] || g.parents(i).empty()) continue;
    const auto& parents = g.parents(i);
    if (mode == IndirectSelection::kEager) {
      mask[i] = std::any_of(parents.begin(), parents.end(), [&](size_t p) { return selected[p]; });
    } else {
      // cautious, buildable: every parent, and at least one of them selected itself
      mask[i] = std::all_of(parents.begin(), parents.end(), [&](size_t p) { return base[p]; }) &&
                std::any_of(parents.begin(), parents.end(), [&](size_t p) { return selected[p]; });
    }
  }
}

// With eager indirect selection, dbt intersects each term's nodes *plus their tests*, so
// `stg_orders,test_type:generic` is the generic tests of stg_orders rather than nothing.
Result<Mask> evaluate_intersection(const Scope& sc, std::string_view token, bool indirect) {
  const Graph& g = sc.graph;
  Mask out(g.size(), true);
  auto parts = split(token, ',');
  const bool expand = indirect && parts.size() > 1;
  for (const auto& part : parts) {
    if (trim(part).empty()) continue;
    STRATA_ASSIGN(Term t, parse_term(trim(part)));
    STRATA_ASSIGN(Mask m, evaluate_term(sc, t));
    if (expand) add_indirect_tests(g, m);
    for (size_t i = 0; i < out.size(); ++i) out[i] = out[i] && m[i];
  }
  return out;
}

Result<Mask> evaluate_union(const Scope& sc, const std::vector<std::string>& items, bool indirect = false) {
  const Graph& g = sc.graph;
  Mask out(g.size(), false);
  for (const auto& item : items) {
    std::string normalized = replace_all(replace_all(item, "\t", " "), "\n", " ");
    for (const auto& token : split(normalized, ' ')) {
      if (trim(token).empty()) continue;
      STRATA_ASSIGN(Mask m, evaluate_intersection(sc, trim(token), indirect));
      for (size_t i = 0; i < out.size(); ++i) out[i] = out[i] || m[i];
    }
  }
  return out;
}

Result<Mask> evaluate_definition(const Scope& sc, const Json& def, int depth);

Result<Mask> evaluate_named_selector(const Scope& sc, const std::string& name, int depth) {
  const Graph& g = sc.graph;
  if (depth > 32) return usage("selectors refer to each other in a loop (at '" + name + "')");
  for (const auto& s : g.project().selectors)
    if (s.name == name) return evaluate_definition(sc, s.definition, depth + 1);
  std::vector<std::string> names;
  for (const auto& s : g.project().selectors) names.push_back(s.name);
  return usage("no selector named '" + name + "' in selectors.yml",
               names.empty() ? "define it in selectors.yml" : "known selectors: " + join(names, ", "));
}

Result<Mask> evaluate_definition(const Scope& sc, const Json& def, int depth) {
  const Graph& g = sc.graph;
  if (def.is_string()) return evaluate_union(sc, {def.get<std::string>()});
  if (!def.is_object()) return usage("a selector definition must be a string or a mapping");
  if (def.contains("union") || def.contains("intersection")) {
    bool is_union = def.contains("union");
    const Json& items = is_union ? def["union"] : def["intersection"];
    Mask out(g.size(), !is_union);
    Mask excluded(g.size(), false);
    for (const auto& item : items) {
      if (item.is_object() && item.contains("exclude")) {
        for (const auto& ex : item["exclude"]) {
          STRATA_ASSIGN(Mask m, evaluate_definition(sc, ex, depth));
          for (size_t i = 0; i < m.size(); ++i) excluded[i] = excluded[i] || m[i];
        }
        continue;
      }
      STRATA_ASSIGN(Mask m, evaluate_definition(sc, item, depth));
      for (size_t i = 0; i < out.size(); ++i) out[i] = is_union ? (out[i] || m[i]) : (out[i] && m[i]);
    }
    for (size_t i = 0; i < out.size(); ++i) out[i] = out[i] && !excluded[i];
    return out;
  }
  if (def.contains("method")) {
    std::string method = def["method"].get<std::string>();
    std::string value = def.contains("value") ? (def["value"].is_string() ? def["value"].get<std::string>()
                                                                          : def["value"].dump())
                                              : "";
    if (method == "selector") return evaluate_named_selector(sc, value, depth);
    Term t;
    t.value = value;
    auto dot = method.find('.');
    t.method = dot == std::string::npos ? method : method.substr(0, dot);
    if (dot != std::string::npos) t.argument = method.substr(dot + 1);
    auto flag = [&](const char* k) { return def.contains(k) && def[k].is_boolean() && def[k].get<bool>(); };
    t.parents = flag("parents");
    t.children = flag("children");
    t.childrens_parents = flag("childrens_parents");
    if (def.contains("parents_depth")) t.parents_depth = def["parents_depth"].get<int>();
    if (def.contains("children_depth")) t.children_depth = def["children_depth"].get<int>();
    STRATA_ASSIGN(Mask m, evaluate_term(sc, t));
    if (def.contains("exclude")) {
      for (const auto& ex : def["exclude"]) {
        STRATA_ASSIGN(Mask e, evaluate_definition(sc, ex, depth));
        for (size_t i = 0; i < m.size(); ++i) m[i] = m[i] && !e[i];
      }
    }
    return m;
  }
  if (def.size() == 1) {
    // Shorthand `{tag: nightly}`.
    auto it = def.begin();
    return evaluate_union(sc, {it.key() + ":" + (it.value().is_string() ? it.value().get<std::string>() : it.value().dump())});
  }
  return usage("a selector definition needs `method`/`value`, `union` or `intersection`");
}

}  // namespace

bool glob_match(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  auto class_match = [&](size_t& at, char c) {
    size_t j = at + 1;
    bool negate = j < p.size() && (p[j] == '!' || p[j] == '^');
    if (negate) ++j;
    bool hit = false;
    size_t start = j;
    while (j < p.size() && (p[j] != ']' || j == start)) {
      if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
        hit |= c >= p[j] && c <= p[j + 2];
        j += 3;
      } else {
        hit |= p[j] == c;
        ++j;
      }
    }
    at = j;  // at ']'
    return hit != negate;
  };
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
      continue;
    }
    if (pi < p.size() && p[pi] == '[' && p.find(']', pi + 1) != std::string_view::npos) {
      size_t at = pi;
      if (class_match(at, s[si])) {
        pi = at + 1;
        ++si;
        continue;
      }
    } else if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi;
      ++si;
      continue;
    }
    if (star == std::string_view::npos) return false;
    pi = star + 1;
    si = ++mark;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::optional<IndirectSelection> parse_indirect_selection(std::string_view name) {
  if (name == "eager") return IndirectSelection::kEager;
  if (name == "cautious") return IndirectSelection::kCautious;
  if (name == "buildable") return IndirectSelection::kBuildable;
  if (name == "empty") return IndirectSelection::kEmpty;
  return std::nullopt;
}

Result<std::vector<bool>> evaluate_selection(const Graph& graph, const std::string& spec) {
  return evaluate_union(Scope{graph}, {spec});
}

Result<std::vector<size_t>> select_nodes(const Graph& g, const SelectionRequest& request) {
  std::optional<StateComparison> comparison;
  if (request.state) {
    std::optional<FreshnessResults> current;
    if (!request.target_dir.empty()) {
      STRATA_ASSIGN(current, load_freshness(request.target_dir + "/sources.json"));
    }
    comparison.emplace(g, *request.state, std::move(current));
  }
  const Scope sc{g, comparison ? &*comparison : nullptr};
  Mask mask(g.size(), false);
  bool explicit_selection = !request.select.empty() || !request.selector.empty();
  if (!request.selector.empty()) {
    STRATA_ASSIGN(mask, evaluate_named_selector(sc, request.selector, 0));
  }
  if (!request.select.empty()) {
    STRATA_ASSIGN(Mask m, evaluate_union(sc, request.select, request.indirect == IndirectSelection::kEager));
    if (!request.selector.empty()) {
      for (size_t i = 0; i < mask.size(); ++i) mask[i] = mask[i] && m[i];
    } else {
      mask = std::move(m);
    }
  }
  if (!explicit_selection) {
    const SelectorDef* def = nullptr;
    for (const auto& s : g.project().selectors)
      if (s.is_default) def = &s;
    if (def) {
      STRATA_ASSIGN(mask, evaluate_definition(sc, def->definition, 0));
    } else {
      mask.assign(g.size(), true);
    }
  }
  add_indirect_tests(g, mask, request.indirect);
  if (!request.exclude.empty()) {
    // An excluded node takes its tests with it in every mode but empty, as in dbt.
    const bool indirect = request.indirect != IndirectSelection::kEmpty;
    STRATA_ASSIGN(Mask ex, evaluate_union(sc, request.exclude, indirect));
    if (indirect) add_indirect_tests(g, ex);
    for (size_t i = 0; i < mask.size(); ++i) mask[i] = mask[i] && !ex[i];
  }
  std::vector<size_t> out;
  for (size_t i : g.topological_order()) {
    if (!mask[i]) continue;
    if (!request.resource_types.empty() &&
        std::find(request.resource_types.begin(), request.resource_types.end(), g.node(i).resource_type) ==
            request.resource_types.end())
      continue;
    out.push_back(i);
  }
  return out;
}

}  // namespace strata::transform

#include "transform/graph.h"

#include <algorithm>
#include <queue>
#include <string_view>
#include <unordered_set>

#include "common/parallel.h"

namespace strata::transform {

namespace {

// Below this many nodes, index() and sort() stay on one thread (starting one costs more).
constexpr size_t kParallelNodes = 4096;

bool is_refable(ResourceType t) {
  return t == ResourceType::kModel || t == ResourceType::kSeed || t == ResourceType::kSnapshot ||
         t == ResourceType::kAnalysis;
}

// The location of `needle` inside a node's SQL (its file), for errors.
SourceLocation locate(const Node& node, const std::string& needle) {
  SourceLocation where = node.where;
  size_t at = node.raw_code.find(needle);
  if (at == std::string::npos || node.resource_type == ResourceType::kTest || node.is_yaml_snapshot) return where;
  int line = where.line > 0 ? where.line : 1, col = 1;
  for (size_t i = 0; i < at; ++i) {
    if (node.raw_code[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  where.line = line;
  where.column = col;
  return where;
}

const char* describe(ResourceType t) {
  switch (t) {
    case ResourceType::kModel: return "Model";
    case ResourceType::kSeed: return "Seed";
    case ResourceType::kSnapshot: return "Snapshot";
    case ResourceType::kTest: return "Test";
    case ResourceType::kSource: return "Source";
    case ResourceType::kAnalysis: return "Analysis";
  }
  return "Node";
}

}  // namespace

std::optional<size_t> Graph::find(const std::string& unique_id) const {
  auto it = by_id_.find(unique_id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::optional<size_t> Graph::resolve_ref(const RefCall& ref, const std::string& from_package) const {
  auto it = by_ref_name_.find(ref.name);
  if (it == by_ref_name_.end()) return std::nullopt;
  // dbt's order: the named package alone; else the root project, the referring node's package,
  // then any package.
  const std::string& root = project_.project.name;
  std::optional<size_t> local, any;
  for (size_t i : it->second) {
    const Node& n = project_.nodes[i];
    if (!ref.package.empty()) {
      if (n.package_name == ref.package) return i;
      continue;
    }
    if (n.package_name == root) return i;
    if (!local && n.package_name == from_package) local = i;
    if (!any) any = i;
  }
  return local ? local : any;
}

std::optional<size_t> Graph::resolve_source(const SourceCall& source) const {
  auto it = by_source_.find(source.source_name + "." + source.table_name);
  if (it == by_source_.end()) return std::nullopt;
  return it->second;
}

Result<Graph> Graph::build(ParsedProject project) {
  Graph g;
  g.project_ = std::move(project);
  // Drop generic tests attached to nodes that do not exist (e.g. disabled ones). The id index
  // built for linking answers "exists".
  g.index();
  g.project_.needs_render.clear();
  std::vector<bool> drop(g.project_.nodes.size(), false);
  if (!g.drop_orphan_tests(drop, {})) {
    STRATA_TRY(g.link());
    STRATA_TRY(g.sort());
    return g;
  }
  STRATA_TRY(g.remove_nodes(drop, {}));
  return g;
}

bool Graph::drop_orphan_tests(std::vector<bool>& drop, const std::vector<bool>& disabling) {
  auto disabled_name = [&](const std::string& name) {
    return std::any_of(project_.disabled.begin(), project_.disabled.end(),
                       [&](const Node& d) { return d.name == name && is_refable(d.resource_type); });
  };
  bool any = false;
  for (size_t i = 0; i < project_.nodes.size(); ++i) {
    const Node& n = project_.nodes[i];
    if (drop[i] || !n.is_test()) continue;
    std::string gone;
    if (!n.attached_node.empty() && !by_id_.count(n.attached_node)) gone = n.attached_node;
    // A test that refs a disabled node (a relationships test's `to:`) goes too, as in dbt, unless
    // another node of that name stays (two versions of a model, one enabled at a time).
    for (size_t r = 0; gone.empty() && r < n.refs.size(); ++r) {
      const RefCall& ref = n.refs[r];
      bool alive = false, disabled = disabled_name(ref.name);
      if (auto it = by_ref_name_.find(ref.name); it != by_ref_name_.end()) {
        for (size_t c : it->second) {
          if (!ref.package.empty() && project_.nodes[c].package_name != ref.package) continue;
          const bool going = c < disabling.size() && disabling[c];
          alive = alive || !going;
          disabled = disabled || going;
        }
      }
      if (!alive && disabled) gone = ref.name;
    }
    if (gone.empty()) continue;
    project_.warnings.push_back(n.where.to_string() + ": test " + n.name + " is ignored: " + gone +
                                " is disabled or missing");
    drop[i] = true;
    any = true;
  }
  return any;
}

Status Graph::remove_nodes(const std::vector<bool>& drop, const std::vector<bool>& disable) {
  std::vector<Node>& nodes = project_.nodes;
  size_t kept = 0;  // nodes move only after the first removed one
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (drop[i]) {
      if (i < disable.size() && disable[i]) project_.disabled.push_back(std::move(nodes[i]));
      continue;
    }
    if (kept != i) nodes[kept] = std::move(nodes[i]);
    ++kept;
  }
  nodes.erase(nodes.begin() + static_cast<std::ptrdiff_t>(kept), nodes.end());
  return refresh_edges();
}

Status Graph::apply_rendered_configs(bool refs_changed) {
  std::vector<bool> disable(project_.nodes.size(), false);
  bool any = false, undecided = false;
  for (size_t i = 0; i < project_.nodes.size(); ++i) {
    Node& n = project_.nodes[i];
    n.refresh_tags_and_meta();
    undecided = undecided || n.enabled_undecided;
    n.enabled_undecided = false;
    disable[i] = !n.enabled();
    any = any || disable[i];
  }
  if (!any) {
    // The parser checked every node but the undecided ones.
    if (undecided) STRATA_TRY(check_unique_ids(project_.nodes));
    // Refs the render found, or refs of undecided nodes left unlinked (now errors if unresolved).
    return refs_changed || undecided ? refresh_edges() : ok_status();
  }
  // Tests attached to a disabled node go with it, unless an enabled node has its id (dbt's pattern
  // of two versions of a model, one enabled at a time).
  std::unordered_set<std::string_view> kept;
  for (size_t i = 0; i < disable.size(); ++i)
    if (!disable[i]) kept.insert(project_.nodes[i].unique_id);
  for (size_t i = 0; i < disable.size(); ++i)
    if (disable[i] && !kept.count(project_.nodes[i].unique_id)) by_id_.erase(project_.nodes[i].unique_id);
  std::vector<bool> drop = disable;
  drop_orphan_tests(drop, disable);
  STRATA_TRY(check_unique_ids(project_.nodes, drop));
  return remove_nodes(drop, disable);
}

Status Graph::refresh_edges() {
  index();
  STRATA_TRY(link());
  return sort();
}

void Graph::index() {
  by_id_.clear();
  by_ref_name_.clear();
  by_source_.clear();
  const size_t n = project_.nodes.size();
  // The id index on one thread, the name indexes on another: each is a pass over every node.
  parallel_for(
      2,
      [&](size_t which) {
        if (which == 0) {
          by_id_.reserve(n);
          for (size_t i = 0; i < n; ++i) by_id_[project_.nodes[i].unique_id] = i;
          return;
        }
        by_ref_name_.reserve(n);
        for (size_t i = 0; i < n; ++i) {
          const Node& node = project_.nodes[i];
          if (is_refable(node.resource_type)) by_ref_name_[node.name].push_back(i);
          if (node.resource_type == ResourceType::kSource) by_source_[node.source_name + "." + node.name] = i;
        }
      },
      n >= kParallelNodes ? 2 : 1, 1);
}

Status Graph::link_node(size_t i) {
  Node& node = project_.nodes[i];
  node.depends_on.clear();
  std::vector<size_t>& ps = parents_[i];
  for (const auto& ref : node.refs) {
    auto target = resolve_ref(ref, node.package_name);
    if (!target && node.enabled_undecided) continue;  // decided after the parse-time render
    if (!target) {
      bool disabled = false;
      for (const auto& d : project_.disabled) disabled |= d.name == ref.name && is_refable(d.resource_type);
      std::string what = (ref.package.empty() ? "" : ref.package + ".") + ref.name;
      return Error(ErrorCode::kConfig,
                   std::string(describe(node.resource_type)) + " '" + node.unique_id + "' (" +
                       node.original_file_path + ") depends on a node named '" + what + "' which " +
                       (disabled ? "is disabled" : "was not found"),
                   locate(node, "'" + ref.name + "'"),
                   disabled ? "enable '" + ref.name + "' or remove the ref"
                            : "check the name in ref('" + ref.name + "'), or add the model/seed/snapshot");
    }
    ps.push_back(*target);
  }
  for (const auto& src : node.sources) {
    auto target = resolve_source(src);
    if (!target && node.enabled_undecided) continue;
    if (!target)
      return Error(ErrorCode::kConfig,
                   std::string(describe(node.resource_type)) + " '" + node.unique_id + "' (" +
                       node.original_file_path + ") depends on a source named '" + src.source_name + "." +
                       src.table_name + "' which was not found",
                   locate(node, "'" + src.table_name + "'"),
                   "declare it under `sources:` in a property file, with table '" + src.table_name + "'");
    ps.push_back(*target);
  }
  // Keep the order refs were written in (dbt's depends_on order); drop repeats and self-refs.
  std::vector<size_t> unique;
  unique.reserve(ps.size());
  for (size_t p : ps)
    if (p != i && std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(p);
  ps = std::move(unique);
  node.depends_on.reserve(ps.size());
  for (size_t p : ps) node.depends_on.push_back(project_.nodes[p].unique_id);
  return ok_status();
}

Status Graph::link() {
  const size_t n = project_.nodes.size();
  parents_.assign(n, {});
  children_.assign(n, {});
  // Each node's parents are resolved on its own (reads of the indexes, writes to its own slots), so
  // large graphs resolve on a few threads; the first error in node order is the one reported.
  STRATA_TRY(parallel_for_status(n, [&](size_t i) { return link_node(i); }));
  for (size_t i = 0; i < n; ++i)
    for (size_t p : parents_[i]) children_[p].push_back(i);
  return ok_status();
}

Status Graph::sort() {
  const size_t n = project_.nodes.size();
  std::vector<size_t> indegree(n);
  for (size_t i = 0; i < n; ++i) indegree[i] = parents_[i].size();
  // Ties go in unique_id order: rank the ids once, so the queue compares integers rather than
  // reaching into two nodes for their ids on every comparison.
  std::vector<std::pair<std::string_view, size_t>> ids(n);
  for (size_t i = 0; i < n; ++i) ids[i] = {project_.nodes[i].unique_id, i};
  // Large graphs: two halves sorted on two threads, then merged.
  const bool halves = n >= kParallelNodes;
  const auto middle = ids.begin() + static_cast<std::ptrdiff_t>(halves ? n / 2 : n);
  parallel_for(
      2, [&](size_t half) { half == 0 ? std::sort(ids.begin(), middle) : std::sort(middle, ids.end()); },
      halves ? 2 : 1, 1);
  std::inplace_merge(ids.begin(), middle, ids.end());
  std::vector<size_t> rank(n);
  for (size_t r = 0; r < n; ++r) rank[ids[r].second] = r;
  auto later = [&rank](size_t a, size_t b) { return rank[a] > rank[b]; };
  std::priority_queue<size_t, std::vector<size_t>, decltype(later)> ready(later);
  for (size_t i = 0; i < n; ++i)
    if (indegree[i] == 0) ready.push(i);
  order_.clear();
  order_.reserve(n);
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    order_.push_back(i);
    for (size_t c : children_[i])
      if (--indegree[c] == 0) ready.push(c);
  }
  if (order_.size() == n) return ok_status();
  // A cycle: walk parents among the unsorted nodes until one repeats.
  size_t start = 0;
  while (indegree[start] == 0) ++start;
  std::vector<size_t> path;
  std::vector<long> seen_at(n, -1);
  size_t cur = start;
  while (seen_at[cur] < 0) {
    seen_at[cur] = static_cast<long>(path.size());
    path.push_back(cur);
    for (size_t p : parents_[cur])
      if (indegree[p] > 0) {
        cur = p;
        break;
      }
  }
  std::vector<size_t> cycle(path.begin() + seen_at[cur], path.end());
  std::reverse(cycle.begin(), cycle.end());
  std::string text;
  for (size_t i : cycle) text += project_.nodes[i].unique_id + " --> ";
  text += project_.nodes[cycle.front()].unique_id;
  const Node& first = project_.nodes[cycle.front()];
  return Error(ErrorCode::kConfig, "found a cycle: " + text, first.where,
               "remove one of the ref() calls so the models no longer depend on each other");
}

}  // namespace strata::transform

#include "orchestrate/build_expansion.h"

#include <algorithm>
#include <map>
#include <set>

namespace strata::orchestrate {

namespace {

using transform::Graph;
using transform::LoadedProject;
using transform::ResourceType;

bool is_unexpanded_build(const TaskSpec& t) { return t.kind == TaskKind::kBuild && t.dbt_node.empty(); }

bool is_built_node(const transform::Node& n) {
  return (n.resource_type == ResourceType::kModel || n.resource_type == ResourceType::kSeed ||
          n.resource_type == ResourceType::kSnapshot) &&
         n.materialized() != "ephemeral";
}

// What the expansion of one build task produced.
struct Expansion {
  std::vector<size_t> members;  // new task indexes
  std::vector<size_t> leaves;
};

struct Expander {
  const PipelineSpec& spec;
  const LoadedProject& project;
  const Graph& graph;
  std::vector<TaskSpec> tasks;                      // the new task list (upstream filled in wire())
  std::vector<std::set<size_t>> upstream;           // new index -> upstream new indexes
  std::map<size_t, size_t> kept;                    // old index -> new index (tasks not expanded)
  std::map<size_t, Expansion> expanded;             // old index -> its expansion
  std::map<size_t, size_t> node_task, final_task;   // graph index -> new task index
  std::map<size_t, size_t> owner_build;             // new task index -> old build index
  std::map<size_t, std::vector<size_t>> test_waits; // test task -> graph nodes it also waits for
  std::set<size_t> selected_tests;                  // graph indexes of tests picked by any build selector

  size_t add(TaskSpec t, std::optional<size_t> build) {
    tasks.push_back(std::move(t));
    upstream.emplace_back();
    if (build) owner_build[tasks.size() - 1] = *build;
    return tasks.size() - 1;
  }

  // Parents of graph node i that have tasks, looking through ephemeral models.
  std::vector<size_t> task_parents(size_t i) const {
    std::vector<size_t> out, frontier(graph.parents(i).begin(), graph.parents(i).end());
    std::set<size_t> seen;
    while (!frontier.empty()) {
      size_t p = frontier.back();
      frontier.pop_back();
      if (!seen.insert(p).second) continue;
      if (node_task.count(p)) out.push_back(p);
      else if (graph.node(p).materialized() == "ephemeral")
        frontier.insert(frontier.end(), graph.parents(p).begin(), graph.parents(p).end());
    }
    return out;
  }

  Status expand(size_t old) {
    const TaskSpec& build = spec.tasks[old];
    auto selected = project.select(build.command, {}, true);
    if (!selected.ok())
      return Error(ErrorCode::kConfig, "bad build selector '" + build.command + "': " + selected.error().message(),
                   build.where, "use dbt's selector syntax, e.g. build: \"path:models/silver\" or \"tag:daily+\"");
    std::vector<size_t> nodes, tests;
    for (size_t i : *selected) {
      if (is_built_node(graph.node(i))) nodes.push_back(i);
      else if (graph.node(i).is_test()) tests.push_back(i);
    }
    if (nodes.empty()) {
      kept[old] = add(build, std::nullopt);
      return ok_status();
    }
    const std::string group = build.group.empty() ? build.id : build.group;
    Expansion& exp = expanded[old];
    for (size_t i : nodes) {
      const auto& n = graph.node(i);
      if (node_task.count(i))
        return Error(ErrorCode::kConfig,
                     "dbt node " + n.unique_id + " is selected by build task '" + build.id + "' and by '" +
                         spec.tasks[owner_build[node_task[i]]].id + "'",
                     build.where, "narrow one selector, e.g. with --exclude syntax: \"path:models/gold\"");
      TaskSpec t = build;
      if (!build.outlets.empty()) t.outlets_build = build.id;
      t.id = std::string(transform::resource_type_name(n.resource_type)) + "." + n.name;
      t.command = t.dbt_node = n.unique_id;
      t.group = group;
      t.depends_on.clear();
      t.upstream.clear();
      node_task[i] = final_task[i] = add(std::move(t), old);
      exp.members.push_back(node_task[i]);
    }
    selected_tests.insert(tests.begin(), tests.end());
    return ok_status();
  }

  // Gives every selected test to the build task of its last parent (in the dbt graph's topological
  // order) among the nodes built by the pipeline: a relationships test from a gold model to a silver
  // one runs after the gold model, whichever build task's selector picked it.
  void add_tests() {
    std::vector<size_t> position(graph.size(), 0);
    const auto& order = graph.topological_order();
    for (size_t k = 0; k < order.size(); ++k) position[order[k]] = k;
    std::map<size_t, std::vector<size_t>> tests_of;  // owner node -> its tests
    for (size_t test : selected_tests) {
      std::optional<size_t> owner;
      for (size_t p : graph.parents(test))
        if (node_task.count(p) && (!owner || position[p] > position[*owner])) owner = p;
      if (owner) tests_of[*owner].push_back(test);
    }
    for (auto& [owner, list] : tests_of) {
      const size_t old = owner_build[node_task[owner]];
      const TaskSpec& node = tasks[node_task[owner]];
      TaskSpec t = node;
      t.id = node.id + ".test";
      t.kind = TaskKind::kTest;
      t.trigger_rule = TriggerRule::kAllSuccess;
      for (size_t test : list) t.dbt_tests.push_back(graph.node(test).unique_id);
      size_t index = add(std::move(t), old);
      upstream[index].insert(node_task[owner]);
      for (size_t test : list)
        for (size_t p : graph.parents(test))
          if (p != owner) test_waits[index].push_back(p);
      final_task[owner] = index;
      expanded[old].members.push_back(index);
    }
  }

  // Upstream of a task written in the file, in new indexes.
  std::set<size_t> remap(const std::vector<size_t>& old_upstream) const {
    std::set<size_t> out;
    for (size_t up : old_upstream) {
      if (auto it = kept.find(up); it != kept.end()) out.insert(it->second);
      else if (auto e = expanded.find(up); e != expanded.end()) out.insert(e->second.leaves.begin(), e->second.leaves.end());
    }
    return out;
  }

  void wire() {
    // dbt edges first, so each expansion's leaves are known before file dependencies are remapped.
    for (const auto& [i, index] : node_task)
      for (size_t p : task_parents(i)) upstream[index].insert(final_task[p]);
    for (const auto& [index, nodes] : test_waits)
      for (size_t p : nodes)
        if (node_task.count(p)) upstream[index].insert(node_task[p]);
    for (auto& [old, exp] : expanded) {
      std::set<size_t> members(exp.members.begin(), exp.members.end()), has_child;
      for (size_t m : exp.members)
        for (size_t up : upstream[m])
          if (members.count(up)) has_child.insert(up);
      for (size_t m : exp.members)
        if (!has_child.count(m)) exp.leaves.push_back(m);
    }
    for (auto& [old, exp] : expanded) {
      std::set<size_t> members(exp.members.begin(), exp.members.end());
      const std::set<size_t> from_file = remap(spec.tasks[old].upstream);
      for (size_t m : exp.members) {
        const bool root = std::none_of(upstream[m].begin(), upstream[m].end(),
                                       [&](size_t up) { return members.count(up) > 0; });
        if (!root) {
          tasks[m].trigger_rule = TriggerRule::kAllSuccess;
          continue;
        }
        upstream[m].insert(from_file.begin(), from_file.end());
      }
    }
    for (const auto& [old, index] : kept) {
      const std::set<size_t> from_file = remap(spec.tasks[old].upstream);
      upstream[index].insert(from_file.begin(), from_file.end());
    }
  }

  // Orders the new tasks topologically (stable: creation order among ready ones).
  Status sort() {
    const size_t n = tasks.size();
    std::vector<size_t> missing(n, 0);
    std::vector<std::vector<size_t>> children(n);
    for (size_t i = 0; i < n; ++i) {
      missing[i] = upstream[i].size();
      for (size_t up : upstream[i]) children[up].push_back(i);
    }
    std::set<size_t> ready;
    for (size_t i = 0; i < n; ++i)
      if (missing[i] == 0) ready.insert(i);
    std::vector<size_t> order;
    while (!ready.empty()) {
      size_t i = *ready.begin();
      ready.erase(ready.begin());
      order.push_back(i);
      for (size_t c : children[i])
        if (--missing[c] == 0) ready.insert(c);
    }
    if (order.size() != n) {
      std::string stuck;
      for (size_t i = 0; i < n && stuck.size() < 200; ++i)
        if (missing[i] > 0) stuck += (stuck.empty() ? "" : ", ") + tasks[i].id;
      SourceLocation where = spec.tasks.empty() ? SourceLocation{} : spec.tasks.front().where;
      for (const auto& [old, exp] : expanded) where = spec.tasks[old].where;
      return Error(ErrorCode::kConfig,
                   "the pipeline's depends_on and the dbt graph form a cycle among: " + stuck, where,
                   "a build task must not depend on a build task whose models depend on its own models");
    }
    std::vector<size_t> new_index(n);
    for (size_t pos = 0; pos < n; ++pos) new_index[order[pos]] = pos;
    std::vector<TaskSpec> sorted;
    sorted.reserve(n);
    for (size_t pos = 0; pos < n; ++pos) {
      TaskSpec t = std::move(tasks[order[pos]]);
      const auto& ups = upstream[order[pos]];
      t.upstream.clear();
      for (size_t up : ups) t.upstream.push_back(new_index[up]);
      std::sort(t.upstream.begin(), t.upstream.end());
      sorted.push_back(std::move(t));
    }
    for (auto& t : sorted) {
      t.depends_on.clear();
      for (size_t up : t.upstream) t.depends_on.push_back(sorted[up].id);
    }
    tasks = std::move(sorted);
    return ok_status();
  }
};

}  // namespace

bool has_unexpanded_builds(const PipelineSpec& spec) {
  return std::any_of(spec.tasks.begin(), spec.tasks.end(), is_unexpanded_build);
}

Status expand_builds(PipelineSpec& spec, const LoadedProject& project) {
  if (!has_unexpanded_builds(spec)) return ok_status();
  Expander x{spec, project, project.graph(), {}, {}, {}, {}, {}, {}, {}, {}, {}};
  for (size_t old = 0; old < spec.tasks.size(); ++old) {
    if (is_unexpanded_build(spec.tasks[old])) {
      STRATA_TRY(x.expand(old));
    } else {
      x.kept[old] = x.add(spec.tasks[old], std::nullopt);
    }
  }
  x.add_tests();
  std::map<std::string, size_t> ids;
  for (size_t i = 0; i < x.tasks.size(); ++i) {
    auto [it, fresh] = ids.emplace(x.tasks[i].id, i);
    if (!fresh)
      return Error(ErrorCode::kConfig, "task id '" + x.tasks[i].id + "' of an expanded build clashes with another task",
                   x.tasks[i].where, "rename the task; build tasks create ids <type>.<name> and <type>.<name>.test");
  }
  x.wire();
  STRATA_TRY(x.sort());
  spec.tasks = std::move(x.tasks);
  return ok_status();
}

}  // namespace strata::orchestrate

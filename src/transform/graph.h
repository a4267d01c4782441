#pragma once
// The project graph: nodes with edges from ref()/source() (and depends_on comments), checked for
// missing targets and cycles; parents/children adjacency and a topological order. Every algorithm
// is linear in nodes + edges. Immutable after build(); safe to read from many threads.

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "transform/parser.h"

namespace strata::transform {

class Graph {
 public:
  // Resolves every node's refs and sources into `depends_on` (unique ids) and builds the edges.
  // Generic tests of nodes that do not exist are dropped with a warning (dbt does the same).
  // Errors (kConfig, located at the referring node): a ref or source that names no node, a ref
  // to a disabled node, a cycle (the message lists it: a -> b -> a).
  static Result<Graph> build(ParsedProject project);

  const ParsedProject& project() const { return project_; }
  ParsedProject& mutable_project() { return project_; }
  size_t size() const { return project_.nodes.size(); }
  const Node& node(size_t i) const { return project_.nodes[i]; }
  Node& mutable_node(size_t i) { return project_.nodes[i]; }
  std::optional<size_t> find(const std::string& unique_id) const;
  // The node a ref resolves to (model, seed, snapshot, analysis), nullopt when none. `ref.package`
  // set: that package only. Else, as dbt: the root project first, then `from_package` (the
  // referring node's package), then any installed package.
  std::optional<size_t> resolve_ref(const RefCall& ref, const std::string& from_package) const;
  std::optional<size_t> resolve_source(const SourceCall& source) const;
  const std::vector<size_t>& parents(size_t i) const { return parents_[i]; }
  const std::vector<size_t>& children(size_t i) const { return children_[i]; }
  // Nodes ordered so that every node comes after its parents (stable: ties in unique_id order).
  const std::vector<size_t>& topological_order() const { return order_; }

  // After a parse-time render merged configs of its own into nodes: re-derives each node's tags
  // and meta from its config, moves the nodes now disabled (enabled=false), with the tests of
  // them or that ref them, to the project's disabled list (a warning per test), and links the
  // edges again (`refs_changed`: the render found other refs). Node indexes change when any is
  // disabled. Same errors as build() (e.g. a ref to a node now disabled).
  Status apply_rendered_configs(bool refs_changed);

  // Re-resolves node i's refs/sources after they changed (e.g. found by a Jinja render) and
  // rebuilds the edges. Same errors as build().
  Status refresh_edges();

 private:
  // Removes the nodes marked in `drop` (keeping the others' order), moving those marked in
  // `disable` to project_.disabled, then rebuilds the edges.
  Status remove_nodes(const std::vector<bool>& drop, const std::vector<bool>& disable);
  // Marks, with a warning, the tests attached to a node that is not in the id index, and those that
  // ref a disabled node (one in project_.disabled, or marked in `disabling`).
  bool drop_orphan_tests(std::vector<bool>& drop, const std::vector<bool>& disabling);
  // Rebuilds the id, ref-name and source indexes from project_.nodes.
  void index();
  Status link();
  // Resolves node i's refs and sources into parents_[i] and its depends_on. Safe to run for many
  // nodes at once (each writes only its own slots).
  Status link_node(size_t i);
  Status sort();

  ParsedProject project_;
  std::unordered_map<std::string, size_t> by_id_;
  std::unordered_map<std::string, std::vector<size_t>> by_ref_name_;
  std::unordered_map<std::string, size_t> by_source_;
  std::vector<std::vector<size_t>> parents_;
  std::vector<std::vector<size_t>> children_;
  std::vector<size_t> order_;
};

}  // namespace strata::transform

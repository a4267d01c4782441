#pragma once
// Node selection with dbt's syntax: `model`, `+model`, `model+`, `2+model`, `model+3`, `@model`,
// methods `tag:`, `path:`, `file:`, `fqn:`, `config.X:`, `resource_type:`, `source:`,
// `test_type:`, `test_name:`, `package:`, `state:` and `result:` (with --state, see
// previous_state.h), wildcards (* ? [..]); union by space, intersection by
// comma; `--exclude`; named selectors from selectors.yml. Tests are selected indirectly, as dbt's
// --indirect-selection says (IndirectSelection). Linear in graph size per selector term.
// Pure functions over an immutable Graph; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "transform/graph.h"
#include "transform/previous_state.h"

namespace strata::transform {

// dbt's --indirect-selection: which tests of the selected nodes are selected with them.
enum class IndirectSelection : std::uint8_t {
  kEager,      // a test of any selected node (dbt's default)
  kCautious,   // a test whose every parent is selected
  kBuildable,  // a test whose every parent is selected or an ancestor of a selected node
  kEmpty,      // none: only the tests selected themselves
};
// "eager", "cautious", "buildable" or "empty"; nullopt for anything else.
std::optional<IndirectSelection> parse_indirect_selection(std::string_view name);

struct SelectionRequest {
  std::vector<std::string> select;    // each item may hold several space-separated terms
  std::vector<std::string> exclude;
  std::string selector;               // a selector name from selectors.yml; "" for none
  std::vector<ResourceType> resource_types;  // keep only these; empty = all
  IndirectSelection indirect = IndirectSelection::kEager;
  const PreviousState* state = nullptr;  // --state: what `state:` and `result:` compare with
  // With a state: the current target folder, whose sources.json source_status: compares with the
  // state's.
  std::string target_dir;
};

// The selected nodes in topological order. With no select and no selector, every node (or the
// selector marked `default: true`). Errors (kUsage): unknown method, malformed term, unknown
// selector name.
Result<std::vector<size_t>> select_nodes(const Graph& graph, const SelectionRequest& request);

// One term or a space-separated union of terms, without indirect test selection: a mask over
// graph nodes.
Result<std::vector<bool>> evaluate_selection(const Graph& graph, const std::string& spec);

// Shell-style wildcard match (*, ?, [abc]) of a whole string.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace strata::transform

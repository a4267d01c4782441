#pragma once
// dbt's "state": the artifacts of an earlier invocation (its target folder, given by --state or
// DBT_STATE), what slim CI is built on:
// - the `state:` selection method compares the project with that manifest.json (state:new,
//   state:modified and its sub-selectors, state:old, state:unmodified);
// - the `result:` method selects by the statuses in its run_results.json (result:error …);
// - the `source_status:` method compares its sources.json with the current target's (written by
//   `strata source freshness` since): source_status:fresher selects the sources loaded since;
// - --defer makes ref() of a node that is not selected, and not built in the current target,
//   point at that manifest's relation (--favor-state: even when it is built).
// Comparison follows dbt: a node is modified when its file's checksum, its configs, its configured
// database/schema/alias, its persisted descriptions, a macro it calls (transitively) or its contract
// changed; target-derived names do not count, so a prod manifest compares cleanly with a dev build.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "transform/graph.h"
#include "warehouse/warehouse.h"

namespace strata::transform {

// A sources.json: each checked source's max_loaded_at (in micros since the epoch), or nullopt for
// a check that failed (status "runtime error") or a value that is not a timestamp.
using FreshnessResults = std::map<std::string, std::optional<int64_t>>;

// Reads `path` (a sources.json) when it exists; nullopt when it does not. Errors: kConfig when it
// is not JSON.
Result<std::optional<FreshnessResults>> load_freshness(const std::string& path);

// The artifacts of an earlier invocation. Immutable after load(); thread-safe to read.
class PreviousState {
 public:
  // Reads <dir>/manifest.json (required), <dir>/run_results.json and <dir>/sources.json
  // (optional). Errors: kUsage
  // when the folder has no manifest.json (what to pass instead), kConfig when a file is not JSON.
  static Result<PreviousState> load(const std::string& dir);

  const std::string& dir() const { return dir_; }
  // The node, source or unit test of that unique id in the manifest; nullptr when absent.
  const Json* node(const std::string& unique_id) const;
  // The macro of that unique id in the manifest; nullptr when absent.
  const Json* macro(const std::string& unique_id) const;
  bool has_run_results() const { return has_run_results_; }
  // The node's status in run_results.json ("success", "error", "fail" …); "" when it has none.
  std::string result_status(const std::string& unique_id) const;
  // Its sources.json; nullopt when it had none.
  const std::optional<FreshnessResults>& freshness() const { return freshness_; }

 private:
  std::string dir_;
  std::optional<FreshnessResults> freshness_;
  Json manifest_;
  bool has_run_results_ = false;
  std::unordered_map<std::string, std::string> statuses_;
};

// The `state:` and `result:` methods over one graph and one state: set up once per selection (it
// finds the macros whose text changed, and the macros calling them). Borrows both; thread-safe to
// read.
class StateComparison {
 public:
  // current_freshness: the current target's sources.json (nullopt when it has none).
  StateComparison(const Graph& graph, const PreviousState& state,
                  std::optional<FreshnessResults> current_freshness = std::nullopt);
  // `state:<value>` for node i: new, old, modified, unmodified, modified.body, modified.configs,
  // modified.relation, modified.persisted_descriptions, modified.macros, modified.contract.
  // Errors (kUsage): another value, naming the valid ones.
  Result<bool> state_matches(size_t i, const std::string& value) const;
  // `result:<status>` for node i: its status in the state's run_results.json equals `status`.
  // Errors (kUsage): the state has no run_results.json.
  Result<bool> result_matches(size_t i, const std::string& status) const;
  // `source_status:fresher` for node i, as dbt: a source whose check in the current sources.json
  // found a later max_loaded_at than the state's, or that the state did not check; neither check
  // may have failed. Errors (kUsage): another value; either sources.json missing (what to run).
  Result<bool> source_status_matches(size_t i, const std::string& value) const;

 private:
  // Whether one aspect of node i differs between `now` (its manifest JSON) and `before` (the state's).
  bool modified(size_t i, const std::string& aspect, const Json& now, const Json& before) const;
  const Graph& graph_;
  const PreviousState& state_;
  std::optional<FreshnessResults> current_freshness_;
  std::set<std::string> changed_macros_;  // changed or new, or calling one that is
};

// A node --defer pointed at the state's relation, with the relation it had before.
struct Deferral {
  size_t node = 0;
  std::string database, schema, alias, relation_name;
};

// --defer: every node that is not selected and has a relation in `state`'s manifest (models,
// seeds, snapshots; not ephemeral models) is pointed at that relation, when `favor_state` or when
// its own relation does not exist in `wh` (listed once per schema). Returns what it changed, for
// restore_relations(). Errors: the warehouse's, listing a schema.
Result<std::vector<Deferral>> defer_to_state(Graph& graph, const std::vector<size_t>& selected,
                                             const PreviousState& state, warehouse::Warehouse& wh, bool favor_state);

// Puts back the relations defer_to_state() changed (the manifest written afterwards describes the
// project in its own target, as dbt's does).
void restore_relations(Graph& graph, const std::vector<Deferral>& deferred);

}  // namespace strata::transform

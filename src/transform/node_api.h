#pragma once
// A small public entry point for callers that run a dbt project node by node (the orchestrator's
// build, test and freshness tasks): load and compile the project once, select nodes with dbt's
// syntax, then run single nodes, the tests of a node, or source freshness checks — each against
// a Database the caller owns (so one DuckDB file can be shared with other work in the process).
//
// Thread-safety: after load(), every const method and run()/freshness() may be called from many
// threads at once (each call opens its own warehouse sessions; the compiler is thread-safe).

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "common/env.h"
#include "common/log.h"
#include "common/result.h"
#include "transform/compiler.h"
#include "transform/graph.h"
#include "transform/runner.h"
#include "warehouse/profile.h"
#include "warehouse/warehouse.h"

namespace strata::transform {

struct ProjectLoadOptions {
  std::string project_dir = ".";
  std::string profiles_dir;     // "" → dbt's search order
  std::string target;           // "" → the profile's default
  Json vars = Json::object();   // as --vars: what `var('x')` sees
  EnvLookup env;                // empty → the process environment
  Logger logger;
};

// The outcome of one source freshness check.
struct FreshnessResult {
  std::string unique_id;        // "source.pkg.src.table"
  std::string status;           // pass | warn | error | runtime error
  std::string max_loaded_at;    // as the warehouse printed it; "" when unknown
  double age_seconds = 0;
  std::string message;          // the error, for runtime errors
};

class LoadedProject {
 public:
  // Loads dbt_project.yml, the profile's target, parses, renders what the static scan could not
  // read, builds the graph and resolves relations. Errors: those of the project files (kConfig,
  // located), kNotFound when there is no dbt_project.yml or profiles.yml.
  static Result<std::unique_ptr<LoadedProject>> load(const ProjectLoadOptions& options);
  ~LoadedProject();
  LoadedProject(const LoadedProject&) = delete;
  LoadedProject& operator=(const LoadedProject&) = delete;

  const Graph& graph() const { return graph_; }
  const warehouse::TargetConfig& target() const { return target_; }
  // The absolute path of the project's target/ folder.
  const std::string& target_dir() const { return target_dir_; }

  // The nodes a dbt selector (space-separated union, comma intersection) picks, in topological
  // order, restricted to `types` when not empty; tests are added for selected nodes when
  // `indirect_tests`. Errors: kUsage for a malformed selector.
  Result<std::vector<size_t>> select(const std::string& selector, const std::vector<ResourceType>& types = {},
                                     bool indirect_tests = true) const;

  // The unique ids of the tests that test node i (its test children), in graph order.
  std::vector<size_t> tests_of(size_t i) const;

  // Runs nodes (graph indexes in topological order) as `command` on `database`, writing dbt's
  // per-node lines to `out` and compiled/run SQL under target/. Node failures are in the summary.
  Result<RunSummary> run(const std::vector<size_t>& nodes, RunCommand command, warehouse::Database& database,
                         std::ostream& out) const;

  // Checks the freshness of the selected sources that configure `freshness` and
  // `loaded_at_field`, at time `now_micros`. Sources without them are left out.
  // Errors: the warehouse cannot be reached (kConnection).
  Result<std::vector<FreshnessResult>> freshness(const std::vector<size_t>& sources, warehouse::Database& database,
                                                 int64_t now_micros) const;

 private:
  LoadedProject() = default;
  Graph graph_;
  std::unique_ptr<Compiler> compiler_;
  warehouse::TargetConfig target_;
  std::string target_dir_;
  std::string run_started_at_;
};

}  // namespace strata::transform

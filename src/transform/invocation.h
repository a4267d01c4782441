#pragma once
// One dbt-style invocation (`strata build|run|test|seed|snapshot|compile|ls|parse|docs generate|
// source freshness|clean|deps`): loads the project and profile, parses, selects, runs, writes the
// artifacts and prints what dbt prints. Used by the CLI and by the orchestrator's build tasks.
// Not thread-safe; one invocation at a time per object.

#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/env.h"
#include "common/log.h"
#include "common/result.h"
#include "transform/artifacts.h"

namespace strata::transform {

struct InvocationOptions {
  std::string command;            // build, run, test, seed, snapshot, compile, ls, parse, docs, freshness, clean, run-operation, show, deps, retry
  std::string project_dir = ".";
  std::string profiles_dir;
  std::string target_path;        // --target-path: the artifacts' folder ("": DBT_TARGET_PATH, else the project's)
  std::string target;
  std::string vars;               // --vars YAML/JSON text
  std::vector<std::string> select;
  std::vector<std::string> exclude;
  std::string selector;
  std::string indirect_selection;           // --indirect-selection: eager, cautious, buildable, empty ("": DBT_INDIRECT_SELECTION, else eager)
  std::vector<std::string> resource_types;  // ls --resource-type
  std::string output = "selector";          // ls --output: selector|name|path|json
  std::vector<std::string> output_keys;     // ls --output-keys (json): manifest keys to print
  std::string inline_sql;                   // compile --inline, show --inline
  int limit = 5;                            // show --limit: rows to preview; negative → all
  std::string operation;                    // run-operation: the macro's name
  std::string operation_args;               // run-operation --args: YAML/JSON mapping of keyword arguments
  int threads = 0;                          // 0 → the profile's
  bool full_refresh = false;
  bool fail_fast = false;
  bool store_failures = false;              // --store-failures
  bool warn_error = false;                  // --warn-error
  bool empty = false;                       // --empty (run, build): ref() and source() read no rows
  std::string event_time_start, event_time_end;  // run, build: the batches of microbatch models (see RunOptions)
  // dbt's state (see previous_state.h): --state DIR for the `state:`/`result:` methods and --defer;
  // --defer-state DIR to defer to other artifacts; --favor-state. Unset, they come from DBT_STATE,
  // DBT_DEFER, DBT_DEFER_STATE and DBT_FAVOR_STATE, as in dbt.
  std::string state_dir;
  std::string defer_state_dir;
  bool defer = false;
  bool favor_state = false;
  // Set by `retry` for the command it repeats: of the nodes selected, only these (unique ids) run;
  // microbatch models with failed batches build only those (see RunOptions::retry_batches).
  std::optional<std::vector<std::string>> only_unique_ids;
  std::map<std::string, BatchResults> retry_batches;
  // docs generate: compile the selected nodes first, so manifest.json has their compiled code, as
  // dbt does (--no-compile: not); --empty-catalog: write catalog.json without asking the warehouse.
  bool compile_docs = true;
  bool empty_catalog = false;
  // docs generate: called with the target folder once manifest.json and catalog.json are written
  // (the CLI writes the documentation site there); its error fails the invocation.
  std::function<Status(const std::string& target_dir)> docs_site;
  EnvLookup env;
  Logger logger;
  std::string version = "0.1.0";
};

// Runs the invocation. Returns the exit code for the outcome of the run (0 ok, 1 a node failed);
// an Error for bad usage/configuration (exit 2) or an unreachable database (exit 3).
// `retry` (dbt retry) repeats the command of target/run_results.json with its flags (--target,
// --vars and --threads given to retry win), running only the nodes that errored, failed, were
// skipped or partly succeeded (a microbatch model then builds only the batches that failed,
// from its batch_results); with none it prints dbt's "Nothing to do" and returns 0. Errors (kUsage): no previous
// run, or one retry does not repeat (ls, show, docs, run-operation…).
Result<int> run_invocation(const InvocationOptions& options, std::ostream& out);

}  // namespace strata::transform

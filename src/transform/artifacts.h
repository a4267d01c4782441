#pragma once
// dbt's artifact files in the target folder: manifest.json (schema v12), run_results.json (v5),
// sources.json (v3), catalog.json (v1). Writers build JSON from the graph and run results and
// write atomically. Pure functions except the write_* calls (filesystem).

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "transform/graph.h"

namespace strata::transform {

// The dbt-core version Strata's artifacts and the `dbt_version` template variable give (the
// manifest and run-results schemas it writes are this version's).
inline constexpr const char* kDbtVersion = "1.9.0";

// Identifies one invocation in every artifact's metadata.
struct InvocationInfo {
  std::string invocation_id;
  std::string generated_at;      // ISO 8601
  std::string command = "build";
  std::string adapter_type = "duckdb";
  std::string strata_version = "0.1.0";
};

// The manifest.json document: nodes, sources, macros, docs, parent_map, child_map, metadata...
// `compiled` maps node index → compiled SQL for nodes compiled in this invocation (may be empty).
Json manifest_json(const Graph& graph, const InvocationInfo& info,
                   const std::vector<std::string>& compiled = {});

// dbt's checksum of node i, as manifest.json's `checksum` holds it: the sha256 of its text (a
// seed's: of its CSV file; over 1 MiB, its path instead, named "path"). Reads a seed's file.
Json node_checksum(const Graph& graph, size_t i);

// One node (or source) as manifest.json shows it, not compiled; `dbt ls --output json` prints these.
Json manifest_node_json(const Graph& graph, size_t index);

// A microbatch model's batches in one run (run_results.json's `batch_results`, dbt 1.9): each
// batch's window [start, end) as two ISO 8601 UTC timestamps ("2024-01-31T00:00:00Z").
struct BatchResults {
  using Window = std::pair<std::string, std::string>;
  std::vector<Window> successful, failed;
};

// `{"successful": [[start, end], …], "failed": […]}`, as dbt writes batch_results.
Json batch_results_json(const BatchResults& batches);
// Reads batch_results back (what `retry` needs); windows that are not two strings are left out.
BatchResults batch_results_from_json(const Json& doc);

// The outcome of one node in a run (run_results.json "results" item).
struct NodeResult {
  std::string unique_id;
  std::string status;           // success|error|skipped|pass|fail|warn|runtime error|partial success
  std::string message;
  double execution_time = 0;    // seconds
  std::string started_at, completed_at;           // ISO 8601
  std::string compile_started_at, compile_completed_at;
  long long failures = -1;      // tests: failing rows; -1 → null
  long long rows_affected = -1; // -1 → unknown
  std::string compiled_code;
  std::string relation_name;
  std::string code;             // adapter_response._message ("OK", "CREATE VIEW"...)
  std::optional<BatchResults> batch_results;  // microbatch models only; nullopt → null
};

// run_results.json. `args`: the invocation's flags as dbt writes them (`which`, `select`,
// `full_refresh`, `vars`…; what `retry` repeats), an object.
Json run_results_json(const InvocationInfo& info, const std::vector<NodeResult>& results, double elapsed_seconds,
                      const Json& args);

// Writes `doc` to <target_dir>/<name> atomically, creating the folder. kFailed on I/O errors.
Status write_artifact(const std::string& target_dir, const std::string& name, const Json& doc);

// Adds `key: value` to a JSON object without looking for the key first: ordered_json finds keys
// by a linear scan, so filling a 100,000-entry map with operator[] is quadratic. The caller
// guarantees that `key` is not in `object` yet (e.g. the unique ids of enabled nodes).
void append_member(Json& object, std::string key, Json value);
// An empty JSON object with room for `members` members. Growing an ordered_json object copies
// every member (its keys are const, so they cannot be moved), values included.
Json object_with_capacity(size_t members);

}  // namespace strata::transform

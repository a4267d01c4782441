#pragma once
// Executes selected nodes against a warehouse: a DAG scheduler over N threads (one warehouse
// session per thread), materializations written in C++ through the dialect (view, table,
// incremental, ephemeral), seeds, snapshots, data tests, hooks; per-node lines with timing, a
// PASS/WARN/ERROR/SKIP/TOTAL summary, compiled and run SQL under target/. An error in a node
// skips its descendants only; in `build`, a failing test skips the children of the node it tests.
// A microbatch model with failed and committed batches is a partial success: its descendants are
// skipped as for an error, and the run fails.
// run() is called from one thread; it owns its worker threads and joins them before returning.

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/result.h"
#include "transform/artifacts.h"
#include "transform/compiler.h"
#include "warehouse/warehouse.h"

namespace strata::transform {

enum class RunCommand { kBuild, kRun, kTest, kSeed, kSnapshot, kCompile };

struct RunOptions {
  RunCommand command = RunCommand::kBuild;
  int threads = 1;
  bool full_refresh = false;
  bool fail_fast = false;
  bool store_failures = false;  // --store-failures: tests without their own store_failures config store them
  bool warn_error = false;      // --warn-error: a test that warns fails
  std::string target_dir;       // absolute path of target/; "" → no compiled/run files
  std::string run_started_at;   // ISO 8601, for snapshots and microbatch models' batches
  // --event-time-start / --event-time-end (ISO 8601, UTC): the batches microbatch models build;
  // empty → from `begin` (a first run) or `lookback` batches back, to the current batch.
  std::string event_time_start, event_time_end;
  // `retry` of microbatch models: by unique id, the batches of the run retried. Such a model runs
  // only its failed batches (into the table as it stands unless none had succeeded, so
  // --full-refresh cannot drop the committed ones), and reports the successful ones as its own.
  std::map<std::string, BatchResults> retry_batches;
};

// Whether a test writes its failing rows to a table in its schema (its store_failures config,
// else options.store_failures, as dbt): who runs tests concurrently creates that schema first.
bool stores_failures(const Node& test, const RunOptions& options);

struct RunSummary {
  // partial_success: microbatch models with some batches committed and some failed (dbt 1.9).
  int pass = 0, warn = 0, error = 0, skip = 0, partial_success = 0, total = 0;
  double elapsed_seconds = 0;
  std::vector<NodeResult> results;  // in completion order
  // compiled SQL per graph node index ("" when not compiled), for the manifest.
  std::vector<std::string> compiled;
  // A partial success fails the run, as in dbt (its failed batches are still to build).
  bool failed() const { return error > 0 || partial_success > 0; }
};

// Runs `selected` (graph indexes in topological order). Per-node failures are reported in the
// summary, not as an Error. Errors: the warehouse cannot be reached (kConnection), on-run-start
// hooks fail (kFailed).
Result<RunSummary> run_nodes(const Graph& graph, Compiler& compiler, warehouse::Database& database,
                             const std::vector<size_t>& selected, const RunOptions& options, std::ostream& out);

// dbt's seed type inference for one column's values (empty = NULL), as DuckDB names the types:
// "integer", "double", "boolean", "date", "timestamp" or "varchar" (a PostgreSQL target's seeds get
// dbt-postgres' names: integer, float8, boolean, date, timestamp without time zone, text).
std::string infer_seed_type(const std::vector<std::string>& values);
// Parses CSV text (LF or CRLF, quoted fields with "" escapes); first row = header.
// Errors (kConfig, located at file:line) for unterminated quotes and ragged rows.
Result<std::vector<std::vector<std::string>>> parse_csv(std::string_view text, const std::string& file,
                                                         char delimiter = ',');

}  // namespace strata::transform

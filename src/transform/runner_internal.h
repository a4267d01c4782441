#pragma once
// Internal to the runner: what one node's execution sees. Not a public API.

#include <string>

#include "transform/compiler.h"
#include "transform/graph.h"
#include "transform/runner.h"
#include "warehouse/warehouse.h"

namespace strata::transform::detail {

struct NodeContext {
  const Graph& graph;
  Compiler& compiler;
  warehouse::Warehouse& wh;
  const Node& node;
  size_t index;
  const RunOptions& options;
  std::string compiled;       // the node's compiled SQL (filled by the runner before materializing)
  std::string run_sql;        // every statement run, for target/run/
  long long rows_affected = -1;
  long long failures = -1;    // tests
  std::string test_status;    // tests: pass|warn|fail

  Status execute(const std::string& sql) {
    run_sql += sql + ";\n\n";
    return wh.execute(sql);
  }
};

// Materializations; each returns the adapter message ("CREATE VIEW", "INSERT 5"...).
Result<std::string> materialize_view(NodeContext& ctx);
Result<std::string> materialize_table(NodeContext& ctx);
Result<std::string> materialize_incremental(NodeContext& ctx);
Result<std::string> materialize_snapshot(NodeContext& ctx);
Result<std::string> run_test(NodeContext& ctx);
Result<std::string> load_seed(NodeContext& ctx);

// True when the relation exists; `is_view` tells which kind.
Result<bool> relation_exists(NodeContext& ctx, bool& is_view);

}  // namespace strata::transform::detail

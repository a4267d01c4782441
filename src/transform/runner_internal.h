#pragma once
// Internal to the runner: what one node's execution sees. Not a public API.

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "transform/adapter_sql.h"
#include "transform/compiler.h"
#include "transform/graph.h"
#include "transform/runner.h"
#include "warehouse/warehouse.h"

namespace strata::transform::detail {

// The relations of the schemas a run touches, listed once per schema (one catalog query) and kept
// up to date by the materializations, so no node lists its schema again. Thread-safe.
class RelationCache {
 public:
  // The kind of schema.name, nullopt when it does not exist. Lists the schema on first use.
  Result<std::optional<warehouse::RelationKind>> find(warehouse::Warehouse& wh, const std::string& schema,
                                                      const std::string& name);
  void put(const std::string& schema, const std::string& name, warehouse::RelationKind kind);
  void erase(const std::string& schema, const std::string& name);

 private:
  std::mutex mu_;
  std::set<std::string> listed_;
  std::map<std::pair<std::string, std::string>, warehouse::RelationKind> kinds_;
};

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
  RelationCache* relations = nullptr;  // null → ask the warehouse each time
  std::string test_message;   // tests: what a failure reports instead of "Got N results" (unit tests' diff)
  // Microbatch models: the batches committed and failed (a partial success when the message is ok
  // and some failed), and the failed ones' errors, one indented line each, for the console.
  std::optional<BatchResults> batches;
  std::string batch_report;

  Status execute(const std::string& sql) {
    run_sql += sql + ";\n\n";
    return wh.execute(sql);
  }
};

// Materializations; each returns the adapter message ("CREATE VIEW", "INSERT 5"...).
Result<std::string> materialize_view(NodeContext& ctx);
Result<std::string> materialize_table(NodeContext& ctx);
Result<std::string> materialize_incremental(NodeContext& ctx);
// Whether an incremental model is rebuilt from scratch: its full_refresh config, else --full-refresh.
bool rebuilds_fully(const NodeContext& ctx);
// incremental_strategy='microbatch' (microbatch.cpp): the model built batch by batch of its
// event_time, each batch replacing its window's rows in its own transaction; a new table gets
// `table`'s configs. Sets ctx.batches; an Error when every batch failed, else a message
// ("PARTIAL SUCCESS (2/3 batches)" when some did).
Result<std::string> materialize_microbatch(NodeContext& ctx, const TableConfig& table);
Result<std::string> materialize_snapshot(NodeContext& ctx);
Result<std::string> run_test(NodeContext& ctx);
// A unit test (unit_test.cpp): sets failures (differing rows), test_status and test_message.
Result<std::string> run_unit_test(NodeContext& ctx);
Result<std::string> load_seed(NodeContext& ctx);
// dbt's seed type inference for one column's values (empty = NULL).
SeedType infer_seed_column(const std::vector<std::string>& values);

// Runs body in a transaction of the node's session: committed when it succeeds, rolled back (and
// its error returned) when it fails.
Status in_transaction(NodeContext& ctx, const std::function<Status()>& body);
// Runs the plan's statements in order (in one transaction when it is atomic).
Status run_ddl(NodeContext& ctx, const DdlPlan& plan);
// Makes the node's relation a `kind` holding `query`'s rows, whatever it was before (the
// warehouse's way: adapter_sql.h), and records it in the relation cache. A table gets `table`'s
// adapter-specific configs.
Status replace_node_relation(NodeContext& ctx, warehouse::RelationKind kind, const std::string& query,
                             const TableConfig& table = TableConfig());
// `insert into relation` the rows of `query`, matching its columns to the relation's by name.
Status insert_by_name(NodeContext& ctx, const std::string& relation, const std::string& query);

// True when the node's relation exists; `is_view` tells which kind.
Result<bool> relation_exists(NodeContext& ctx, bool& is_view);
// Records that the node's relation now exists as `kind` (or no longer exists: nullopt).
void relation_changed(NodeContext& ctx, std::optional<warehouse::RelationKind> kind);

}  // namespace strata::transform::detail

#include "cli/demo/erp_source.h"

#include <algorithm>
#include <cmath>

namespace strata::cli::demo {

Status create_erp(pg::Connection& conn, const ErpOptions& options, const StepCallback& on_step) {
  if (!(options.scale > 0)) return Error(ErrorCode::kUsage, "--scale must be greater than 0");
  for (const SqlStep& step : erp_create_script(options)) {
    const auto started = std::chrono::steady_clock::now();
    Status status = conn.execute(step.sql);
    if (!status.ok()) return std::move(status).error().context("creating the NovaDrive ERP (" + step.label + ")");
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    if (on_step) on_step(step.label, took.count());
  }
  return ok_status();
}

Result<std::map<std::string, std::int64_t>> erp_row_counts(pg::Connection& conn, const std::string& schema) {
  std::string sql;
  for (const auto& table : erp_tables()) {
    if (!sql.empty()) sql += " UNION ALL ";
    sql += "SELECT " + pg::Connection::quote_literal(table) + ", count(*) FROM " +
           pg::Connection::quote_identifier(schema) + "." + pg::Connection::quote_identifier(table);
  }
  STRATA_ASSIGN(auto result, conn.exec(sql));
  std::map<std::string, std::int64_t> counts;
  for (int row = 0; row < result.rows(); ++row)
    counts[std::string(result.value(row, 0))] = std::stoll(std::string(result.value(row, 1)));
  return counts;
}

Result<std::int64_t> run_live(pg::Connection& conn, const ErpOptions& options, const LiveOptions& live,
                              const Sleeper& sleep, const BatchCallback& on_batch) {
  if (!(live.rate > 0)) return Error(ErrorCode::kUsage, "--rate must be greater than 0 changes per second");
  STRATA_TRY(conn.execute(erp_helpers_sql()));
  std::int64_t total = 0;
  double carried = 0;
  std::int64_t tick = live.first_tick;
  while (live.max_changes == 0 || total < live.max_changes) {
    carried += live.rate;
    std::int64_t changes = static_cast<std::int64_t>(std::floor(carried));
    if (live.max_changes > 0) changes = std::min(changes, live.max_changes - total);
    if (changes > 0) {
      carried -= static_cast<double>(changes);
      Status status = conn.execute(erp_live_batch_sql(options, changes, tick++));
      if (!status.ok()) {
        (void)conn.execute("ROLLBACK");
        return std::move(status).error().context("applying live changes to the NovaDrive ERP");
      }
      total += changes;
      if (on_batch) on_batch(changes, total);
      if (live.max_changes > 0 && total >= live.max_changes) break;
    }
    if (!sleep(std::chrono::milliseconds(1000))) break;
  }
  return total;
}

}  // namespace strata::cli::demo

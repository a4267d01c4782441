#include "cli/demo/demo_summary.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/strings.h"
#include "warehouse/warehouse.h"

namespace strata::cli::demo {
namespace {

Result<std::unique_ptr<warehouse::Warehouse>> open_read_only(const std::string& path,
                                                             std::unique_ptr<warehouse::Database>& db) {
  warehouse::DuckDbOptions options;
  options.read_only = true;
  STRATA_ASSIGN(db, warehouse::open_duckdb(path, options));
  return db->connect();
}

}  // namespace

Result<LayerCounts> count_layers(const std::string& duckdb_path) {
  std::unique_ptr<warehouse::Database> db;
  STRATA_ASSIGN(auto session, open_read_only(duckdb_path, db));
  LayerCounts counts;
  for (const std::string layer : {"bronze", "silver", "gold"}) {
    STRATA_ASSIGN(auto relations, session->relations(layer));
    for (const auto& info : relations) {
      if (starts_with(info.relation.name, "_strata")) continue;
      const std::string sql = "SELECT count(*) FROM " + warehouse::qualified_name(session->dialect(), info.relation);
      STRATA_ASSIGN(auto result, session->query(sql));
      counts[layer][info.relation.name] = std::stoll(result.cell_text(0, 0));
    }
  }
  session.reset();
  return counts;
}

Result<std::string> gold_preview(const std::string& duckdb_path, int rows) {
  std::unique_ptr<warehouse::Database> db;
  STRATA_ASSIGN(auto session, open_read_only(duckdb_path, db));
  STRATA_ASSIGN(auto result,
                session->query(fmt::format("SELECT dealership_name, city_name, state_code, sales_count, revenue "
                                           "FROM gold.revenue_by_dealership ORDER BY revenue DESC, dealership_id "
                                           "LIMIT {}",
                                           rows)));
  std::string out = fmt::format("  {:<34} {:<22} {:<5} {:>7} {:>18}\n", "dealership", "city", "state", "sales",
                                "revenue (R$)");
  for (size_t r = 0; r < result.num_rows(); ++r) {
    out += fmt::format("  {:<34} {:<22} {:<5} {:>7} {:>18}\n", result.cell_text(r, 0), result.cell_text(r, 1),
                       result.cell_text(r, 2), result.cell_text(r, 3), result.cell_text(r, 4));
  }
  session.reset();
  return out;
}

}  // namespace strata::cli::demo

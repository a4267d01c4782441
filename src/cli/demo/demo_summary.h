#pragma once
// What `strata demo` prints after the pipeline ran: rows per table in the bronze, silver and gold
// schemas of the DuckDB warehouse, and a few gold rows. Opens the file read-only, so it must run
// after every stage has closed it. Thread-compatible.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"

namespace strata::cli::demo {

// layer ("bronze", "silver", "gold") -> table -> rows; Strata's own tables (_strata_*) left out.
using LayerCounts = std::map<std::string, std::map<std::string, std::int64_t>>;

// Errors: kConnection when the file cannot be opened; query errors.
Result<LayerCounts> count_layers(const std::string& duckdb_path);

// A small text table: the top dealerships by revenue with city and state, from gold.
Result<std::string> gold_preview(const std::string& duckdb_path, int rows = 5);

}  // namespace strata::cli::demo

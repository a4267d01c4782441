#pragma once
// A query's rows as text, for value-by-value assertions on any warehouse.

#include <string>
#include <vector>

#include "warehouse/warehouse.h"

namespace strata::transform::testing {

// Each row as its cells (QueryResult::cell_text) joined with '|', NULL for a null.
inline std::vector<std::string> result_rows(const warehouse::QueryResult& r) {
  std::vector<std::string> out;
  for (size_t i = 0; i < r.num_rows(); ++i) {
    std::string line;
    for (size_t c = 0; c < r.schema.size(); ++c)
      line += (c ? "|" : "") + (r.is_null(i, c) ? std::string("NULL") : r.cell_text(i, c));
    out.push_back(line);
  }
  return out;
}

}  // namespace strata::transform::testing

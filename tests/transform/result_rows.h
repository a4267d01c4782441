#pragma once
// What the project fixtures of every warehouse share: a query's rows as text, for value-by-value
// assertions, and running an invocation with its output captured.

#include <sstream>
#include <string>
#include <vector>

#include "transform/invocation.h"
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

// Runs an invocation; `output` gets what it printed and its error. The exit code (2 for an error).
inline int invoke_capturing(const InvocationOptions& options, std::string& output) {
  std::ostringstream out;
  auto r = run_invocation(options, out);
  output = out.str() + (r.ok() ? "" : r.error().to_string());
  return r.ok() ? *r : 2;
}

}  // namespace strata::transform::testing

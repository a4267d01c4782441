#pragma once
// A static scan of a node's SQL for ref(), source() and config() calls with literal arguments, as
// dbt's "static parser" does: it finds a model's dependencies and in-file configs without rendering
// Jinja. Calls inside `{% if execute %}` blocks are left out (dbt does not see them at parse
// time either; a `-- depends_on: {{ ref('x') }}` comment declares such a dependency).
// Pure function; thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "transform/node.h"

namespace strata::transform {

struct StaticScan {
  std::vector<RefCall> refs;
  std::vector<SourceCall> sources;
  Json config = Json::object();  // merged kwargs of every literal config() call
  // False when the file has Jinja the scan cannot evaluate (set/if/for blocks, macro calls, non-literal
  // arguments); the result is then a best effort and a Jinja render gives the exact answer.
  bool exact = true;
  // Non-empty when a ref/source/config call is malformed: message and 1-based line/column.
  std::string error;
  int error_line = 0;
  int error_column = 0;
};

StaticScan static_scan(std::string_view sql);

// Parses a Python/Jinja literal (string, number, True/False/None, list, tuple, dict) at text[pos];
// advances pos past it. nullopt when text[pos] does not start a literal.
std::optional<Json> parse_literal(std::string_view text, size_t& pos);

}  // namespace strata::transform

#pragma once
// Helpers shared by the built-in filters: Python number parsing, json.dumps, attribute paths,
// applying filters/tests by name, and the sequence filters' registration. Internal.

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "jinja/env_state.h"
#include "jinja/value.h"

namespace strata::jinja::detail {

class Renderer;

// Python int(s, base): surrounding whitespace, sign, underscores, 0x/0o/0b prefixes for base 0/16/8/2.
std::optional<std::int64_t> parse_python_int(std::string_view s, int base);
// Python float(s): whitespace, sign, underscores between digits, inf/nan.
std::optional<double> parse_python_float(std::string_view s);
// Python json.dumps(v, sort_keys=True[, indent]) with ensure_ascii; indent < 0 means none.
Result<std::string> python_json_dumps(const Value& v, int indent);
// Jinja's attribute getter: "a.b.0" walks items/attributes; an int indexes.
Value attribute_path(Renderer& r, const Value& item, const Value& attribute);
// Registers batch, dictsort, first, groupby, join, last, length, list, map, max, min, select...
void register_sequence_filters(EnvironmentState& state);

}  // namespace strata::jinja::detail

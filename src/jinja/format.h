#pragma once
// Python's text formatting as Jinja2 templates see it: float repr, string repr, str.format and
// %-formatting (the `format` filter). Pure functions; thread-safe. Internal to the jinja module.

#include <string>
#include <string_view>

#include "common/result.h"
#include "jinja/value.h"

namespace strata::jinja {

// repr(float): shortest round-trip digits, "1.0", "1e+20", "nan", "inf".
std::string format_float(double value);
// repr(str): quoted with ' (or " when the text has ' but no ").
std::string python_repr_string(std::string_view s);
// Python `fmt.format(*args, **kwargs)`.
Result<std::string> python_str_format(std::string_view fmt, const CallArgs& args);
// Python `fmt % args` (args: a tuple/list of positional values, a dict for %(name)s, or one value).
Result<std::string> python_percent_format(std::string_view fmt, const Value& args);
// Applies one format spec (the part after ':' in str.format) to a value.
Result<std::string> apply_format_spec(const Value& value, std::string_view spec);
// Number of Unicode code points in UTF-8 text (Python len(str)).
std::size_t utf8_length(std::string_view s);

}  // namespace strata::jinja

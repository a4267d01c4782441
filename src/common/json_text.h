#pragma once
// JSON text for output (CLI, API, stored reports): like nlohmann::json::dump, but a string that is
// not valid UTF-8 (a source's bytes, a file name) is written with U+FFFD in place of its bad bytes
// instead of throwing. Thread-safe (pure).

#include <string>

#include <nlohmann/json.hpp>

namespace strata {

// `indent` < 0: one line; else pretty-printed with that many spaces.
inline std::string json_text(const nlohmann::json& value, int indent = -1) {
  return value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace strata

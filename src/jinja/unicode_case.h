#pragma once
// Unicode case mapping for Python's str.lower/upper/title/capitalize/swapcase and Jinja2's
// `title` filter, on UTF-8 text. Code points are mapped one to one with the C library's tables
// for the C.UTF-8 locale, plus Python's multi-character mappings that matter in practice
// ('ß'.upper() == 'SS', 'İ'.lower() == 'i̇'). Bytes that are not valid UTF-8 are kept as they are.
// Thread-safe (the locale object is created once and only read).

#include <string>
#include <string_view>

namespace strata::jinja::detail {

std::string unicode_lower(std::string_view s);
std::string unicode_upper(std::string_view s);
std::string unicode_swapcase(std::string_view s);
// Python str.title(): a cased character after an uncased one is upper case, others lower case.
std::string python_title(std::string_view s);
// Python str.capitalize(): the first character upper case, the rest lower case.
std::string python_capitalize(std::string_view s);
// Jinja2's title filter: words start after '-', whitespace, '(', '{', '[' or '<'; the first
// character of each word upper case, the rest lower case.
std::string jinja_title(std::string_view s);
// Python str.islower()/isupper(): at least one cased character, none of the other case.
bool unicode_is_lower(std::string_view s);
bool unicode_is_upper(std::string_view s);

}  // namespace strata::jinja::detail

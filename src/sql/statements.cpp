#include "sql/statements.h"

#include <cctype>
#include <string>

namespace strata::sql {

namespace {

bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The end of the token starting at `i` when it is a quoted or commented span, else i + 1.
size_t skip_token(std::string_view s, size_t i) {
  const char c = s[i];
  if (c == '-' && s.substr(i, 2) == "--") {
    const size_t end = s.find('\n', i);
    return end == std::string_view::npos ? s.size() : end + 1;
  }
  if (c == '/' && s.substr(i, 2) == "/*") {
    int depth = 0;
    while (i < s.size()) {
      if (s.substr(i, 2) == "/*") ++depth, i += 2;
      else if (s.substr(i, 2) == "*/") { i += 2; if (--depth == 0) return i; }
      else ++i;
    }
    return s.size();
  }
  if (c == '\'' || c == '"') {
    const bool backslashes = c == '\'' && i > 0 && (s[i - 1] == 'E' || s[i - 1] == 'e') &&
                             (i < 2 || !is_ident_char(s[i - 2]));
    for (size_t j = i + 1; j < s.size(); ++j) {
      if (backslashes && s[j] == '\\') { ++j; continue; }
      if (s[j] == c) {
        if (j + 1 < s.size() && s[j + 1] == c) { ++j; continue; }
        return j + 1;
      }
    }
    return s.size();
  }
  if (c == '$' && (i == 0 || !is_ident_char(s[i - 1]))) {
    size_t j = i + 1;
    while (j < s.size() && is_ident_char(s[j]) && !std::isdigit(static_cast<unsigned char>(s[i + 1]))) ++j;
    if (j < s.size() && s[j] == '$') {
      const std::string_view tag = s.substr(i, j - i + 1);
      const size_t end = s.find(tag, j + 1);
      return end == std::string_view::npos ? s.size() : end + tag.size();
    }
  }
  return i + 1;
}

// True when s holds only whitespace and comments.
bool blank(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (std::isspace(static_cast<unsigned char>(s[i]))) { ++i; continue; }
    if (s.substr(i, 2) == "--" || s.substr(i, 2) == "/*") { i = skip_token(s, i); continue; }
    return false;
  }
  return true;
}

}  // namespace

std::pair<std::string_view, std::string_view> split_last_statement(std::string_view sql) {
  size_t last_end = 0;   // just past the last top-level semicolon followed by a statement
  size_t final_semicolon = std::string_view::npos;
  for (size_t i = 0; i < sql.size();) {
    if (sql[i] == ';') {
      if (!blank(sql.substr(i + 1))) {
        last_end = i + 1;
      } else {
        final_semicolon = i;
        break;
      }
      ++i;
      continue;
    }
    i = skip_token(sql, i);
  }
  std::string_view last = sql.substr(last_end, final_semicolon == std::string_view::npos
                                                   ? std::string_view::npos
                                                   : final_semicolon - last_end);
  return {sql.substr(0, last_end), last};
}

}  // namespace strata::sql

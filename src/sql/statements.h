#pragma once
// Splitting SQL text at its statements' semicolons, as PostgreSQL's and DuckDB's lexers see them:
// a semicolon inside a string ('…' with '' escapes, E'…' with backslash escapes), a quoted
// identifier ("…"), a dollar-quoted string ($tag$…$tag$) or a comment (-- …, nested /* … */)
// does not end a statement. Pure functions; thread-safe.

#include <string_view>
#include <utility>

namespace strata::sql {

// The text before the last statement (ending with its semicolon; empty when there is one
// statement) and the last statement (without a trailing semicolon; empty for empty text). Text
// after the last semicolon that is only whitespace and comments belongs to no statement.
std::pair<std::string_view, std::string_view> split_last_statement(std::string_view sql);

}  // namespace strata::sql

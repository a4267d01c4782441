#pragma once
// Lexer: template source -> tokens, applying Jinja2's whitespace rules (`-` markers, trim_blocks,
// lstrip_blocks, keep_trailing_newline) and raw sections. Internal to the jinja module.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "jinja/environment.h"

namespace strata::jinja::detail {

enum class Tok : std::uint8_t {
  kText,        // template data (whitespace already adjusted); value = the text
  kVarBegin,    // {{
  kVarEnd,      // }}
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kName,
  kString,      // value = decoded string
  kInt,
  kFloat,
  kOp,          // value = the operator text
  kEof,
};

struct Token {
  Tok type;
  std::string value;
  int line = 1;
  int column = 1;
  std::size_t offset = 0;      // byte offset of the token in the (newline-normalized) source
  std::size_t end_offset = 0;  // one past its last byte
};

// Human-readable description of a token for messages ("end of print statement", "'x'").
std::string describe(const Token& token);

// Tokenizes `source`. Tags whose first word is in raw_tags ("raw" and host raw-body tags) have
// their body emitted as one kText token, unparsed. Errors carry name:line:column.
Result<std::vector<Token>> tokenize(std::string_view source, const Options& options, const std::string& name,
                                    const std::unordered_set<std::string>& raw_tags);

}  // namespace strata::jinja::detail

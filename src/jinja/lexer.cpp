#include "jinja/lexer.h"

#include <algorithm>
#include <charconv>

namespace strata::jinja::detail {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

std::string_view lstrip_ws(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && is_space(s[i])) ++i;
  return s.substr(i);
}
std::string_view rstrip_ws(std::string_view s) {
  std::size_t n = s.size();
  while (n > 0 && is_space(s[n - 1])) --n;
  return s.substr(0, n);
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes Python string escapes (the body of a quoted literal).
std::string decode_escapes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 1 >= s.size()) {
      out += c;
      continue;
    }
    char e = s[++i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case '\n': break;
      case 'x': case 'u': case 'U': {
        std::size_t len = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
        std::uint32_t cp = 0;
        bool good = i + len < s.size() + 1 && i + len <= s.size() - 1 + 1;
        for (std::size_t k = 1; good && k <= len; ++k) {
          if (i + k >= s.size()) { good = false; break; }
          int h = hex_value(s[i + k]);
          if (h < 0) good = false; else cp = cp * 16 + static_cast<std::uint32_t>(h);
        }
        if (!good || cp > 0x10FFFF) {
          out += '\\';
          out += e;
        } else {
          append_utf8(out, cp);
          i += len;
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          std::uint32_t cp = static_cast<std::uint32_t>(e - '0');
          for (int k = 0; k < 2 && i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '7'; ++k)
            cp = cp * 8 + static_cast<std::uint32_t>(s[++i] - '0');
          append_utf8(out, cp);
        } else {
          out += '\\';
          out += e;
        }
    }
  }
  return out;
}

class Lexer {
 public:
  Lexer(std::string_view src, const Options& options, const std::string& name,
        const std::unordered_set<std::string>& raw_tags)
      : src_(src), options_(options), name_(name), raw_tags_(raw_tags) {
    line_starts_.push_back(0);
    for (std::size_t i = 0; i < src_.size(); ++i)
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
  }

  Result<std::vector<Token>> run() {
    while (true) {
      std::size_t start = find_tag(pos_);
      std::size_t text_end = start == std::string_view::npos ? src_.size() : start;
      std::string_view text = src_.substr(pos_, text_end - pos_);
      std::size_t text_begin = pos_;
      if (lstrip_next_) {
        std::string_view stripped = lstrip_ws(text);
        text_begin += text.size() - stripped.size();
        text = stripped;
      } else if (trim_newline_next_ && !text.empty() && text[0] == '\n') {
        text.remove_prefix(1);
        ++text_begin;
      }
      lstrip_next_ = trim_newline_next_ = false;
      if (start == std::string_view::npos) {
        emit_text(text, text_begin);
        break;
      }
      char kind = src_[start + 1];
      char marker = start + 2 < src_.size() ? src_[start + 2] : '\0';
      if (marker == '-') {
        text = rstrip_ws(text);
      } else if (options_.lstrip_blocks && kind != '{' && marker != '+') {
        text = lstrip_line(text, text_begin);
      }
      emit_text(text, text_begin);
      std::size_t body = start + 2 + ((marker == '-' || (marker == '+' && kind != '{')) ? 1 : 0);
      if (kind == '#') {
        STRATA_TRY(skip_comment(start, body));
        continue;
      }
      STRATA_TRY(lex_tag(kind == '{', start, body));
    }
    Token eof{Tok::kEof, "", 0, 0, src_.size(), src_.size()};
    set_position(eof, src_.size());
    tokens_.push_back(std::move(eof));
    return std::move(tokens_);
  }

 private:
  std::size_t find_tag(std::size_t from) const {
    while (true) {
      std::size_t p = src_.find('{', from);
      if (p == std::string_view::npos || p + 1 >= src_.size()) return std::string_view::npos;
      char c = src_[p + 1];
      if (c == '{' || c == '%' || c == '#') return p;
      from = p + 1;
    }
  }

  // lstrip_blocks: drops spaces/tabs between the line start and the tag.
  std::string_view lstrip_line(std::string_view text, std::size_t text_begin) const {
    std::size_t nl = text.rfind('\n');
    std::size_t line_begin = nl == std::string_view::npos ? 0 : nl + 1;
    bool line_start = nl != std::string_view::npos || text_begin == 0 || src_[text_begin - 1] == '\n';
    if (!line_start) return text;
    for (std::size_t i = line_begin; i < text.size(); ++i)
      if (text[i] != ' ' && text[i] != '\t') return text;
    return text.substr(0, line_begin);
  }

  void set_position(Token& t, std::size_t offset) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    std::size_t line = static_cast<std::size_t>(it - line_starts_.begin());
    t.line = static_cast<int>(line);
    t.column = static_cast<int>(offset - line_starts_[line - 1]) + 1;
    t.offset = offset;
  }

  void emit(Tok type, std::string value, std::size_t offset, std::size_t end) {
    Token t{type, std::move(value), 0, 0, offset, end};
    set_position(t, offset);
    tokens_.push_back(std::move(t));
  }
  void emit_text(std::string_view text, std::size_t offset) {
    if (!text.empty()) emit(Tok::kText, std::string(text), offset, offset + text.size());
  }

  Error error_at(std::size_t offset, std::string message) const {
    Token t;
    set_position(t, offset);
    return Error(ErrorCode::kConfig, std::move(message), SourceLocation{name_, t.line, t.column});
  }

  Status skip_comment(std::size_t start, std::size_t body) {
    std::size_t end = src_.find("#}", body);
    if (end == std::string_view::npos) return error_at(start, "Missing end of comment tag");
    finish_tag(end, end + 2, false);
    return ok_status();
  }

  // Applies the end marker of a tag ending at [end_mark, after): `-` strips, trim_blocks trims.
  void finish_tag(std::size_t end_mark, std::size_t after, bool is_variable) {
    char before = end_mark > 0 ? src_[end_mark - 1] : '\0';
    if (before == '-' && end_mark >= 1) {
      lstrip_next_ = true;
    } else if (!is_variable && options_.trim_blocks && before != '+') {
      trim_newline_next_ = true;
    }
    pos_ = after;
  }

  Status lex_tag(bool is_variable, std::size_t start, std::size_t body) {
    emit(is_variable ? Tok::kVarBegin : Tok::kBlockBegin, is_variable ? "{{" : "{%", start, start + 2);
    std::size_t first_token = tokens_.size();
    std::size_t p = body;
    int depth = 0;
    while (true) {
      while (p < src_.size() && is_space(src_[p])) ++p;
      if (p >= src_.size())
        return error_at(start, is_variable ? "unexpected end of template, expected 'end of print statement'."
                                           : "unexpected end of template, expected 'end of statement block'.");
      char c = src_[p];
      char end_char = is_variable ? '}' : '%';
      if (depth == 0) {
        std::size_t q = p;
        if ((c == '-' || (c == '+' && !is_variable)) && q + 1 < src_.size()) ++q;
        if (src_[q] == end_char && q + 1 < src_.size() && src_[q + 1] == '}') {
          emit(is_variable ? Tok::kVarEnd : Tok::kBlockEnd, is_variable ? "}}" : "%}", p, q + 2);
          finish_tag(q, q + 2, is_variable);
          if (!is_variable && tokens_.size() > first_token && tokens_[first_token].type == Tok::kName &&
              raw_tags_.count(tokens_[first_token].value))
            return lex_raw_body(std::string(tokens_[first_token].value), start);  // a copy: emit() reallocates
          return ok_status();
        }
      }
      if (is_name_start(c)) {
        std::size_t q = p;
        while (q < src_.size() && is_name_char(src_[q])) ++q;
        emit(Tok::kName, std::string(src_.substr(p, q - p)), p, q);
        p = q;
      } else if (is_digit(c)) {
        STRATA_TRY(lex_number(p));
      } else if (c == '\'' || c == '"') {
        std::size_t q = p + 1;
        while (q < src_.size() && src_[q] != c) q += src_[q] == '\\' ? 2 : 1;
        if (q >= src_.size()) return error_at(p, "unexpected char '" + std::string(1, c) + "' at " + std::to_string(p));
        emit(Tok::kString, decode_escapes(src_.substr(p + 1, q - p - 1)), p, q + 1);
        p = q + 1;
      } else {
        static const char* const kTwo[] = {"//", "**", "==", "!=", "<=", ">="};
        std::string op;
        for (const char* two : kTwo)
          if (src_.compare(p, 2, two) == 0) op = two;
        if (op.empty()) {
          if (std::string_view("+-*/%~<>=.,:|()[]{}").find(c) == std::string_view::npos)
            return error_at(p, "unexpected char '" + std::string(1, c) + "' at " + std::to_string(p));
          op = std::string(1, c);
        }
        if (op == "(" || op == "[" || op == "{") ++depth;
        if (op == ")" || op == "]" || op == "}") {
          if (depth == 0) return error_at(p, "unexpected '" + op + "'");
          --depth;
        }
        emit(Tok::kOp, op, p, p + op.size());
        p += op.size();
      }
    }
  }

  Status lex_number(std::size_t& p) {
    std::size_t q = p;
    bool after_dot = !tokens_.empty() && tokens_.back().type == Tok::kOp && tokens_.back().value == ".";
    auto digits = [&](auto pred) {
      while (q < src_.size() && (pred(src_[q]) || (src_[q] == '_' && q + 1 < src_.size() && pred(src_[q + 1])))) ++q;
    };
    if (!after_dot && src_[q] == '0' && q + 2 < src_.size() &&
        (src_[q + 1] == 'x' || src_[q + 1] == 'X' || src_[q + 1] == 'o' || src_[q + 1] == 'O' ||
         src_[q + 1] == 'b' || src_[q + 1] == 'B')) {
      char base_char = static_cast<char>(src_[q + 1] | 0x20);
      int base = base_char == 'x' ? 16 : (base_char == 'o' ? 8 : 2);
      std::size_t digits_begin = q + 2;
      q = digits_begin;
      digits([base](char ch) { return hex_value(ch) >= 0 && hex_value(ch) < base; });
      if (q > digits_begin) {
        std::string clean;
        for (std::size_t i = digits_begin; i < q; ++i) if (src_[i] != '_') clean += src_[i];
        std::int64_t v = 0;
        auto [ptr, ec] = std::from_chars(clean.data(), clean.data() + clean.size(), v, base);
        if (ec != std::errc()) return error_at(p, "integer literal out of range");
        emit(Tok::kInt, std::to_string(v), p, q);
        p = q;
        return ok_status();
      }
      q = p;
    }
    digits(is_digit);
    bool is_float = false;
    if (!after_dot && q + 1 < src_.size() && src_[q] == '.' && is_digit(src_[q + 1])) {
      ++q;
      digits(is_digit);
      is_float = true;
    }
    if (!after_dot && q < src_.size() && (src_[q] == 'e' || src_[q] == 'E')) {
      std::size_t e = q + 1;
      if (e < src_.size() && (src_[e] == '+' || src_[e] == '-')) ++e;
      if (e < src_.size() && is_digit(src_[e])) {
        q = e;
        digits(is_digit);
        is_float = true;
      }
    }
    std::string clean;
    for (std::size_t i = p; i < q; ++i) if (src_[i] != '_') clean += src_[i];
    if (!is_float) {
      std::int64_t v = 0;
      auto [ptr, ec] = std::from_chars(clean.data(), clean.data() + clean.size(), v);
      if (ec != std::errc()) return error_at(p, "integer literal out of range");
    }
    emit(is_float ? Tok::kFloat : Tok::kInt, clean, p, q);
    p = q;
    return ok_status();
  }

  // After `{% raw %}` (or a host raw-body tag): the body up to `{% end<tag> %}` as one text token.
  Status lex_raw_body(std::string tag, std::size_t tag_start) {
    std::string end_word = "end" + tag;
    std::size_t from = pos_;
    while (true) {
      std::size_t p = src_.find("{%", from);
      if (p == std::string_view::npos)
        return error_at(tag_start, tag == "raw" ? "Missing end of raw directive"
                                                : "Unexpected end of template. Jinja was looking for the following "
                                                  "tags: '" + end_word + "'. The innermost block that needs to be "
                                                  "closed is '" + tag + "'.");
      std::size_t q = p + 2;
      char marker = q < src_.size() ? src_[q] : '\0';
      if (marker == '-' || marker == '+') ++q;
      while (q < src_.size() && is_space(src_[q])) ++q;
      if (src_.compare(q, end_word.size(), end_word) != 0 ||
          (q + end_word.size() < src_.size() && is_name_char(src_[q + end_word.size()]))) {
        from = p + 2;
        continue;
      }
      std::size_t r = q + end_word.size();
      while (r < src_.size() && is_space(src_[r])) ++r;
      std::size_t mark = r;
      if (r < src_.size() && (src_[r] == '-' || src_[r] == '+')) ++r;
      if (src_.compare(r, 2, "%}") != 0) {
        from = p + 2;
        continue;
      }
      std::string_view text = src_.substr(pos_, p - pos_);
      std::size_t text_begin = pos_;
      if (lstrip_next_) {
        std::string_view s = lstrip_ws(text);
        text_begin += text.size() - s.size();
        text = s;
      } else if (trim_newline_next_ && !text.empty() && text[0] == '\n') {
        text.remove_prefix(1);
        ++text_begin;
      }
      lstrip_next_ = trim_newline_next_ = false;
      if (marker == '-') text = rstrip_ws(text);
      else if (options_.lstrip_blocks && marker != '+') text = lstrip_line(text, text_begin);
      emit(Tok::kText, std::string(text), text_begin, text_begin + text.size());
      if (tag == "raw") {
        (void)mark;
        finish_tag(r, r + 2, false);
      } else {
        pos_ = p;  // the end tag is lexed normally
      }
      return ok_status();
    }
  }

  std::string_view src_;
  const Options& options_;
  const std::string& name_;
  const std::unordered_set<std::string>& raw_tags_;
  std::vector<std::size_t> line_starts_;
  std::vector<Token> tokens_;
  std::size_t pos_ = 0;
  bool lstrip_next_ = false;
  bool trim_newline_next_ = false;
};

}  // namespace

std::string describe(const Token& token) {
  switch (token.type) {
    case Tok::kEof: return "end of template";
    case Tok::kVarBegin: return "begin of print statement";
    case Tok::kVarEnd: return "end of print statement";
    case Tok::kBlockBegin: return "begin of statement block";
    case Tok::kBlockEnd: return "end of statement block";
    case Tok::kText: return "template data / text";
    case Tok::kString: return "'" + token.value + "'";
    default: return token.value;
  }
}

Result<std::vector<Token>> tokenize(std::string_view source, const Options& options, const std::string& name,
                                    const std::unordered_set<std::string>& raw_tags) {
  Lexer lexer(source, options, name, raw_tags);
  return lexer.run();
}

}  // namespace strata::jinja::detail

#include "transform/static_parser.h"

#include <cctype>

namespace strata::transform {

namespace {

bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

void skip_space(std::string_view t, size_t& pos) {
  while (pos < t.size() && std::isspace(static_cast<unsigned char>(t[pos]))) ++pos;
}

std::optional<std::string> parse_string(std::string_view t, size_t& pos) {
  if (pos >= t.size() || (t[pos] != '\'' && t[pos] != '"')) return std::nullopt;
  char quote = t[pos];
  size_t p = pos + 1;
  std::string out;
  while (p < t.size() && t[p] != quote) {
    if (t[p] == '\\' && p + 1 < t.size()) {
      ++p;
      switch (t[p]) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        default: out += t[p];
      }
      ++p;
      continue;
    }
    out += t[p++];
  }
  if (p >= t.size()) return std::nullopt;
  pos = p + 1;
  return out;
}

std::optional<Json> parse_sequence(std::string_view t, size_t& pos, char close) {
  Json out = Json::array();
  ++pos;
  skip_space(t, pos);
  while (pos < t.size() && t[pos] != close) {
    auto item = parse_literal(t, pos);
    if (!item) return std::nullopt;
    out.push_back(std::move(*item));
    skip_space(t, pos);
    if (pos < t.size() && t[pos] == ',') {
      ++pos;
      skip_space(t, pos);
    } else if (pos < t.size() && t[pos] != close) {
      return std::nullopt;
    }
  }
  if (pos >= t.size()) return std::nullopt;
  ++pos;
  return out;
}

std::optional<Json> parse_dict(std::string_view t, size_t& pos) {
  Json out = Json::object();
  ++pos;
  skip_space(t, pos);
  while (pos < t.size() && t[pos] != '}') {
    auto key = parse_string(t, pos);
    if (!key) return std::nullopt;
    skip_space(t, pos);
    if (pos >= t.size() || t[pos] != ':') return std::nullopt;
    ++pos;
    skip_space(t, pos);
    auto value = parse_literal(t, pos);
    if (!value) return std::nullopt;
    out[*key] = std::move(*value);
    skip_space(t, pos);
    if (pos < t.size() && t[pos] == ',') {
      ++pos;
      skip_space(t, pos);
    } else if (pos < t.size() && t[pos] != '}') {
      return std::nullopt;
    }
  }
  if (pos >= t.size()) return std::nullopt;
  ++pos;
  return out;
}

// A call's arguments: positional literals and keyword literals, up to the closing ')'.
struct CallArgs {
  std::vector<Json> positional;
  Json keywords = Json::object();
};

std::optional<CallArgs> parse_call_args(std::string_view t, size_t& pos) {
  CallArgs args;
  skip_space(t, pos);
  while (pos < t.size() && t[pos] != ')') {
    size_t save = pos;
    std::string keyword;
    while (pos < t.size() && is_ident_char(t[pos])) keyword += t[pos++];
    skip_space(t, pos);
    if (!keyword.empty() && pos < t.size() && t[pos] == '=' && (pos + 1 >= t.size() || t[pos + 1] != '=')) {
      ++pos;
      skip_space(t, pos);
      auto value = parse_literal(t, pos);
      if (!value) return std::nullopt;
      args.keywords[keyword] = std::move(*value);
    } else {
      pos = save;
      auto value = parse_literal(t, pos);
      if (!value) return std::nullopt;
      args.positional.push_back(std::move(*value));
    }
    skip_space(t, pos);
    if (pos < t.size() && t[pos] == ',') {
      ++pos;
      skip_space(t, pos);
    } else if (pos < t.size() && t[pos] != ')') {
      return std::nullopt;
    }
  }
  if (pos >= t.size()) return std::nullopt;
  ++pos;
  return args;
}

struct Region {
  size_t begin;
  size_t end;
  bool expression;  // {{ }} vs {% %}
};

// The end of a {{ }} or {% %} region starting at pos: the first `close` outside string literals.
size_t find_close(std::string_view t, size_t pos, std::string_view close) {
  while (pos + 1 < t.size()) {
    char c = t[pos];
    if (c == '\'' || c == '"') {
      size_t end = t.find(c, pos + 1);
      while (end != std::string_view::npos && t[end - 1] == '\\') end = t.find(c, end + 1);
      if (end == std::string_view::npos) return std::string_view::npos;
      pos = end + 1;
      continue;
    }
    if (t.compare(pos, close.size(), close) == 0) return pos;
    ++pos;
  }
  return std::string_view::npos;
}

// The Jinja regions of a template, without comments.
std::vector<Region> jinja_regions(std::string_view t) {
  std::vector<Region> out;
  size_t pos = 0;
  while (true) {
    size_t open = t.find('{', pos);
    if (open == std::string_view::npos || open + 1 >= t.size()) break;
    char kind = t[open + 1];
    if (kind != '{' && kind != '%' && kind != '#') {
      pos = open + 1;
      continue;
    }
    std::string_view close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
    size_t end = kind == '#' ? t.find(close, open + 2) : find_close(t, open + 2, close);
    if (end == std::string_view::npos) break;
    if (kind != '#') out.push_back({open + 2, end, kind == '{'});
    pos = end + 2;
  }
  return out;
}

std::string_view strip_dash(std::string_view s) {
  while (!s.empty() && (s.front() == '-' || s.front() == '+' || std::isspace(static_cast<unsigned char>(s.front()))))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == '-' || s.back() == '+' || std::isspace(static_cast<unsigned char>(s.back()))))
    s.remove_suffix(1);
  return s;
}

std::string_view first_word(std::string_view s) {
  size_t n = 0;
  while (n < s.size() && is_ident_char(s[n])) ++n;
  return s.substr(0, n);
}

void line_col(std::string_view t, size_t pos, int& line, int& col) {
  line = 1;
  col = 1;
  for (size_t i = 0; i < pos && i < t.size(); ++i) {
    if (t[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
}

void scan_calls(std::string_view t, const Region& region, StaticScan& scan) {
  std::string_view body = t.substr(0, region.end);
  size_t pos = region.begin;
  while (pos < region.end) {
    if (!is_ident_char(body[pos]) || (pos > region.begin && (is_ident_char(body[pos - 1]) || body[pos - 1] == '.'))) {
      if (body[pos] == '\'' || body[pos] == '"') {
        size_t p = pos;
        if (parse_string(body, p)) {
          pos = p;
          continue;
        }
      }
      ++pos;
      continue;
    }
    size_t start = pos;
    std::string_view word = first_word(body.substr(pos));
    pos += word.size();
    size_t p = pos;
    skip_space(body, p);
    if (p >= body.size() || body[p] != '(') continue;
    bool known = word == "ref" || word == "source" || word == "config";
    if (!known) {
      static constexpr std::string_view kHarmless[] = {"var", "env_var", "this", "is_incremental", "doc"};
      bool harmless = false;
      for (auto h : kHarmless) harmless |= word == h;
      if (!harmless) scan.exact = false;
      continue;
    }
    ++p;
    auto args = parse_call_args(body, p);
    if (!args) {
      scan.exact = false;
      continue;
    }
    pos = p;
    auto fail = [&](std::string message) {
      if (!scan.error.empty()) return;
      scan.error = std::move(message);
      line_col(t, start, scan.error_line, scan.error_column);
    };
    if (word == "config") {
      if (!args->positional.empty()) {
        if (args->positional.size() == 1 && args->positional[0].is_object())
          scan.config.update(args->positional[0]);
        else
          fail("config() takes keyword arguments, e.g. config(materialized='table')");
      }
      scan.config.update(args->keywords);
      continue;
    }
    auto str = [](const Json& j) { return j.is_string() ? j.get<std::string>() : std::string(); };
    for (const auto& a : args->positional)
      if (!a.is_string()) fail(std::string(word) + "() arguments must be strings");
    if (word == "ref") {
      RefCall ref;
      if (args->positional.size() == 1) {
        ref.name = str(args->positional[0]);
      } else if (args->positional.size() == 2) {
        ref.package = str(args->positional[0]);
        ref.name = str(args->positional[1]);
      } else {
        fail("ref() takes one or two arguments: ref('model') or ref('package', 'model')");
        continue;
      }
      for (const char* k : {"v", "version"})
        if (args->keywords.contains(k)) ref.version = args->keywords[k].dump();
      scan.refs.push_back(std::move(ref));
    } else {
      if (args->positional.size() != 2) {
        fail("source() takes two arguments: source('source_name', 'table_name')");
        continue;
      }
      scan.sources.push_back({str(args->positional[0]), str(args->positional[1])});
    }
  }
}

}  // namespace

std::optional<Json> parse_literal(std::string_view t, size_t& pos) {
  skip_space(t, pos);
  if (pos >= t.size()) return std::nullopt;
  char c = t[pos];
  if (c == '\'' || c == '"') {
    auto s = parse_string(t, pos);
    if (!s) return std::nullopt;
    // Adjacent string literals concatenate, as in Python.
    size_t p = pos;
    skip_space(t, p);
    while (p < t.size() && (t[p] == '\'' || t[p] == '"')) {
      auto more = parse_string(t, p);
      if (!more) break;
      *s += *more;
      pos = p;
      skip_space(t, p);
    }
    return Json(*s);
  }
  if (c == '[') return parse_sequence(t, pos, ']');
  if (c == '(') return parse_sequence(t, pos, ')');
  if (c == '{') return parse_dict(t, pos);
  if (std::isdigit(static_cast<unsigned char>(c)) || c == '-') {
    size_t p = pos + 1;
    bool is_float = false;
    while (p < t.size() && (std::isdigit(static_cast<unsigned char>(t[p])) || t[p] == '.' || t[p] == '_')) {
      is_float |= t[p] == '.';
      ++p;
    }
    std::string text(t.substr(pos, p - pos));
    std::erase(text, '_');
    if (text == "-") return std::nullopt;
    pos = p;
    if (is_float) return Json(std::stod(text));
    return Json(std::stoll(text));
  }
  std::string_view word = first_word(t.substr(pos));
  if (word == "True" || word == "true") { pos += word.size(); return Json(true); }
  if (word == "False" || word == "false") { pos += word.size(); return Json(false); }
  if (word == "None" || word == "none") { pos += word.size(); return Json(nullptr); }
  return std::nullopt;
}

StaticScan static_scan(std::string_view sql) {
  StaticScan scan;
  auto regions = jinja_regions(sql);
  int execute_depth = 0;  // > 0 while inside {% if execute %}
  std::vector<bool> if_stack;
  for (const auto& region : regions) {
    std::string_view inner = strip_dash(sql.substr(region.begin, region.end - region.begin));
    if (!region.expression) {
      std::string_view tag = first_word(inner);
      if (tag == "if") {
        bool is_execute = inner.find("execute") != std::string_view::npos;
        if_stack.push_back(is_execute);
        if (is_execute) ++execute_depth;
        scan.exact = false;
      } else if (tag == "endif") {
        if (!if_stack.empty()) {
          if (if_stack.back()) --execute_depth;
          if_stack.pop_back();
        }
      } else if (tag == "else" || tag == "elif") {
        // `{% if execute %}…{% else %}…`: the else branch is what parse time renders.
        if (!if_stack.empty() && if_stack.back()) {
          --execute_depth;
          if_stack.back() = false;
        }
      } else if (tag != "endfor" && tag != "endset" && tag != "endcall") {
        scan.exact = false;
      }
    }
    if (execute_depth > 0) continue;
    scan_calls(sql, region, scan);
  }
  return scan;
}

}  // namespace strata::transform

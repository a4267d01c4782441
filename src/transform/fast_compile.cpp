// Compilation without the Jinja engine for the two shapes most nodes have: a model made of SQL
// text and `{{ ref(...) }}` / `{{ source(...) }}` / `{{ config(...) }}` expressions with literal
// arguments, and the built-in generic tests (unique, not_null, accepted_values, relationships).
// The output is byte-for-byte what the Jinja path renders (checked by fast_compile_test.cpp).
#include <cctype>

#include "common/strings.h"
#include "transform/compiler_internal.h"
#include "transform/static_parser.h"

namespace strata::transform::detail {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

void skip_spaces(std::string_view t, size_t& pos) {
  while (pos < t.size() && is_space(t[pos])) ++pos;
}

// `name(literal, ...)` filling the whole of `expr`; nullopt when it is anything else.
std::optional<std::pair<std::string, std::vector<Json>>> literal_call(std::string_view expr,
                                                                      bool allow_keywords = false) {
  size_t pos = 0;
  skip_spaces(expr, pos);
  size_t start = pos;
  while (pos < expr.size() && (std::isalnum(static_cast<unsigned char>(expr[pos])) || expr[pos] == '_')) ++pos;
  std::string name(expr.substr(start, pos - start));
  skip_spaces(expr, pos);
  if (name.empty() || pos >= expr.size() || expr[pos] != '(') return std::nullopt;
  ++pos;
  std::vector<Json> args;
  skip_spaces(expr, pos);
  while (pos < expr.size() && expr[pos] != ')') {
    size_t save = pos;
    while (pos < expr.size() && (std::isalnum(static_cast<unsigned char>(expr[pos])) || expr[pos] == '_')) ++pos;
    size_t after_word = pos;
    skip_spaces(expr, pos);
    bool keyword = after_word > save && pos < expr.size() && expr[pos] == '=' &&
                   (pos + 1 >= expr.size() || expr[pos + 1] != '=');
    if (keyword) {
      if (!allow_keywords) return std::nullopt;
      ++pos;
    } else {
      pos = save;
    }
    auto value = parse_literal(expr, pos);
    if (!value) return std::nullopt;
    if (!keyword) args.push_back(std::move(*value));
    skip_spaces(expr, pos);
    if (pos < expr.size() && expr[pos] == ',') {
      ++pos;
      skip_spaces(expr, pos);
    } else if (pos < expr.size() && expr[pos] != ')') {
      return std::nullopt;
    }
  }
  if (pos >= expr.size()) return std::nullopt;
  ++pos;
  skip_spaces(expr, pos);
  if (pos != expr.size()) return std::nullopt;
  return std::make_pair(std::move(name), std::move(args));
}

bool all_strings(const std::vector<Json>& args) {
  for (const auto& a : args)
    if (!a.is_string()) return false;
  return true;
}

void rstrip(std::string& s) {
  while (!s.empty() && is_space(s.back())) s.pop_back();
}

}  // namespace

std::optional<PlainCall> parse_plain_call(std::string_view expr) {
  auto call = literal_call(expr, true);
  if (!call) return std::nullopt;
  auto& [name, args] = *call;
  PlainCall out;
  if (name == "config") {
    out.kind = PlainCall::Kind::kConfig;
    return out;
  }
  if (!all_strings(args)) return std::nullopt;
  // Keyword arguments (ref versions) take the Jinja path.
  if (!literal_call(expr, false)) return std::nullopt;
  if (name == "ref" && (args.size() == 1 || args.size() == 2)) {
    out.kind = PlainCall::Kind::kRef;
    out.ref.name = args.back().get<std::string>();
    if (args.size() == 2) out.ref.package = args[0].get<std::string>();
    return out;
  }
  if (name == "source" && args.size() == 2) {
    out.kind = PlainCall::Kind::kSource;
    out.source = {args[0].get<std::string>(), args[1].get<std::string>()};
    return out;
  }
  return std::nullopt;
}

std::optional<std::vector<PlainPart>> plain_template(std::string_view raw) {
  // Jinja normalises newlines and drops one trailing newline; keep the fast path to LF sources.
  if (raw.find('\r') != std::string_view::npos || raw.find("{%") != std::string_view::npos) return std::nullopt;
  if (!raw.empty() && raw.back() == '\n') raw.remove_suffix(1);
  std::vector<PlainPart> parts;
  std::string text;
  bool strip_next = false;
  size_t pos = 0;
  auto flush_text = [&](std::string_view chunk) {
    if (strip_next) {
      size_t k = 0;
      while (k < chunk.size() && is_space(chunk[k])) ++k;
      chunk.remove_prefix(k);
      if (!chunk.empty()) strip_next = false;
    }
    text.append(chunk);
  };
  while (pos < raw.size()) {
    size_t open = raw.find('{', pos);
    while (open != std::string_view::npos && open + 1 < raw.size() && raw[open + 1] != '{' && raw[open + 1] != '#')
      open = raw.find('{', open + 1);
    if (open == std::string_view::npos || open + 1 >= raw.size()) {
      flush_text(raw.substr(pos));
      break;
    }
    flush_text(raw.substr(pos, open - pos));
    bool comment = raw[open + 1] == '#';
    size_t close = raw.find(comment ? "#}" : "}}", open + 2);
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view inner = raw.substr(open + 2, close - open - 2);
    if (inner.find('{') != std::string_view::npos || inner.find('}') != std::string_view::npos) return std::nullopt;
    bool strip_before = !inner.empty() && inner.front() == '-';
    bool strip_after = !inner.empty() && inner.back() == '-';
    if (!inner.empty() && (inner.front() == '+' || inner.back() == '+')) return std::nullopt;
    if (strip_before) {
      inner.remove_prefix(1);
      rstrip(text);
    }
    if (strip_after) inner.remove_suffix(1);
    pos = close + 2;
    strip_next = strip_after;
    if (comment) continue;
    auto call = parse_plain_call(inner);
    if (!call) return std::nullopt;
    if (call->kind == PlainCall::Kind::kConfig) continue;
    parts.push_back({std::move(text), {}});
    text.clear();
    parts.back().call = std::move(*call);
  }
  parts.push_back({std::move(text), {}});
  return parts;
}

namespace {

std::string column_arg(const Json& kwargs, const char* key) {
  auto it = kwargs.find(key);
  return it != kwargs.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::optional<std::string> builtin_test_sql(const TestMetadata& meta, const std::string& model,
                                            const std::function<std::optional<std::string>(std::string_view)>& rel) {
  const Json& kw = meta.kwargs;
  std::string column = column_arg(kw, "column_name");
  if (column.empty()) return std::nullopt;
  if (meta.name == "unique") {
    return "select " + column + " as unique_field, count(*) as n_records\nfrom " + model + "\nwhere " + column +
           " is not null\ngroup by " + column + "\nhaving count(*) > 1";
  }
  if (meta.name == "not_null") return "select " + column + "\nfrom " + model + "\nwhere " + column + " is null";
  if (meta.name == "accepted_values") {
    auto values = kw.find("values");
    if (values == kw.end() || !values->is_array()) return std::nullopt;
    bool quote = true;
    if (auto q = kw.find("quote"); q != kw.end()) {
      if (!q->is_boolean()) return std::nullopt;
      quote = q->get<bool>();
    }
    std::string list;
    for (size_t k = 0; k < values->size(); ++k) {
      const Json& v = (*values)[k];
      std::string text;
      if (v.is_string()) text = v.get<std::string>();
      else if (v.is_number_integer()) text = v.dump();
      else return std::nullopt;
      if (k) list += ", ";
      list += quote ? "'" + replace_all(text, "'", "''") + "'" : text;
    }
    return "with all_values as (\n    select " + column + " as value_field, count(*) as n_records\n    from " + model +
           "\n    group by " + column + "\n)\nselect * from all_values\nwhere value_field not in (" + list + ")";
  }
  if (meta.name == "relationships") {
    std::string to = column_arg(kw, "to"), field = column_arg(kw, "field");
    if (to.empty() || field.empty()) return std::nullopt;
    auto to_rel = rel(to);
    if (!to_rel) return std::nullopt;
    return "with child as (\n    select " + column + " as from_field\n    from " + model + "\n    where " + column +
           " is not null\n),\nparent as (\n    select " + field + " as to_field\n    from " + *to_rel +
           "\n)\nselect from_field\nfrom child\nleft join parent on child.from_field = parent.to_field\n"
           "where parent.to_field is null";
  }
  return std::nullopt;
}

}  // namespace strata::transform::detail

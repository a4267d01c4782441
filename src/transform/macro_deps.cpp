#include "transform/macro_deps.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "common/strings.h"

namespace strata::transform {

namespace {

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The end of the string literal opening at `i` (the index after its closing quote).
size_t skip_string(std::string_view s, size_t i) {
  const char quote = s[i];
  for (size_t j = i + 1; j < s.size(); ++j) {
    if (s[j] == '\\') {
      ++j;
    } else if (s[j] == quote) {
      return j + 1;
    }
  }
  return s.size();
}

// The string literal's contents starting at `i` (after any spaces), or "" when there is none.
std::string literal_at(std::string_view s, size_t i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) return {};
  size_t end = skip_string(s, i);
  return end - i >= 2 ? std::string(s.substr(i + 1, end - i - 2)) : std::string();
}

void add_call(std::vector<JinjaCall>& out, JinjaCall call) {
  auto same = [&](const JinjaCall& c) {
    return c.name == call.name && c.dispatched == call.dispatched && c.dispatch_package == call.dispatch_package;
  };
  if (std::none_of(out.begin(), out.end(), same)) out.push_back(std::move(call));
}

// The calls in one Jinja region (the text between its delimiters).
void scan_region(std::string_view r, std::vector<JinjaCall>& out) {
  size_t i = 0;
  while (i < r.size()) {
    char c = r[i];
    if (c == '\'' || c == '"') {
      i = skip_string(r, i);
      continue;
    }
    if (!ident_start(c) || (i > 0 && (ident_char(r[i - 1]) || r[i - 1] == '.'))) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < r.size() && (ident_char(r[end]) || (r[end] == '.' && end + 1 < r.size() && ident_start(r[end + 1]))))
      ++end;
    std::string name(r.substr(i, end - i));
    size_t k = end;
    while (k < r.size() && std::isspace(static_cast<unsigned char>(r[k]))) ++k;
    if (k < r.size() && r[k] == '(') {
      if (name == "adapter.dispatch") {
        std::string target = literal_at(r, k + 1);
        size_t comma = r.find(',', k + 1);
        size_t close = r.find(')', k + 1);
        std::string ns = comma != std::string_view::npos && comma < close ? literal_at(r, comma + 1) : "";
        if (!target.empty()) add_call(out, JinjaCall{target, true, ns});
      } else {
        add_call(out, JinjaCall{name, false, ""});
      }
    }
    i = end;
  }
}

}  // namespace

std::vector<JinjaCall> jinja_calls(std::string_view text) {
  std::vector<JinjaCall> out;
  size_t pos = 0;
  while ((pos = text.find('{', pos)) != std::string_view::npos && pos + 1 < text.size()) {
    char kind = text[pos + 1];
    if (kind == '#') {
      size_t end = text.find("#}", pos + 2);
      pos = end == std::string_view::npos ? text.size() : end + 2;
      continue;
    }
    if (kind != '{' && kind != '%') {
      ++pos;
      continue;
    }
    const std::string_view closer = kind == '{' ? "}}" : "%}";
    size_t end = text.find(closer, pos + 2);
    if (end == std::string_view::npos) end = text.size();
    std::string_view region = text.substr(pos + 2, end - pos - 2);
    std::string_view tag = trim(region);
    if (!tag.empty() && tag.front() == '-') tag = trim(tag.substr(1));
    const bool header = kind == '%' && (starts_with(tag, "macro ") || starts_with(tag, "test ") ||
                                        starts_with(tag, "materialization "));
    if (!header) scan_region(region, out);
    pos = end + 2;
  }
  return out;
}

void link_macro_dependencies(ParsedProject& project) {
  // name → the unique ids of the macros so named, by package.
  std::map<std::string, std::map<std::string, std::string>> by_name;
  for (const auto& m : project.macros) by_name[m.name].emplace(m.package_name, m.unique_id);
  const std::string& root = project.project.name;
  auto resolve = [&](const JinjaCall& call, const std::string& from, std::vector<std::string>& deps) {
    auto add = [&](const std::string& id) {
      if (std::find(deps.begin(), deps.end(), id) == deps.end()) deps.push_back(id);
    };
    if (call.dispatched) {
      const std::string suffix = "__" + call.name;
      for (const auto& m : project.macros) {
        bool named = m.name.size() > suffix.size() && m.name.compare(m.name.size() - suffix.size(), suffix.size(),
                                                                     suffix) == 0;
        bool in_scope = call.dispatch_package.empty() || m.package_name == call.dispatch_package ||
                        m.package_name == root;
        if (named && in_scope) add(m.unique_id);
      }
      return;
    }
    std::string package, name = call.name;
    if (auto dot = name.find('.'); dot != std::string::npos) {
      package = name.substr(0, dot);
      name = name.substr(dot + 1);
      if (name.find('.') != std::string::npos) return;  // an attribute's method (adapter.get_relation …)
    }
    auto it = by_name.find(name);
    if (it == by_name.end()) return;
    const auto& packages = it->second;
    if (!package.empty()) {
      if (auto p = packages.find(package); p != packages.end()) add(p->second);
      return;
    }
    for (const std::string& candidate : {from, root}) {
      if (auto p = packages.find(candidate); p != packages.end()) return add(p->second);
    }
    add(packages.begin()->second);
  };
  for (auto& n : project.nodes) {
    n.depends_on_macros.clear();
    for (const auto& call : jinja_calls(n.raw_code)) resolve(call, n.package_name, n.depends_on_macros);
  }
  for (auto& m : project.macros) {
    m.depends_on_macros.clear();
    for (const auto& call : jinja_calls(m.macro_sql)) resolve(call, m.package_name, m.depends_on_macros);
    std::erase(m.depends_on_macros, m.unique_id);
  }
}

}  // namespace strata::transform

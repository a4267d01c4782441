#include "common/yaml.h"

#include <cctype>

#include "common/strings.h"

namespace strata {

SourceLocation YamlDocument::where(const YAML::Node& node) const {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {file, 0, 0};
  return {file, mark.line + 1, mark.column + 1};
}

Error YamlDocument::error(const YAML::Node& node, std::string message, std::string hint) const {
  return Error(ErrorCode::kConfig, std::move(message), where(node), std::move(hint));
}

namespace {

// Parses `env_var ( 'NAME' [, 'default'] )` at s[pos...]; returns false when it is not one.
bool parse_env_call(std::string_view s, size_t& pos, std::string& name, std::optional<std::string>& fallback) {
  auto skip = [&] {
    while (pos < s.size() && std::isspace(static_cast<unsigned char>(s[pos]))) ++pos;
  };
  auto literal = [&](std::string& out) {
    skip();
    if (pos >= s.size() || (s[pos] != '\'' && s[pos] != '"')) return false;
    char quote = s[pos++];
    out.clear();
    while (pos < s.size() && s[pos] != quote) {
      if (s[pos] == '\\' && pos + 1 < s.size()) ++pos;
      out += s[pos++];
    }
    if (pos >= s.size()) return false;
    ++pos;
    return true;
  };
  skip();
  if (s.substr(pos, 7) != "env_var") return false;
  pos += 7;
  skip();
  if (pos >= s.size() || s[pos] != '(') return false;
  ++pos;
  if (!literal(name)) return false;
  skip();
  if (pos < s.size() && s[pos] == ',') {
    ++pos;
    std::string def;
    if (!literal(def)) return false;
    fallback = def;
    skip();
  }
  if (pos >= s.size() || s[pos] != ')') return false;
  ++pos;
  skip();
  return true;
}

Status substitute_tree(YAML::Node node, const YamlDocument& doc, const YamlOptions& options) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      const std::string& text = node.Scalar();
      if (text.find("env_var") == std::string::npos) return ok_status();
      auto replaced = substitute_env_vars(text, options, doc.where(node));
      if (!replaced.ok()) return std::move(replaced).error();
      if (*replaced != text) node = *replaced;
      return ok_status();
    }
    case YAML::NodeType::Sequence:
      for (auto child : node) STRATA_TRY(substitute_tree(child, doc, options));
      return ok_status();
    case YAML::NodeType::Map:
      for (auto kv : node) STRATA_TRY(substitute_tree(kv.second, doc, options));
      return ok_status();
    default:
      return ok_status();
  }
}

Result<YamlDocument> parse(std::string_view text, std::string file, const YamlOptions& options) {
  YamlDocument doc;
  doc.file = std::move(file);
  try {
    doc.root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    SourceLocation where{doc.file, e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1};
    return Error(ErrorCode::kConfig, "invalid YAML: " + e.msg, where,
                 "check indentation, colons and quoting near this position");
  }
  // A scalar can only hold an env_var call when the text spells it, or builds it from escapes in a
  // double-quoted scalar; otherwise walking the tree (costly in yaml-cpp for big files) finds nothing.
  const bool may_hold_env_var =
      text.find("env_var") != std::string_view::npos || text.find('\\') != std::string_view::npos;
  if (options.substitute_env && may_hold_env_var) STRATA_TRY(substitute_tree(doc.root, doc, options));
  return doc;
}

}  // namespace

Result<std::string> substitute_env_vars(std::string_view text, const YamlOptions& options, const SourceLocation& where) {
  std::string out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) break;
    size_t cursor = open + 2;
    if (cursor < text.size() && text[cursor] == '-') ++cursor;
    std::string name;
    std::optional<std::string> fallback;
    size_t call_end = cursor;
    if (!parse_env_call(text, call_end, name, fallback)) {
      out.append(text.substr(pos, open + 2 - pos));
      pos = open + 2;
      continue;
    }
    if (call_end < text.size() && text[call_end] == '-') ++call_end;
    if (text.substr(call_end, 2) != "}}") {
      out.append(text.substr(pos, open + 2 - pos));
      pos = open + 2;
      continue;
    }
    std::optional<std::string> value = options.env ? options.env(name) : std::nullopt;
    if (!value) value = fallback;
    if (!value) {
      SourceLocation at = where;
      if (at.column > 0 && text.find('\n') == std::string_view::npos) at.column += static_cast<int>(open);
      return Error(ErrorCode::kConfig, "environment variable '" + name + "' is not set", at,
                   "export " + name + "=… before running, or give a default: env_var('" + name + "', 'value')");
    }
    if (options.masker && is_secret_env_name(name)) options.masker->add(*value);
    out.append(text.substr(pos, open - pos));
    out.append(*value);
    pos = call_end + 2;
  }
  out.append(text.substr(pos));
  return out;
}

Result<YamlDocument> load_yaml_file(const std::string& path, const YamlOptions& options) {
  std::string text;
  if (!read_file(path, text))
    return Error(ErrorCode::kNotFound, "cannot read file '" + path + "'", {}, "check that the path exists and is readable");
  return parse(text, path, options);
}

Result<YamlDocument> load_yaml_string(std::string_view text, std::string file_name, const YamlOptions& options) {
  return parse(text, std::move(file_name), options);
}

Result<std::string> yaml_string(const YamlDocument& doc, const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar())
    return doc.error(node, std::string(what) + " must be a string", "write it as a plain value, e.g. " + std::string(what) + ": value");
  return node.Scalar();
}

Result<long long> yaml_int(const YamlDocument& doc, const YAML::Node& node, std::string_view what) {
  if (node.IsScalar()) {
    const std::string& s = node.Scalar();
    try {
      size_t used = 0;
      long long v = std::stoll(s, &used);
      if (used == s.size()) return v;
    } catch (...) {
    }
  }
  return doc.error(node, std::string(what) + " must be an integer", "e.g. " + std::string(what) + ": 4");
}

Result<bool> yaml_bool(const YamlDocument& doc, const YAML::Node& node, std::string_view what) {
  if (node.IsScalar()) {
    std::string s = to_lower(node.Scalar());
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  return doc.error(node, std::string(what) + " must be true or false", "e.g. " + std::string(what) + ": true");
}

}  // namespace strata

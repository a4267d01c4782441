#include "common/yaml.h"

#include <cctype>
#include <unordered_map>

#include <yaml.h>

#include "common/strings.h"

namespace strata {

struct YamlData {
  YamlNode::Type type = YamlNode::Type::kNull;
  bool quoted = false;
  bool templated = false;
  int line = 0;
  int column = 0;
  std::string scalar;
  std::vector<YamlEntry> entries;
};

namespace {
const std::string kEmpty;
const std::vector<YamlEntry> kNoEntries;
}  // namespace

YamlNode::Type YamlNode::type() const { return data_ ? data_->type : Type::kUndefined; }
const std::string& YamlNode::scalar() const { return data_ && data_->type == Type::kScalar ? data_->scalar : kEmpty; }
bool YamlNode::is_quoted() const { return data_ && data_->quoted; }
bool YamlNode::is_templated() const { return data_ && data_->templated; }
int YamlNode::line() const { return data_ ? data_->line : -1; }
int YamlNode::column() const { return data_ ? data_->column : -1; }
size_t YamlNode::size() const { return data_ ? data_->entries.size() : 0; }
YamlNode::const_iterator YamlNode::begin() const { return data_ ? data_->entries.begin() : kNoEntries.begin(); }
YamlNode::const_iterator YamlNode::end() const { return data_ ? data_->entries.end() : kNoEntries.end(); }

YamlNode YamlNode::operator[](std::string_view key) const {
  if (!is_map()) return {};
  for (const YamlEntry& e : data_->entries)
    if (e.first.scalar() == key) return e.second;
  return {};
}

YamlNode YamlNode::operator[](size_t index) const {
  if (!is_sequence() || index >= data_->entries.size()) return {};
  return data_->entries[index];
}

SourceLocation YamlDocument::where(const YamlNode& node) const {
  if (node.line() < 0) return {file, 0, 0};
  return {file, node.line() + 1, node.column() + 1};
}

Error YamlDocument::error(const YamlNode& node, std::string message, std::string hint) const {
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
    SourceLocation at = where;
    if (at.column > 0 && text.find('\n') == std::string_view::npos) at.column += static_cast<int>(open);
    size_t call_end = cursor;
    const bool parsed = parse_env_call(text, call_end, name, fallback);
    if (parsed && call_end < text.size() && text[call_end] == '-') ++call_end;
    if (!parsed || text.substr(call_end, 2) != "}}") {
      // Other Jinja (dbt's files may hold some, e.g. env_var(…) | upper) passes through where it
      // is rendered later; an env_var call that is never closed is an error everywhere.
      const size_t word = text.find_first_not_of(" \t-", cursor);
      const bool env_call = word != std::string_view::npos && text.substr(word, 7) == "env_var";
      const size_t close = text.find("}}", cursor);
      const bool unclosed = close == std::string_view::npos || text.substr(cursor, close - cursor).find(')') ==
                                                                    std::string_view::npos;
      if ((env_call && unclosed) || !options.other_jinja) {
        return Error(ErrorCode::kConfig, "'" + std::string(text.substr(open)) + "' is not a valid env_var call", at,
                     options.other_jinja ? "write {{ env_var('NAME') }} or {{ env_var('NAME', 'default') }}"
                                         : "this file takes only {{ env_var('NAME') }} or "
                                           "{{ env_var('NAME', 'default') }} in its values");
      }
      out.append(text.substr(pos, open + 2 - pos));
      pos = open + 2;
      continue;
    }
    std::optional<std::string> value = options.env ? options.env(name) : std::nullopt;
    if (!value) value = fallback;
    if (!value) {
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

// Builds YamlNodes from libyaml's events. One use per document text.
class YamlBuilder {
 public:
  YamlBuilder(std::string_view text, const YamlDocument& doc, const YamlOptions& options)
      : text_(text), doc_(doc), options_(options) {}

  Result<YamlNode> build();

 private:
  // A sequence or map being filled.
  struct Frame {
    std::shared_ptr<YamlData> data;
    std::string anchor;
    YamlNode key;                 // a map's key waiting for its value
    std::vector<YamlNode> merges;  // values of `<<` keys, in order
  };

  Error error_at(const yaml_mark_t& mark, std::string message, std::string hint) const {
    return Error(ErrorCode::kConfig, std::move(message),
                 {doc_.file, static_cast<int>(mark.line) + 1, static_cast<int>(mark.column) + 1}, std::move(hint));
  }
  static std::shared_ptr<YamlData> new_data(YamlNode::Type type, const yaml_mark_t& mark) {
    auto d = std::make_shared<YamlData>();
    d->type = type;
    d->line = static_cast<int>(mark.line);
    d->column = static_cast<int>(mark.column);
    return d;
  }
  bool expecting_key() const { return !stack_.empty() && stack_.back().data->type == YamlNode::Type::kMap && !stack_.back().key; }
  Result<YamlNode> scalar(const yaml_event_t& event);
  void remember(const yaml_char_t* anchor, const YamlNode& node);
  Error key_error(const yaml_mark_t& mark) const {
    return error_at(mark, "a map key must be a plain value, not a list or a map",
                    "write the key as text, e.g. name: value; a value that starts with {{ must be quoted: "
                    "password: \"{{ env_var('PG_PASSWORD') }}\"");
  }
  Status add(YamlNode node, const yaml_mark_t& mark);
  Status close(const yaml_mark_t& mark);
  Status apply_merges(Frame& frame);

  std::string_view text_;
  const YamlDocument& doc_;
  const YamlOptions& options_;
  std::vector<Frame> stack_;
  std::unordered_map<std::string, YamlNode> anchors_;
  YamlNode root_;
};

namespace {

// Owns a libyaml parser.
struct LibyamlParser {
  yaml_parser_t parser{};
  LibyamlParser() { yaml_parser_initialize(&parser); }
  ~LibyamlParser() { yaml_parser_delete(&parser); }
  LibyamlParser(const LibyamlParser&) = delete;
  LibyamlParser& operator=(const LibyamlParser&) = delete;
};

// Owns one event.
struct LibyamlEvent {
  yaml_event_t event{};
  bool filled = false;
  ~LibyamlEvent() {
    if (filled) yaml_event_delete(&event);
  }
};

bool is_null_text(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

constexpr const char* kYamlHint = "check indentation, colons and quoting near this position";

}  // namespace

Result<YamlNode> YamlBuilder::scalar(const yaml_event_t& event) {
  const auto& sc = event.data.scalar;
  std::string_view value(reinterpret_cast<const char*>(sc.value), sc.length);
  std::string_view tag = sc.tag ? std::string_view(reinterpret_cast<const char*>(sc.tag)) : std::string_view();
  const bool plain = sc.style == YAML_PLAIN_SCALAR_STYLE || sc.style == YAML_ANY_SCALAR_STYLE;
  const bool is_null = tag == "tag:yaml.org,2002:null" || (plain && tag.empty() && is_null_text(value));
  auto d = new_data(is_null ? YamlNode::Type::kNull : YamlNode::Type::kScalar, event.start_mark);
  d->quoted = !is_null && (!plain || tag == "tag:yaml.org,2002:str" || tag == "!");
  if (!is_null) {
    // Values (not keys) may call env_var, as dbt allows in profiles.yml and dbt_project.yml.
    if (options_.substitute_env && !expecting_key() &&
        value.find(options_.other_jinja ? "env_var" : "{{") != std::string_view::npos) {
      // A quoted value's text starts one column after its quote.
      const int column = d->column + 1 + (plain ? 0 : 1);
      STRATA_ASSIGN(d->scalar, substitute_env_vars(value, options_, {doc_.file, d->line + 1, column}));
      d->templated = true;
    } else {
      d->scalar.assign(value);
    }
  }
  return YamlNode(std::move(d));
}

void YamlBuilder::remember(const yaml_char_t* anchor, const YamlNode& node) {
  if (anchor) anchors_[reinterpret_cast<const char*>(anchor)] = node;
}

Status YamlBuilder::add(YamlNode node, const yaml_mark_t& mark) {
  if (stack_.empty()) {
    root_ = std::move(node);
    return ok_status();
  }
  Frame& parent = stack_.back();
  YamlData& d = *parent.data;
  if (d.type == YamlNode::Type::kSequence) {
    YamlEntry e;
    static_cast<YamlNode&>(e) = std::move(node);
    d.entries.push_back(std::move(e));
    return ok_status();
  }
  if (!parent.key) {
    if (!node.is_scalar() && !node.is_null()) return key_error(mark);  // an alias to a collection
    parent.key = std::move(node);
    return ok_status();
  }
  YamlNode key = std::move(parent.key);
  parent.key = YamlNode();
  if (!key.is_quoted() && key.scalar() == "<<") {
    parent.merges.push_back(std::move(node));
    return ok_status();
  }
  for (YamlEntry& e : d.entries)
    if (e.first.scalar() == key.scalar()) {  // a repeated key: the last value wins, as in dbt
      if (options_.unique_keys) {
        return doc_.error(key, "key '" + key.scalar() + "' appears twice in this mapping (first at line " +
                                   std::to_string(doc_.where(e.first).line) + ")",
                          "keep one of them");
      }
      e.second = std::move(node);
      return ok_status();
    }
  YamlEntry e;
  e.first = std::move(key);
  e.second = std::move(node);
  d.entries.push_back(std::move(e));
  return ok_status();
}

Status YamlBuilder::apply_merges(Frame& frame) {
  std::vector<YamlNode> sources;
  for (const YamlNode& m : frame.merges) {
    if (m.is_map()) {
      sources.push_back(m);
      continue;
    }
    bool all_maps = m.is_sequence();
    for (const YamlEntry& item : m) all_maps = all_maps && item.is_map();
    if (!all_maps)
      return doc_.error(m, "a `<<` merge key needs a map or a list of maps",
                        "write `<<: *anchor` where the anchor names a map");
    for (const YamlEntry& item : m) sources.push_back(item);
  }
  YamlData& d = *frame.data;
  for (const YamlNode& src : sources)
    for (const YamlEntry& e : src) {
      bool present = false;
      for (const YamlEntry& mine : d.entries) present = present || mine.first.scalar() == e.first.scalar();
      if (!present) d.entries.push_back(e);
    }
  return ok_status();
}

Status YamlBuilder::close(const yaml_mark_t& mark) {
  Frame frame = std::move(stack_.back());
  stack_.pop_back();
  if (!frame.merges.empty()) STRATA_TRY(apply_merges(frame));
  YamlNode node(std::shared_ptr<const YamlData>(std::move(frame.data)));
  if (!frame.anchor.empty()) anchors_[frame.anchor] = node;
  return add(std::move(node), mark);
}

Result<YamlNode> YamlBuilder::build() {
  LibyamlParser p;
  yaml_parser_set_input_string(&p.parser, reinterpret_cast<const unsigned char*>(text_.data()), text_.size());
  int documents = 0;
  for (;;) {
    LibyamlEvent ev;
    if (!yaml_parser_parse(&p.parser, &ev.event)) {
      std::string message = std::string("invalid YAML: ") + (p.parser.problem ? p.parser.problem : "syntax error");
      if (p.parser.context)
        message += std::string(" (") + p.parser.context + " that starts at line " +
                   std::to_string(p.parser.context_mark.line + 1) + ", column " +
                   std::to_string(p.parser.context_mark.column + 1) + ")";
      return error_at(p.parser.problem_mark, std::move(message), kYamlHint);
    }
    ev.filled = true;
    const yaml_event_t& e = ev.event;
    switch (e.type) {
      case YAML_DOCUMENT_START_EVENT:
        if (++documents > 1)
          return error_at(e.start_mark, "a YAML file here holds one document, and this is a second one",
                          "remove the `---` line, or split the documents into separate files");
        break;
      case YAML_SCALAR_EVENT: {
        STRATA_ASSIGN(YamlNode node, scalar(e));
        remember(e.data.scalar.anchor, node);
        STRATA_TRY(add(std::move(node), e.start_mark));
        break;
      }
      case YAML_ALIAS_EVENT: {
        auto it = anchors_.find(reinterpret_cast<const char*>(e.data.alias.anchor));
        if (it == anchors_.end())
          return error_at(e.start_mark, std::string("unknown alias *") + reinterpret_cast<const char*>(e.data.alias.anchor),
                          "define the anchor (&name) before using it");
        STRATA_TRY(add(it->second, e.start_mark));
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        const bool seq = e.type == YAML_SEQUENCE_START_EVENT;
        const yaml_char_t* anchor = seq ? e.data.sequence_start.anchor : e.data.mapping_start.anchor;
        Frame frame;
        frame.data = new_data(seq ? YamlNode::Type::kSequence : YamlNode::Type::kMap, e.start_mark);
        if (anchor) frame.anchor = reinterpret_cast<const char*>(anchor);
        if (expecting_key()) return key_error(e.start_mark);
        stack_.push_back(std::move(frame));
        break;
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        STRATA_TRY(close(e.start_mark));
        break;
      case YAML_STREAM_END_EVENT:
        if (!root_) {
          yaml_mark_t start{};
          root_ = YamlNode(new_data(YamlNode::Type::kNull, start));
        }
        return root_;
      default:
        break;
    }
  }
}

namespace {

Result<YamlDocument> parse(std::string_view text, std::string file, const YamlOptions& options) {
  YamlDocument doc;
  doc.file = std::move(file);
  YamlBuilder builder(text, doc, options);
  STRATA_ASSIGN(doc.root, builder.build());
  return doc;
}

}  // namespace

Result<YamlDocument> load_yaml_file(const std::string& path, const YamlOptions& options) {
  std::string text;
  if (!read_file(path, text))
    return Error(ErrorCode::kNotFound, "cannot read file '" + path + "'", {}, "check that the path exists and is readable");
  return parse(text, path, options);
}

Result<YamlDocument> load_yaml_string(std::string_view text, std::string file_name, const YamlOptions& options) {
  return parse(text, std::move(file_name), options);
}

Result<std::string> yaml_string(const YamlDocument& doc, const YamlNode& node, std::string_view what) {
  if (!node.is_scalar())
    return doc.error(node, std::string(what) + " must be a string", "write it as a plain value, e.g. " + std::string(what) + ": value");
  return node.scalar();
}

Result<long long> yaml_int(const YamlDocument& doc, const YamlNode& node, std::string_view what) {
  if (node.is_scalar()) {
    const std::string& s = node.scalar();
    try {
      size_t used = 0;
      long long v = std::stoll(s, &used);
      if (used == s.size()) return v;
    } catch (...) {
    }
  }
  return doc.error(node, std::string(what) + " must be an integer", "write a whole number (digits, no quotes or units)");
}

Result<bool> yaml_bool(const YamlDocument& doc, const YamlNode& node, std::string_view what) {
  if (node.is_scalar()) {
    std::string s = to_lower(node.scalar());
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  return doc.error(node, std::string(what) + " must be true or false", "e.g. " + std::string(what) + ": true");
}

nlohmann::ordered_json yaml_to_json(const YamlNode& node) {
  switch (node.type()) {
    case YamlNode::Type::kUndefined:
    case YamlNode::Type::kNull:
      return nullptr;
    case YamlNode::Type::kScalar: {
      const std::string& s = node.scalar();
      if (node.is_quoted()) return s;
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
      if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+' || s[0] == '.')) {
        try {
          size_t used = 0;
          long long v = std::stoll(s, &used);
          if (used == s.size()) return v;
          double d = std::stod(s, &used);
          if (used == s.size()) return d;
        } catch (...) {
        }
      }
      return s;
    }
    case YamlNode::Type::kSequence: {
      auto out = nlohmann::ordered_json::array();
      for (const YamlEntry& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YamlNode::Type::kMap: {
      auto out = nlohmann::ordered_json::object();
      for (const YamlEntry& kv : node) out[kv.first.scalar()] = yaml_to_json(kv.second);
      return out;
    }
  }
  return nullptr;
}

}  // namespace strata

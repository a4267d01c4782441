#include "transform/parser.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <fcntl.h>
#include <iterator>
#include <map>
#include <optional>
#include <thread>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/parallel.h"
#include "common/strings.h"
#include "transform/macro_deps.h"
#include "transform/packages.h"
#include "transform/parser_internal.h"
#include "transform/project_files.h"
#include "transform/static_parser.h"

namespace strata::transform {

namespace fs = std::filesystem;
using detail::ParseState;

namespace detail {

void split_path(const std::string& relative, std::vector<std::string>& folders, std::string& stem) {
  folders = split(relative, '/');
  stem = folders.empty() ? "" : folders.back();
  if (!folders.empty()) folders.pop_back();
  auto dot = stem.rfind('.');
  if (dot != std::string::npos) stem = stem.substr(0, dot);
}

namespace {

Json build_default_config(ResourceType type) {
  Json c = Json::object();
  c["enabled"] = true;
  c["alias"] = nullptr;
  c["schema"] = nullptr;
  c["database"] = nullptr;
  c["tags"] = Json::array();
  c["meta"] = Json::object();
  switch (type) {
    case ResourceType::kModel:
    case ResourceType::kAnalysis:
      c["materialized"] = "view";
      c["persist_docs"] = Json::object();
      c["post-hook"] = Json::array();
      c["pre-hook"] = Json::array();
      c["quoting"] = Json::object();
      c["column_types"] = Json::object();
      c["full_refresh"] = nullptr;
      c["unique_key"] = nullptr;
      c["on_schema_change"] = "ignore";
      break;
    case ResourceType::kSeed:
      c["materialized"] = "seed";
      c["persist_docs"] = Json::object();
      c["post-hook"] = Json::array();
      c["pre-hook"] = Json::array();
      c["quoting"] = Json::object();
      c["column_types"] = Json::object();
      c["full_refresh"] = nullptr;
      c["delimiter"] = ",";
      break;
    case ResourceType::kSnapshot:
      c["materialized"] = "snapshot";
      c["persist_docs"] = Json::object();
      c["post-hook"] = Json::array();
      c["pre-hook"] = Json::array();
      c["strategy"] = nullptr;
      c["unique_key"] = nullptr;
      break;
    case ResourceType::kTest:
      c["materialized"] = "test";
      c["severity"] = "ERROR";
      c["store_failures"] = nullptr;
      c["where"] = nullptr;
      c["limit"] = nullptr;
      c["fail_calc"] = "count(*)";
      c["warn_if"] = "!= 0";
      c["error_if"] = "!= 0";
      break;
    case ResourceType::kSource:
      c = Json::object({{"enabled", true}});
      break;
  }
  return c;
}

}  // namespace

const Json& default_config(ResourceType type) {
  // Built once: every node of a type starts from a copy of the same defaults.
  static const std::array<Json, 6> kDefaults = {
      build_default_config(ResourceType::kModel),    build_default_config(ResourceType::kSeed),
      build_default_config(ResourceType::kSnapshot), build_default_config(ResourceType::kTest),
      build_default_config(ResourceType::kSource),   build_default_config(ResourceType::kAnalysis)};
  return kDefaults[static_cast<size_t>(type)];
}

void apply_project_configs(const ParseState& state, const std::string& kind, const std::vector<std::string>& fqn,
                           Json& config, ConfigOrigins* where) {
  for (const ProjectConfig* p : {&state.out.project, state.root}) {
    if (!p) continue;
    auto tree = p->config_trees.find(kind);
    if (tree != p->config_trees.end()) apply_config_tree(tree->second, fqn, config, where);
  }
}

void add_node(ParseState& state, Node node) {
  // Property files patch models, seeds, snapshots and analyses by name; never tests.
  if (!node.is_test()) {
    std::string key = std::string(resource_type_name(node.resource_type)) + ":" + node.name;
    state.by_name.emplace(std::move(key), static_cast<long>(state.out.nodes.size()));
  }
  state.out.nodes.push_back(std::move(node));
}

}  // namespace detail

const std::string& package_root(const ParsedProject& project, const std::string& package_name) {
  for (const auto& package : project.packages)
    if (package.name == package_name) return package.root;
  return project.project.root;
}

std::string node_file_path(const ParsedProject& project, const Node& node) {
  return package_root(project, node.package_name) + "/" + node.original_file_path;
}

namespace {

std::string digest_hex(std::string_view text, const EVP_MD* md) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, md, nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace

std::string md5_hex(std::string_view text) {
  // Fetched once: EVP_md5() makes OpenSSL 3 look the algorithm up in its provider on every digest,
  // which cost more than hashing a test's name (one per generic test).
  static EVP_MD* const kMd5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  return digest_hex(text, kMd5 ? kMd5 : EVP_md5());
}

std::string sha256_hex(std::string_view text) {
  static EVP_MD* const kSha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return digest_hex(text, kSha256 ? kSha256 : EVP_sha256());
}

std::string generic_test_name(const std::string& test_name, const std::string& target_name, const Json& args) {
  std::vector<std::string> keys;
  for (auto it = args.begin(); it != args.end(); ++it)
    if (it.key() != "model") keys.push_back(it.key());
  std::sort(keys.begin(), keys.end());
  auto text = [](const Json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return std::string(v.get<bool>() ? "True" : "False");
    if (v.is_null()) return std::string("None");
    return v.dump();
  };
  std::vector<std::string> flat;
  for (const auto& k : keys) {
    const Json& v = args[k];
    if (v.is_object() || v.is_array()) {
      for (const auto& part : v) flat.push_back(text(part));
    } else {
      flat.push_back(text(v));
    }
  }
  for (auto& part : flat) {
    std::string clean;
    bool in_run = false;
    for (char c : part) {
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
        clean += c;
        in_run = false;
      } else if (!in_run) {
        clean += '_';
        in_run = true;
      }
    }
    part = clean;
  }
  std::string identifier = test_name + "_" + target_name;
  std::string full = identifier + "_" + join(flat, "__");
  if (full.size() >= 64) return identifier.substr(0, 30) + "_" + md5_hex(full);
  return full;
}

namespace {

// Reads a whole file with one read() when possible (the parser reads thousands of small files).
bool read_source(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0;
  out.clear();
  if (ok) {
    out.resize(static_cast<size_t>(st.st_size));
    size_t got = 0;
    while (got < out.size()) {
      ssize_t n = ::read(fd, out.data() + got, out.size() - got);
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    out.resize(got);
    // A file that reports no size (a pipe, procfs) is read to its end; a sized one needs no extra call.
    if (st.st_size == 0) {
      char extra[4096];
      for (ssize_t n; (n = ::read(fd, extra, sizeof extra)) > 0;) out.append(extra, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return ok;
}

SourceLocation locate_in(const std::string& file, std::string_view text, size_t offset) {
  int line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {file, line, col};
}

// Where `key` of an in-file config() call is written in node's file: its first occurrence after
// the first `config(`, else its first occurrence, else the node's start.
SourceLocation locate_file_config_key(const Node& node, const std::string& absolute, const std::string& key) {
  const std::string& code = node.raw_code;
  const size_t call = code.find("config(");
  // The key as a keyword argument: a whole word followed by `=` (not `target_schema` for `schema`).
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  size_t at = std::string::npos;
  for (size_t from = call == std::string::npos ? 0 : call; at == std::string::npos;) {
    const size_t found = code.find(key, from);
    if (found == std::string::npos) break;
    size_t after = found + key.size();
    while (after < code.size() && (code[after] == ' ' || code[after] == '\t')) ++after;
    const bool whole = (found == 0 || !is_word(code[found - 1])) && after < code.size() && code[after] == '=';
    if (whole) at = found;
    from = found + 1;
  }
  if (at == std::string::npos) at = code.find(key);
  SourceLocation where = locate_in(absolute, code, at == std::string::npos ? 0 : at);
  if (node.where.line > 1) where.line += node.where.line - 1;  // a snapshot block's body starts mid-file
  return where;
}

// Checks the keys of an in-file config() call; errors point at the key in the file.
Status check_file_config(const Node& node, const Json& config, const std::string& kind, const std::string& absolute) {
  for (auto it = config.begin(); it != config.end(); ++it) {
    std::string key = normalize_config_key(it.key());
    if (is_known_config_key(key, kind)) continue;
    std::string suggestion = suggest_config_key(key, kind);
    return Error(ErrorCode::kConfig, "unknown config key '" + it.key() + "' in config() of " + node.name,
                 locate_file_config_key(node, absolute, it.key()),
                 suggestion.empty() ? "remove it or use a config dbt knows" : "did you mean '" + suggestion + "'?");
  }
  return ok_status();
}

// The configs of a file's config() calls, with where each key is written.
struct FileConfig {
  Json config = Json::object();
  ConfigOrigins where;
};

// Applies the static scan of a SQL node: refs, sources, in-file configs. Sets `exact` to false
// when the scan could not see everything (the node is rendered once to find its refs).
Status apply_scan(Node& node, const std::string& kind, const std::string& absolute, FileConfig& file_config,
                  bool& exact) {
  StaticScan scan = static_scan(node.raw_code);
  if (!scan.error.empty())
    return Error(ErrorCode::kConfig, scan.error, {absolute, scan.error_line, scan.error_column});
  node.refs = std::move(scan.refs);
  node.sources = std::move(scan.sources);
  STRATA_TRY(check_file_config(node, scan.config, kind, absolute));
  for (auto it = scan.config.begin(); it != scan.config.end(); ++it) {
    const std::string key = normalize_config_key(it.key());
    file_config.config[key] = it.value();
    file_config.where[key] = config_origin(locate_file_config_key(node, absolute, it.key()));
  }
  exact = scan.exact;
  return ok_status();
}

// A node parsed from its file on a worker thread, added to the project afterwards in file order.
struct ParsedFile {
  Node node;
  FileConfig file_config;
  bool exact = true;
};

// Adds a parsed file's node: remembers whether it needs a render and its in-file config.
void add_parsed(ParseState& state, ParsedFile&& parsed, std::vector<FileConfig>& file_configs) {
  if (!parsed.exact) state.out.needs_render.push_back(state.out.nodes.size());
  file_configs.push_back(std::move(parsed.file_config));
  detail::add_node(state, std::move(parsed.node));
}

struct NodeFiles {
  ResourceType type;
  std::string kind;  // config tree name
  const std::vector<std::string>* dirs;
};

// Reads and scans one model/analysis/test file (`rel` inside `dir`); touches nothing shared.
Status parse_sql_file(const ParseState& state, const NodeFiles& spec, const std::string& dir, const std::string& rel,
                      ParsedFile& out) {
  const ProjectConfig& p = state.out.project;
  Node& node = out.node;
  node.resource_type = spec.type;
  node.package_name = p.name;
  std::vector<std::string> folders;
  detail::split_path(rel, folders, node.name);
  node.path = rel;
  node.original_file_path = join_path(dir, rel);
  const std::string absolute = p.root + "/" + node.original_file_path;
  if (!read_source(absolute, node.raw_code)) return Error(ErrorCode::kNotFound, "cannot read " + absolute);
  node.where = {absolute, 1, 1};
  node.fqn.reserve(folders.size() + 2);
  node.fqn.push_back(p.name);
  node.fqn.insert(node.fqn.end(), folders.begin(), folders.end());
  node.fqn.push_back(node.name);
  node.unique_id = std::string(resource_type_name(spec.type)) + "." + p.name + "." + node.name;
  node.config = detail::default_config(spec.type);
  detail::apply_project_configs(state, spec.kind, node.fqn, node.config, &node.config_where);
  return apply_scan(node, spec.kind, absolute, out.file_config, out.exact);
}

// Every .sql file of a resource's folders, parsed on a few threads (system calls and per-node
// allocations dominate) and added in sorted path order; the first error in that order wins.
Status parse_sql_nodes(ParseState& state, ProjectFiles& listing, const NodeFiles& spec,
                       std::vector<FileConfig>& file_configs) {
  for (const auto& dir : *spec.dirs) {
    std::vector<std::string> files;
    for (auto& rel : listing.list(dir, {".sql"}))
      if (spec.type != ResourceType::kTest || !starts_with(rel, "generic/")) files.push_back(std::move(rel));
    std::vector<ParsedFile> parsed(files.size());
    STRATA_TRY(parallel_for_status(files.size(), [&](size_t f) { return parse_sql_file(state, spec, dir, files[f], parsed[f]); }));
    // Room for these nodes and about as many generic tests saves moving every node (a large struct)
    // each time the vector grows.
    if (state.out.nodes.capacity() < state.out.nodes.size() + files.size())
      state.out.nodes.reserve(2 * (state.out.nodes.size() + files.size()) + 16);
    for (ParsedFile& one : parsed) add_parsed(state, std::move(one), file_configs);
  }
  return ok_status();
}

// `{% snapshot name %} … {% endsnapshot %}` blocks of one file.
Status parse_snapshot_file(ParseState& state, const std::string& dir, const std::string& rel,
                           std::vector<FileConfig>& file_configs) {
  const ProjectConfig& p = state.out.project;
  std::string original = join_path(dir, rel);
  std::string absolute = p.root + "/" + original;
  std::string text;
  if (!read_file(absolute, text)) return Error(ErrorCode::kNotFound, "cannot read " + absolute);
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{%", pos);
    if (open == std::string::npos) break;
    size_t close = text.find("%}", open);
    if (close == std::string::npos) break;
    std::string_view tag = trim(std::string_view(text).substr(open + 2, close - open - 2));
    if (!tag.empty() && tag.front() == '-') tag = trim(tag.substr(1));
    if (!tag.empty() && tag.back() == '-') tag = trim(tag.substr(0, tag.size() - 1));
    if (!starts_with(tag, "snapshot ")) {
      pos = close + 2;
      continue;
    }
    std::string name(trim(tag.substr(9)));
    size_t end = text.find("endsnapshot", close);
    if (end == std::string::npos)
      return Error(ErrorCode::kConfig, "snapshot '" + name + "' has no {% endsnapshot %}",
                   locate_in(absolute, text, open), "close the block with {% endsnapshot %}");
    size_t end_open = text.rfind("{%", end);
    size_t end_close = text.find("%}", end);
    Node node;
    node.resource_type = ResourceType::kSnapshot;
    node.name = name;
    node.package_name = p.name;
    node.path = rel;
    node.original_file_path = original;
    node.raw_code = text.substr(close + 2, end_open - close - 2);
    node.where = locate_in(absolute, text, open);
    std::vector<std::string> folders;
    std::string stem;
    detail::split_path(rel, folders, stem);
    node.fqn.push_back(p.name);
    node.fqn.insert(node.fqn.end(), folders.begin(), folders.end());
    node.fqn.push_back(stem);
    node.fqn.push_back(name);
    node.unique_id = "snapshot." + p.name + "." + name;
    node.config = detail::default_config(ResourceType::kSnapshot);
    detail::apply_project_configs(state, "snapshots", node.fqn, node.config, &node.config_where);
    ParsedFile parsed{std::move(node), {}, true};
    STRATA_TRY(apply_scan(parsed.node, "snapshots", absolute, parsed.file_config, parsed.exact));
    add_parsed(state, std::move(parsed), file_configs);
    pos = end_close == std::string::npos ? text.size() : end_close + 2;
  }
  return ok_status();
}

Status parse_seeds(ParseState& state, ProjectFiles& listing, std::vector<FileConfig>& file_configs) {
  const ProjectConfig& p = state.out.project;
  for (const auto& dir : p.seed_paths) {
    for (const auto& rel : listing.list(dir, {".csv"})) {
      Node node;
      node.resource_type = ResourceType::kSeed;
      node.package_name = p.name;
      std::vector<std::string> folders;
      detail::split_path(rel, folders, node.name);
      node.path = rel;
      node.original_file_path = join_path(dir, rel);
      node.where = {p.root + "/" + node.original_file_path, 1, 1};
      node.fqn.push_back(p.name);
      node.fqn.insert(node.fqn.end(), folders.begin(), folders.end());
      node.fqn.push_back(node.name);
      node.unique_id = "seed." + p.name + "." + node.name;
      node.config = detail::default_config(ResourceType::kSeed);
      detail::apply_project_configs(state, "seeds", node.fqn, node.config, &node.config_where);
      file_configs.emplace_back();
      detail::add_node(state, std::move(node));
    }
  }
  return ok_status();
}

// The text of a block from its opening tag (at `open`, ending at `close`) through the first
// `{% <end_tag> %}` after it (whitespace control allowed), or to the end of the text.
std::string block_text(const std::string& text, size_t open, size_t close, std::string_view end_tag) {
  size_t pos = close + 2;
  while (true) {
    size_t at = text.find("{%", pos);
    if (at == std::string::npos) return text.substr(open);
    size_t end = text.find("%}", at);
    if (end == std::string::npos) return text.substr(open);
    std::string_view tag = trim(std::string_view(text).substr(at + 2, end - at - 2));
    if (!tag.empty() && tag.front() == '-') tag = trim(tag.substr(1));
    if (!tag.empty() && tag.back() == '-') tag = trim(tag.substr(0, tag.size() - 1));
    if (tag == end_tag) return text.substr(open, end + 2 - open);
    pos = end + 2;
  }
}

// Macros ({% macro %}, {% test %}, {% materialization %}) and docs blocks of one file.
void scan_blocks(ParseState& state, const std::string& original, const std::string& text, bool docs_only) {
  const ProjectConfig& p = state.out.project;
  size_t pos = 0;
  while (true) {
    size_t open = text.find("{%", pos);
    if (open == std::string::npos) break;
    size_t close = text.find("%}", open);
    if (close == std::string::npos) break;
    std::string_view tag = trim(std::string_view(text).substr(open + 2, close - open - 2));
    if (!tag.empty() && tag.front() == '-') tag = trim(tag.substr(1));
    pos = close + 2;
    if (starts_with(tag, "docs ")) {
      std::string name(trim(tag.substr(5)));
      if (!name.empty() && name.back() == '-') name = std::string(trim(name.substr(0, name.size() - 1)));
      size_t end = text.find("enddocs", close);
      if (end == std::string::npos) break;
      size_t end_open = text.rfind("{%", end);
      state.out.docs.push_back({"doc." + p.name + "." + name, name, p.name, original,
                                std::string(trim(std::string_view(text).substr(close + 2, end_open - close - 2)))});
      continue;
    }
    if (docs_only) continue;
    bool is_macro = starts_with(tag, "macro ");
    bool is_test = starts_with(tag, "test ");
    bool is_mat = starts_with(tag, "materialization ");
    if (!is_macro && !is_test && !is_mat) continue;
    std::string_view rest = trim(tag.substr(tag.find(' ') + 1));
    size_t paren = rest.find_first_of("(,");
    std::string name(trim(rest.substr(0, paren)));
    if (is_test) name = "test_" + name;
    if (is_mat) {
      std::string adapter = "default";
      size_t a = rest.find("adapter");
      if (a != std::string::npos) {
        size_t q = rest.find_first_of("'\"", a);
        size_t q2 = q == std::string::npos ? q : rest.find(rest[q], q + 1);
        if (q2 != std::string::npos) adapter = std::string(rest.substr(q + 1, q2 - q - 1));
      }
      name = "materialization_" + name + "_" + adapter;
    }
    MacroDef m;
    m.name = name;
    m.package_name = p.name;
    m.unique_id = "macro." + p.name + "." + name;
    m.original_file_path = original;
    m.path = original;
    m.line = locate_in("", text, open).line;
    m.macro_sql = block_text(text, open, close, is_macro ? "endmacro" : is_test ? "endtest" : "endmaterialization");
    if (paren != std::string::npos && rest[paren] == '(') {
      size_t end = rest.rfind(')');
      for (auto& arg : split(rest.substr(paren + 1, end == std::string_view::npos ? 0 : end - paren - 1), ',')) {
        std::string a(trim(arg));
        auto eq = a.find('=');
        if (eq != std::string::npos) a = std::string(trim(a.substr(0, eq)));
        if (!a.empty()) m.arguments.push_back(a);
      }
    }
    state.out.macros.push_back(std::move(m));
  }
}

Status parse_macros_and_docs(ParseState& state, ProjectFiles& listing) {
  const ProjectConfig& p = state.out.project;
  std::vector<std::pair<std::string, std::string>> macro_dirs;
  for (const auto& d : p.macro_paths) macro_dirs.emplace_back(d, "");
  for (const auto& d : p.test_paths) macro_dirs.emplace_back(d + "/generic", "");
  for (const auto& [dir, unused] : macro_dirs) {
    for (const auto& rel : listing.list(dir, {".sql", ".jinja"})) {
      MacroFile file{p.name, join_path(dir, rel), p.root + "/" + join_path(dir, rel), ""};
      if (!read_file(file.absolute_path, file.contents))
        return Error(ErrorCode::kNotFound, "cannot read " + file.absolute_path);
      scan_blocks(state, file.original_file_path, file.contents, false);
      state.out.macro_files.push_back(std::move(file));
    }
  }
  for (const auto& dir : p.docs_paths) {
    for (const auto& rel : listing.list(dir, {".md"})) {
      std::string text;
      if (read_file(p.root + "/" + join_path(dir, rel), text)) scan_blocks(state, join_path(dir, rel), text, true);
    }
  }
  return ok_status();
}

Status parse_selectors(ParseState& state) {
  std::string file = state.out.project.root + "/selectors.yml";
  if (!fs::exists(file)) return ok_status();
  YamlOptions options;
  options.env = state.env;
  STRATA_ASSIGN(YamlDocument doc, load_yaml_file(file, options));
  const YamlNode list = doc.root["selectors"];
  if (!list || !list.is_sequence())
    return doc.error(doc.root, "selectors.yml must have a `selectors:` list", "see dbt's YAML selectors reference");
  for (const auto& item : list) {
    if (!item.is_map() || !item["name"] || !item["definition"])
      return doc.error(item, "a selector needs `name` and `definition`");
    SelectorDef def;
    def.name = item["name"].scalar();
    if (item["description"]) def.description = item["description"].scalar();
    if (item["default"]) {
      STRATA_ASSIGN(def.is_default, yaml_bool(doc, item["default"], "default"));
    }
    def.definition = yaml_to_json(item["definition"]);
    def.where = doc.where(item);
    state.out.selectors.push_back(std::move(def));
  }
  return ok_status();
}

// The property files (.yml/.yaml) of every resource folder, read as YAML on a thread of their own
// while the SQL files are parsed; applied afterwards in folder and path order.
class PropertyFiles {
 public:
  PropertyFiles(const ProjectConfig& p, ProjectFiles& listing, const EnvLookup& env) {
    for (const auto* dirs : {&p.model_paths, &p.seed_paths, &p.snapshot_paths, &p.analysis_paths, &p.macro_paths,
                             &p.test_paths})
      for (const auto& dir : *dirs)
        for (auto& rel : listing.list(dir, {".yml", ".yaml"})) files_.push_back({dir, std::move(rel), std::nullopt});
    YamlOptions options;
    options.env = env;
    reader_ = std::jthread([this, root = p.root, options] {
      for (File& f : files_) f.doc = load_yaml_file(root + "/" + join_path(f.dir, f.rel), options);
    });
  }
  PropertyFiles(const PropertyFiles&) = delete;  // the reader thread points at this object
  PropertyFiles& operator=(const PropertyFiles&) = delete;

  // Waits for the reader, then applies each file. Errors: the first file's YAML or property error.
  Status apply(ParseState& state) {
    reader_.join();
    for (File& f : files_) {
      STRATA_TRY(*f.doc);
      STRATA_TRY(detail::parse_property_file(state, **f.doc, f.dir, f.rel));
    }
    return ok_status();
  }

 private:
  struct File {
    std::string dir;
    std::string rel;
    std::optional<Result<YamlDocument>> doc;
  };
  std::vector<File> files_;
  std::jthread reader_;  // last: joined (by its destructor) before files_ goes
};

// Parses the files of one project (the root or an installed package) into state.out.
Status parse_files(ParseState& state) {
  const ProjectConfig& p = state.out.project;
  std::vector<FileConfig> file_configs;
  ProjectFiles listing(p.root);
  PropertyFiles property_files(p, listing, state.env);
  STRATA_TRY(parse_sql_nodes(state, listing, {ResourceType::kModel, "models", &p.model_paths}, file_configs));
  STRATA_TRY(parse_sql_nodes(state, listing, {ResourceType::kAnalysis, "analyses", &p.analysis_paths}, file_configs));
  STRATA_TRY(parse_sql_nodes(state, listing, {ResourceType::kTest, "tests", &p.test_paths}, file_configs));
  for (const auto& dir : p.snapshot_paths)
    for (const auto& rel : listing.list(dir, {".sql"}))
      STRATA_TRY(parse_snapshot_file(state, dir, rel, file_configs));
  STRATA_TRY(parse_seeds(state, listing, file_configs));
  STRATA_TRY(parse_macros_and_docs(state, listing));
  size_t file_node_count = state.out.nodes.size();
  // Property files add generic tests; room for about one per node saves moving every node (a large
  // struct) when the vector grows. It still grows when there are more.
  state.out.nodes.reserve(2 * file_node_count + 16);
  STRATA_TRY(property_files.apply(state));
  // In-file config() wins over property files and the project tree.
  std::vector<bool> inexact(file_node_count, false);
  for (size_t i : state.out.needs_render)
    if (i < file_node_count) inexact[i] = true;
  parallel_for(file_node_count, [&](size_t i) {
    Node& node = state.out.nodes[i];
    if (inexact[i] && !file_configs[i].config.empty()) node.config_before_file = node.config;
    merge_configs(node.config, node.config_where, file_configs[i].config, file_configs[i].where);
  });
  return ok_status();
}

// Parses the installed packages (see packages.h) and adds their nodes, macros and docs to
// root.out, each with its package's name; the packages' configs go to root.out.packages.
Status parse_packages(ParseState& root) {
  STRATA_ASSIGN(std::vector<ProjectConfig> packages, load_installed_packages(root.out.project, root.env));
  for (ProjectConfig& package : packages) {
    ParseState state;
    state.env = root.env;
    state.out.project = std::move(package);
    state.root = &root.out.project;
    STRATA_TRY(parse_files(state));
    ParsedProject& from = state.out;
    ParsedProject& to = root.out;
    for (size_t i : from.needs_render) to.needs_render.push_back(i + to.nodes.size());
    std::move(from.nodes.begin(), from.nodes.end(), std::back_inserter(to.nodes));
    std::move(from.macros.begin(), from.macros.end(), std::back_inserter(to.macros));
    std::move(from.macro_files.begin(), from.macro_files.end(), std::back_inserter(to.macro_files));
    std::move(from.docs.begin(), from.docs.end(), std::back_inserter(to.docs));
    to.warnings.insert(to.warnings.end(), from.warnings.begin(), from.warnings.end());
    to.packages.push_back(std::move(from.project));
  }
  return ok_status();
}

}  // namespace

Status check_unique_ids(const std::vector<Node>& nodes, const std::vector<bool>& undecided) {
  std::unordered_map<std::string_view, size_t> seen;
  seen.reserve(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    if (!n.enabled() || (i < undecided.size() && undecided[i])) continue;
    auto [it, inserted] = seen.emplace(n.unique_id, i);
    if (!inserted)
      return Error(ErrorCode::kConfig,
                   "two resources share the unique id " + n.unique_id + ": " + nodes[it->second].original_file_path +
                       " and " + n.original_file_path,
                   n.where, "rename one of them, or disable one (config enabled=false)");
  }
  return ok_status();
}

Result<ParsedProject> parse_project(ProjectConfig project, const EnvLookup& env) {
  ParseState state;
  state.env = env;
  state.out.project = std::move(project);
  const ProjectConfig& p = state.out.project;
  STRATA_TRY(parse_files(state));
  STRATA_TRY(parse_selectors(state));
  STRATA_TRY(parse_packages(state));

  // A node whose own config() call disables it, in Jinja the static scan could not read exactly
  // (the call may sit in a branch not taken), stays until the parse-time render decides.
  // Nor do such nodes that may set enabled count as duplicates yet (two versions of a model, each
  // enabled by a condition, are dbt's pattern): the render checks again.
  std::vector<bool> undecided(state.out.nodes.size(), false), may_toggle(state.out.nodes.size(), false);
  for (size_t i : state.out.needs_render) {
    const Node& n = state.out.nodes[i];
    undecided[i] = !n.enabled() && n.config_location("enabled").file == n.where.file;
    may_toggle[i] = undecided[i] || n.raw_code.find("enabled") != std::string::npos;
    state.out.nodes[i].enabled_undecided = may_toggle[i];
  }
  STRATA_TRY(check_unique_ids(state.out.nodes, may_toggle));
  parallel_for(state.out.nodes.size(), [&](size_t i) { state.out.nodes[i].refresh_tags_and_meta(); });
  auto disabled = [&](size_t i) { return !undecided[i] && !state.out.nodes[i].enabled(); };
  bool any_disabled = false;
  for (size_t i = 0; i < state.out.nodes.size() && !any_disabled; ++i) any_disabled = disabled(i);
  // Split off disabled nodes; keep needs_render indexes pointing at the right nodes.
  if (any_disabled) {
    std::vector<Node> enabled;
    enabled.reserve(state.out.nodes.size());
    std::vector<long> remap(state.out.nodes.size(), -1);
    for (size_t i = 0; i < state.out.nodes.size(); ++i) {
      Node& n = state.out.nodes[i];
      if (!disabled(i)) {
        remap[i] = static_cast<long>(enabled.size());
        enabled.push_back(std::move(n));
      } else {
        state.out.disabled.push_back(std::move(n));
      }
    }
    std::vector<size_t> render;
    for (size_t i : state.out.needs_render)
      if (remap[i] >= 0) render.push_back(static_cast<size_t>(remap[i]));
    state.out.needs_render = std::move(render);
    state.out.nodes = std::move(enabled);
  }
  state.out.warnings.insert(state.out.warnings.end(), p.warnings.begin(), p.warnings.end());
  link_macro_dependencies(state.out);
  return std::move(state.out);
}

}  // namespace strata::transform

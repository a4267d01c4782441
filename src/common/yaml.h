#pragma once
// YAML loading (libyaml) that keeps the file, line and column of every node, so configuration errors can
// point at file:line:col, and replaces `{{ env_var('NAME') }}` and
// `{{ env_var('NAME', 'default') }}` in scalar values (as dbt does in profiles.yml). Other Jinja in
// values is left untouched for the layer that renders it.

#include <memory>
#include <string>
#include <string_view>
#include <vector>


#include <nlohmann/json.hpp>

#include "common/env.h"
#include "common/error.h"
#include "common/result.h"
#include "common/secrets.h"

namespace strata {

struct YamlOptions {
  EnvLookup env = process_env();
  // When set, values read from secret-looking variables (is_secret_env_name) are registered.
  SecretMasker* masker = nullptr;
  // When false, env_var calls are left in place.
  bool substitute_env = true;
  // When false (a file no later Jinja renders, e.g. a connection file), a template in a value
  // that is not an env_var call is an error instead of text; when true (dbt's files), only an
  // env_var call left unclosed is.
  bool other_jinja = true;
  // When true (Strata's own files), a key repeated in one mapping is an error naming both places;
  // when false (dbt's files, as PyYAML reads them), the last value wins.
  bool unique_keys = false;
};

struct YamlEntry;
struct YamlData;

// One node of a parsed YAML document: undefined (a missing key), null, scalar, sequence or map.
// Immutable once parsed; a copy shares the subtree (a reference count), so passing nodes by value
// is cheap. Safe to read from several threads.
class YamlNode {
 public:
  enum class Type { kUndefined, kNull, kScalar, kSequence, kMap };
  using const_iterator = std::vector<YamlEntry>::const_iterator;

  YamlNode() = default;  // undefined

  Type type() const;
  bool is_defined() const { return data_ != nullptr; }
  explicit operator bool() const { return is_defined(); }
  bool is_null() const { return type() == Type::kNull; }
  bool is_scalar() const { return type() == Type::kScalar; }
  bool is_sequence() const { return type() == Type::kSequence; }
  bool is_map() const { return type() == Type::kMap; }
  // The text of a scalar (escapes resolved, env_var substituted); empty for any other node.
  const std::string& scalar() const;
  // True for a scalar written quoted or as a block (| or >), or tagged !!str: always a string,
  // never a number, boolean or null.
  bool is_quoted() const;
  // True for a scalar whose text went through env_var substitution (it held a template), so its
  // value came from the environment rather than the file.
  bool is_templated() const;
  // 0-based position of the node's first character; -1 when the node is undefined.
  int line() const;
  int column() const;
  // Items of a sequence, entries of a map, 0 otherwise.
  size_t size() const;
  // The value of a map's key (the last one when a key repeats); undefined when missing or not a map.
  YamlNode operator[](std::string_view key) const;
  // A sequence's item; undefined when out of range or not a sequence.
  YamlNode operator[](size_t index) const;
  // Iterates a sequence's items (each entry is the item itself) or a map's entries (entry.first
  // is the key, entry.second the value). Empty for other nodes.
  const_iterator begin() const;
  const_iterator end() const;

 private:
  friend class YamlBuilder;
  explicit YamlNode(std::shared_ptr<const YamlData> data) : data_(std::move(data)) {}
  std::shared_ptr<const YamlData> data_;
};

// An element of iteration: for a sequence the entry is the item; for a map, first and second.
struct YamlEntry : YamlNode {
  YamlNode first;
  YamlNode second;
};

// A parsed YAML file: its first (and only) document.
struct YamlDocument {
  std::string file;
  YamlNode root;

  // The 1-based position of a node in this file (line 0 when unknown).
  SourceLocation where(const YamlNode& node) const;
  // A kConfig error located at node.
  Error error(const YamlNode& node, std::string message, std::string hint = {}) const;
};

// Parses a file (YAML 1.1 through libyaml: anchors, aliases and `<<` merge keys resolved; a plain
// empty, ~ or null scalar is a null node). Errors: kNotFound when unreadable, kConfig (located) for
// syntax errors, unknown aliases, more than one document, and an env_var without default whose
// variable is unset.
Result<YamlDocument> load_yaml_file(const std::string& path, const YamlOptions& options = {});
Result<YamlDocument> load_yaml_string(std::string_view text, std::string file_name, const YamlOptions& options = {});

// Replaces every `{{ env_var(...) }}` call in one string. `where` locates errors.
Result<std::string> substitute_env_vars(std::string_view text, const YamlOptions& options,
                                        const SourceLocation& where);

// Typed access with located errors. `what` names the value in messages ("port", "sync_mode").
Result<std::string> yaml_string(const YamlDocument& doc, const YamlNode& node, std::string_view what);
Result<long long> yaml_int(const YamlDocument& doc, const YamlNode& node, std::string_view what);
Result<bool> yaml_bool(const YamlDocument& doc, const YamlNode& node, std::string_view what);

// A node as JSON: maps → objects (keys in file order), sequences → arrays, null → null; plain
// scalars that spell an integer, a float or true/false (any case) become numbers and booleans,
// quoted scalars stay strings. Undefined → null.
nlohmann::ordered_json yaml_to_json(const YamlNode& node);

}  // namespace strata

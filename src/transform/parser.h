#pragma once
// Parses a whole dbt project from disk into nodes, macros and doc blocks: models (.sql), seeds
// (.csv), snapshots ({% snapshot %} blocks and YAML-defined), singular tests, analyses, property
// files (version: 2 — models, columns, tests, seeds, snapshots, sources, macros), docs blocks, and
// selectors.yml. Needs no warehouse connection. Errors are located (file:line:col) and kConfig.
// parse_project is a pure function of the files on disk; the result is an immutable value.

#include <map>
#include <string>
#include <vector>

#include "common/env.h"
#include "common/result.h"
#include "transform/node.h"
#include "transform/project.h"

namespace strata::transform {

// A selector from selectors.yml: `definition` is kept as JSON (a string or a method/union/
// intersection tree) and evaluated by the selection module.
struct SelectorDef {
  std::string name;
  std::string description;
  bool is_default = false;
  Json definition;
  SourceLocation where;
};

// The text of a macro file, for the Jinja layer to load.
struct MacroFile {
  std::string package_name;
  std::string original_file_path;  // relative to the project root
  std::string absolute_path;
  std::string contents;
};

struct ParsedProject {
  ProjectConfig project;
  // The installed packages (dbt_packages/…), sorted by folder; their nodes, macros and docs are in
  // the lists below with package_name set to the package's name.
  std::vector<ProjectConfig> packages;
  std::vector<Node> nodes;          // enabled nodes (models, seeds, snapshots, tests, analyses, sources)
  std::vector<Node> disabled;       // nodes with enabled=false
  std::vector<MacroDef> macros;
  std::vector<MacroFile> macro_files;
  std::vector<DocBlock> docs;
  std::vector<SelectorDef> selectors;
  std::vector<std::string> warnings;
  // Nodes whose SQL the static scan could not read exactly; the Jinja layer re-renders them to find
  // their refs/sources/configs.
  std::vector<size_t> needs_render;
};

// Parses the project rooted at project.root, then the packages installed under its
// packages-install-path: each with its own dbt_project.yml (paths, config trees), whose config
// trees apply before the root project's. Errors (kConfig, located): invalid YAML, property
// files with wrong shapes, unknown config keys in `config:` blocks or config() calls, malformed
// ref()/source() calls, duplicate node names, snapshot blocks without end.
Result<ParsedProject> parse_project(ProjectConfig project, const EnvLookup& env);

// dbt's rule: no two enabled nodes share a unique id. Nodes marked `undecided` (whose enabled a
// parse-time render decides) are left out. Errors (kConfig, located at the second node).
Status check_unique_ids(const std::vector<Node>& nodes, const std::vector<bool>& undecided = {});

// Adds to node's refs/sources what its foreign key constraints' `to:` name (`ref('m')`), as dbt 1.9
// does, so the referenced relation is built first.
void add_foreign_key_dependencies(Node& node);

// The folder of a package: an installed package's, else the root project's.
const std::string& package_root(const ParsedProject& project, const std::string& package_name);
// The absolute path of a node's file: its package's folder joined with its original_file_path.
std::string node_file_path(const ParsedProject& project, const Node& node);

// The name dbt gives a generic test: "<test>_<model>_<args…>" (≥ 64 characters → truncated + md5).
std::string generic_test_name(const std::string& test_name, const std::string& target_name, const Json& args);
// Lower-case hex md5 / sha256 of text.
std::string md5_hex(std::string_view text);
std::string sha256_hex(std::string_view text);

}  // namespace strata::transform

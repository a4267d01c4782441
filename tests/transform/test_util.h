#pragma once
// Helpers for the transform tests: the shop project's path, and writing small projects to disk.

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "transform/graph.h"
#include "transform/parser.h"
#include "transform/project.h"

namespace strata::transform::testing {

inline std::string shop_project_dir() { return std::string(STRATA_SOURCE_DIR) + "/tests/transform/projects/shop"; }

// Writes files (relative path → contents) under dir, creating folders.
inline void write_files(const std::string& dir, const std::map<std::string, std::string>& files) {
  for (const auto& [rel, text] : files) {
    std::filesystem::path p = std::filesystem::path(dir) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
  }
}

// Loads, parses and links a project; the Error when any step fails.
inline Result<Graph> load_graph(const std::string& dir) {
  EnvLookup env = map_env({});
  STRATA_ASSIGN(auto project, load_project(dir, env));
  STRATA_ASSIGN(auto parsed, parse_project(std::move(project), env));
  return Graph::build(std::move(parsed));
}

inline const Node* find_node(const Graph& g, const std::string& unique_id_prefix) {
  for (size_t i = 0; i < g.size(); ++i)
    if (g.node(i).unique_id.rfind(unique_id_prefix, 0) == 0) return &g.node(i);
  return nullptr;
}

}  // namespace strata::transform::testing

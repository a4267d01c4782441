// Benchmark: generated dbt projects of 1,000 / 10,000 / 100,000 models (layered, each referring to
// 1–3 upstream models, half with tests). Prints parse + link + relation-resolution time for each.
// Usage: transform_bench [BUILD_DIR] [--sizes 1000,10000,100000]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/strings.h"
#include "transform/graph.h"
#include "transform/parser.h"
#include "transform/project.h"
#include "transform/relations.h"

namespace fs = std::filesystem;
using namespace strata;
using namespace strata::transform;

namespace {

// Writes a project with `models` models in layers of 100; model k refers to 1–3 models of earlier layers.
void generate(const std::string& dir, int models) {
  fs::remove_all(dir);
  fs::create_directories(dir + "/models");
  std::ofstream(dir + "/dbt_project.yml") << "name: bench\nprofile: bench\nconfig-version: 2\n"
                                             "models:\n  bench:\n    +materialized: view\n";
  std::mt19937 rng(42);
  const int per_layer = 100;
  std::string schema = "version: 2\nmodels:\n";
  for (int k = 0; k < models; ++k) {
    int layer = k / per_layer;
    std::string folder = dir + "/models/layer_" + std::to_string(layer);
    if (k % per_layer == 0) fs::create_directories(folder);
    std::string sql;
    if (layer == 0) {
      sql = "select " + std::to_string(k) + " as id, 'x' as name\n";
    } else {
      int refs = 1 + static_cast<int>(rng() % 3);
      sql = "select a.id, a.name\nfrom {{ ref('m" + std::to_string(rng() % (layer * per_layer)) + "') }} a\n";
      for (int r = 1; r < refs; ++r)
        sql += "join {{ ref('m" + std::to_string(rng() % (layer * per_layer)) + "') }} b" + std::to_string(r) +
               " using (id)\n";
    }
    std::ofstream(folder + "/m" + std::to_string(k) + ".sql") << sql;
    if (k % 2 == 0) schema += "  - name: m" + std::to_string(k) + "\n    columns:\n      - name: id\n        tests: [unique, not_null]\n";
  }
  std::ofstream(dir + "/models/schema.yml") << schema;
}

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes = {1000, 10000, 100000};
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--sizes" && i + 1 < argc) {
      sizes.clear();
      for (auto& s : split(argv[++i], ',')) sizes.push_back(std::stoi(s));
    }
  std::string base = (fs::temp_directory_path() / ("strata-transform-bench-" + std::to_string(getpid()))).string();
  EnvLookup env = map_env({});
  for (int n : sizes) {
    std::string dir = base + "/p" + std::to_string(n);
    generate(dir, n);
    auto t0 = std::chrono::steady_clock::now();
    auto project = load_project(dir, env);
    if (!project.ok()) { std::fprintf(stderr, "%s\n", project.error().to_string().c_str()); return 1; }
    auto parsed = parse_project(std::move(*project), env);
    if (!parsed.ok()) { std::fprintf(stderr, "%s\n", parsed.error().to_string().c_str()); return 1; }
    double parse_ms = ms_since(t0);
    auto t1 = std::chrono::steady_clock::now();
    auto graph = Graph::build(std::move(*parsed));
    if (!graph.ok()) { std::fprintf(stderr, "%s\n", graph.error().to_string().c_str()); return 1; }
    TargetInfo target;
    auto st = resolve_relations(*graph, target, sql::duckdb_dialect(), nullptr);
    if (!st.ok()) { std::fprintf(stderr, "%s\n", st.error().to_string().c_str()); return 1; }
    double link_ms = ms_since(t1);
    std::printf("models=%-7d nodes=%-7zu parse=%.1f ms  graph+relations=%.1f ms  total=%.1f ms\n", n, graph->size(),
                parse_ms, link_ms, parse_ms + link_ms);
    std::fflush(stdout);
  }
  fs::remove_all(base);
  return 0;
}

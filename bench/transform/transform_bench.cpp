// Benchmark: generated dbt projects of 1,000 / 10,000 / 100,000 models (layered, each referring to
// 1–3 upstream models, half with tests). Prints parse, link + relation resolution, and compile
// (Jinja render of every model and test) time for each; parsing, linking and compiling use up to
// 4 of the machine's cores, as the strata commands do. The machine's load is printed alongside.
// Usage: transform_bench [BUILD_DIR] [--sizes 1000,10000,100000]
#include <atomic>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/parallel.h"
#include "common/strings.h"
#include "transform/compiler.h"
#include "transform/graph.h"
#include "transform/parser.h"
#include "transform/project.h"
#include "transform/relations.h"
#include "transform/runner.h"
#include "transform/selection.h"
#include "warehouse/warehouse.h"
#include <sstream>
#include <thread>
#include <cstdlib>

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

// CPU time of the whole process in ms: on a loaded machine it is steadier than wall time.
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
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
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) > 0) std::printf("machine load average: %.1f (%u cores)\n", load[0], std::thread::hardware_concurrency());
  for (int n : sizes) {
    std::string dir = base + "/p" + std::to_string(n);
    generate(dir, n);
    auto t0 = std::chrono::steady_clock::now();
    double cpu0 = cpu_ms();
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
    // Compile: render every model and test through the Jinja engine (execute=False, no warehouse).
    auto t2 = std::chrono::steady_clock::now();
    CompilerOptions copts;
    copts.target = target;
    copts.env = env;
    auto compiler = Compiler::create(*graph, copts);
    if (!compiler.ok()) { std::fprintf(stderr, "%s\n", compiler.error().to_string().c_str()); return 1; }
    // On the machine's cores (at most 4), as `strata compile` spreads nodes over its threads.
    RenderOptions ro;
    ro.execute = false;
    std::atomic<size_t> bytes{0};
    std::atomic<bool> failed{false};
    parallel_for(graph->size(), [&](size_t i) {
      const Node& node = graph->node(i);
      if (node.resource_type != ResourceType::kModel && node.resource_type != ResourceType::kTest) return;
      auto sql = (*compiler)->compile(i, ro);
      if (!sql.ok()) {
        if (!failed.exchange(true)) std::fprintf(stderr, "%s\n", sql.error().to_string().c_str());
        return;
      }
      bytes += sql->size();
    });
    if (failed) return 1;
    double compile_ms = ms_since(t2);
    double cpu_total = cpu_ms() - cpu0;
    std::printf("models=%-7d nodes=%-7zu parse=%.1f ms  graph+relations=%.1f ms  compile=%.1f ms  total=%.1f ms"
                "  (cpu %.1f ms, %zu threads)  (%zu bytes of SQL)\n", n, graph->size(), parse_ms, link_ms, compile_ms,
                parse_ms + link_ms + compile_ms, cpu_total, parallel_threads(graph->size()), bytes.load());
    std::fflush(stdout);
    if (n != 1000) continue;
    // Per-model overhead of a run: every model is a view (layer 0 selects constants), one thread.
    auto db = warehouse::open_duckdb(dir + "/bench.duckdb");
    if (!db.ok()) { std::fprintf(stderr, "%s\n", db.error().to_string().c_str()); return 1; }
    SelectionRequest request;
    request.resource_types = {ResourceType::kModel};
    auto selected = select_nodes(*graph, request);
    if (!selected.ok()) return 1;
    RunOptions ro_run;
    ro_run.command = RunCommand::kRun;
    ro_run.threads = 1;
    std::ostringstream sink;
    auto t3 = std::chrono::steady_clock::now();
    double cpu3 = cpu_ms();
    auto summary = run_nodes(*graph, **compiler, **db, *selected, ro_run, sink);
    double run_ms = ms_since(t3);
    double run_cpu = cpu_ms() - cpu3;
    if (!summary.ok()) { std::fprintf(stderr, "%s\n", summary.error().to_string().c_str()); return 1; }
    std::printf("run models=%zu pass=%d error=%d wall=%.1f ms  per-model=%.2f ms  (cpu per-model %.2f ms)\n",
                selected->size(), summary->pass, summary->error, run_ms,
                run_ms / static_cast<double>(selected->size()), run_cpu / static_cast<double>(selected->size()));
    std::fflush(stdout);
  }
  fs::remove_all(base);
  return 0;
}

// Executor latency: end-to-end time of a chain of 40 no-op sql tasks (`select 1` on an in-memory
// DuckDB) and of a 1,000-task fan-out/fan-in, with p50/p99 "hop" latency: from the end of a task's
// last upstream to the start of the task. Real SQLite store in a temp folder, real log files.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/time.h"
#include "orchestrate/executor.h"
#include "orchestrate/sql_runner.h"
#include "orchestrate/sqlite_store.h"

using namespace strata;
using namespace strata::orchestrate;

namespace {

struct Recorder {
  std::mutex mu;
  std::map<std::string, int64_t> start, end;
  void on(const TaskEvent& e) {
    std::lock_guard lock(mu);
    if (e.state == TaskState::kRunning) start[e.task_id] = e.mono_micros;
    else if (is_finished(e.state)) end[e.task_id] = e.mono_micros;
  }
};

std::shared_ptr<const PipelineSpec> make_spec(const std::string& name, size_t n, bool chain) {
  auto spec = std::make_shared<PipelineSpec>();
  spec->name = name;
  for (size_t i = 0; i < n; ++i) {
    TaskSpec t;
    t.id = "t" + std::to_string(i);
    t.kind = TaskKind::kSql;
    t.command = "select 1";
    if (chain) {
      if (i > 0) t.upstream = {i - 1};
    } else if (i > 0 && i + 1 < n) {
      t.upstream = {0};
    } else if (i + 1 == n) {
      for (size_t k = 1; k + 1 < n; ++k) t.upstream.push_back(k);
    }
    spec->tasks.push_back(std::move(t));
  }
  return spec;
}

double percentile(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t idx = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return static_cast<double>(v[std::min(idx, v.size() - 1)]) / 1000.0;
}

int bench(const std::string& label, size_t n, bool chain, const std::string& dir, warehouse::Database& db) {
  auto store = SqliteStore::open(dir + "/" + label + ".db");
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.error().to_string().c_str());
    return 1;
  }
  Recorder rec;
  ExecutorOptions options;
  options.workers = 8;
  options.log_root = dir + "/logs";
  options.project_dir = dir;
  options.on_task_event = [&rec](const TaskEvent& e) { rec.on(e); };
  RunnerMap runners{{TaskKind::kSql, std::make_shared<SqlRunner>([&db](const std::string&) {
                       return Result<warehouse::Database*>(&db);
                     })}};
  SystemClock clock;
  Executor executor(**store, runners, clock, options);
  auto spec = make_spec(label, n, chain);
  RunRecord run;
  run.run_id = "bench";
  run.pipeline = label;
  run.queued_at = now_micros();
  if (!(*store)->create_run(run).ok()) return 1;
  const int64_t t0 = monotonic_micros();
  Status s = executor.start_run(spec, run);
  if (!s.ok()) {
    std::fprintf(stderr, "%s\n", s.error().to_string().c_str());
    return 1;
  }
  RunState state = executor.wait(run.pipeline, run.run_id);
  const int64_t total = monotonic_micros() - t0;
  std::vector<int64_t> hops;
  for (const auto& task : spec->tasks) {
    if (task.upstream.empty()) continue;
    int64_t ready = 0;
    for (size_t up : task.upstream) ready = std::max(ready, rec.end[spec->tasks[up].id]);
    hops.push_back(rec.start[task.id] - ready);
  }
  std::printf("%-22s tasks=%-5zu state=%-8s total=%8.1f ms  hop p50=%6.3f ms  p99=%6.3f ms  max=%6.3f ms\n",
              label.c_str(), n, std::string(run_state_name(state)).c_str(), static_cast<double>(total) / 1000.0,
              percentile(hops, 0.5), percentile(hops, 0.99), percentile(hops, 1.0));
  return state == RunState::kSuccess ? 0 : 1;
}

}  // namespace

int main() {
  const std::string dir = std::filesystem::temp_directory_path() / ("strata_bench_orch_" + std::to_string(now_micros()));
  std::filesystem::create_directories(dir);
  auto db = warehouse::open_duckdb(":memory:");
  if (!db.ok()) {
    std::fprintf(stderr, "%s\n", db.error().to_string().c_str());
    return 1;
  }
  int rc = 0;
  rc |= bench("chain_40", 40, true, dir, **db);
  rc |= bench("fan_out_in_1000", 1000, false, dir, **db);
  std::printf("goals: chain_40 total <= 200 ms; hop p99 <= 10 ms; fan_out_in_1000 total <= 2000 ms\n");
  std::filesystem::remove_all(dir);
  return rc;
}

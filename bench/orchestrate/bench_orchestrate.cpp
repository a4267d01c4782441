// Executor latency: end-to-end time of a chain of 40 no-op sql tasks (`select 1` on an in-memory
// DuckDB) and of a 1,000-task fan-out/fan-in, with p50/p99 "hop" latency: from the end of a task's
// last upstream to the start of the task. Real SQLite store in a temp folder, real log files.
// Then executor mode workers (Airflow's Celery executor): a chain of 20 such tasks handed to an
// in-process strata worker on its own store connection, with the default intervals, on the SQLite
// store (polled) and, when STRATA_BENCH_PG_URL names a database, on the PostgreSQL store (work
// watch: LISTEN/NOTIFY). Its total is what the worker hand-offs cost; its hops are the executor's
// (an attempt starts when it is queued for a worker).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/time.h"
#include "orchestrate/executor.h"
#include "orchestrate/pg_store.h"
#include "orchestrate/remote_runner.h"
#include "orchestrate/sql_runner.h"
#include "orchestrate/sqlite_store.h"
#include "orchestrate/worker.h"

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

RunnerMap sql_runners(warehouse::Database& db) {
  return RunnerMap{{TaskKind::kSql, std::make_shared<SqlRunner>([&db](const std::string&) {
                      return Result<warehouse::Database*>(&db);
                    })}};
}

// Runs `spec` once on `store` with `runners` (8 executor threads); prints its total and hops.
int run_and_report(const std::string& label, const std::shared_ptr<const PipelineSpec>& spec, MetadataStore& store,
                   const RunnerMap& runners, const std::string& dir) {
  Recorder rec;
  ExecutorOptions options;
  options.workers = 8;
  options.log_root = dir + "/logs";
  options.project_dir = dir;
  options.on_task_event = [&rec](const TaskEvent& e) { rec.on(e); };
  SystemClock clock;
  Executor executor(store, runners, clock, options);
  RunRecord run;
  run.run_id = "bench";
  run.pipeline = label;
  run.queued_at = now_micros();
  if (!store.create_run(run).ok()) return 1;
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
  std::printf("%-26s tasks=%-5zu state=%-8s total=%8.1f ms  hop p50=%6.3f ms  p99=%6.3f ms  max=%6.3f ms\n",
              label.c_str(), spec->tasks.size(), std::string(run_state_name(state)).c_str(),
              static_cast<double>(total) / 1000.0, percentile(hops, 0.5), percentile(hops, 0.99),
              percentile(hops, 1.0));
  return state == RunState::kSuccess ? 0 : 1;
}

int bench(const std::string& label, size_t n, bool chain, const std::string& dir, warehouse::Database& db) {
  auto store = SqliteStore::open(dir + "/" + label + ".db");
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.error().to_string().c_str());
    return 1;
  }
  return run_and_report(label, make_spec(label, n, chain), **store, sql_runners(db), dir);
}

// A chain of `n` tasks run by a worker on `worker_store` for an executor on `store`.
int bench_workers(const std::string& label, size_t n, MetadataStore& store, MetadataStore& worker_store,
                  const std::string& dir, warehouse::Database& db) {
  auto spec = make_spec(label, n, true);
  WorkerOptions options;
  options.id = "bench:1";
  options.log_root = dir + "/worker_logs";
  options.project_dir = dir;
  Worker worker(worker_store, sql_runners(db),
                [spec](const std::string& name, const std::string&) { return name == spec->name ? spec : nullptr; },
                options, Logger());
  std::thread serving([&worker] { worker.serve(); });
  auto remote = std::make_shared<RemoteRunner>(RemoteRunnerOptions{});
  const int rc = run_and_report(label, spec, store, RunnerMap{{TaskKind::kSql, remote}}, dir);
  worker.stop();
  serving.join();
  return rc;
}

// Opens the store of `which` ("sqlite" in dir, or "postgres" at url) twice: the scheduler's and the worker's.
int bench_workers_on(const std::string& which, const std::string& dir, const std::string& url,
                     warehouse::Database& db) {
  std::unique_ptr<MetadataStore> stores[2];
  for (auto& store : stores) {
    Result<std::unique_ptr<MetadataStore>> opened = Error(ErrorCode::kInternal, "");
    if (which == "sqlite") {
      auto s = SqliteStore::open(dir + "/workers.db");
      opened = s.ok() ? Result<std::unique_ptr<MetadataStore>>(std::move(s).value()) : s.error();
    } else {
      auto s = PgStore::open(PgStoreOptions{url, "strata_bench", nullptr});
      opened = s.ok() ? Result<std::unique_ptr<MetadataStore>>(std::move(s).value()) : s.error();
    }
    if (!opened.ok()) {
      std::fprintf(stderr, "%s\n", opened.error().to_string().c_str());
      return 1;
    }
    store = std::move(opened).value();
  }
  return bench_workers("workers_chain_20_" + which, 20, *stores[0], *stores[1], dir, db);
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
  rc |= bench_workers_on("sqlite", dir, "", **db);
  if (const char* url = std::getenv("STRATA_BENCH_PG_URL"); url && *url)
    rc |= bench_workers_on("postgres", dir, url, **db);
  else
    std::printf("(no STRATA_BENCH_PG_URL: the PostgreSQL store's workers chain is not run)\n");
  std::filesystem::remove_all(dir);
  return rc;
}

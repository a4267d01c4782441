#pragma once
// Test helpers: a temp project with a real SQLite store and an executor running real shell tasks.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "common/time.h"
#include "orchestrate/executor.h"
#include "orchestrate/pipeline.h"
#include "orchestrate/shell_runner.h"
#include "orchestrate/sqlite_store.h"
#include "orchestrate/worker.h"
#include "support/temp_dir.h"

namespace strata::orchestrate::testing {

inline std::shared_ptr<const PipelineSpec> parse_spec(const std::string& yaml, const std::string& name = "p") {
  auto doc = load_yaml_string(yaml, "pipelines/" + name + ".yml");
  EXPECT_TRUE(doc.ok()) << doc.error().to_string();
  auto spec = parse_pipeline(*doc, name);
  EXPECT_TRUE(spec.ok()) << spec.error().to_string();
  return std::make_shared<const PipelineSpec>(std::move(spec).value());
}

inline RunRecord new_run(const std::string& pipeline, const std::string& run_id, int64_t logical = 0) {
  RunRecord run;
  run.run_id = run_id;
  run.pipeline = pipeline;
  run.logical_date = run.interval_start = logical;
  run.interval_end = logical + 3600'000'000LL;
  run.queued_at = now_micros();
  return run;
}

struct Harness {
  strata::testing::TempDir dir;
  std::unique_ptr<SqliteStore> store;
  Harness() {
    auto s = SqliteStore::open(dir.file(".strata/strata.db"));
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    store = std::move(s).value();
  }
  ExecutorOptions options(int workers = 4) const {
    ExecutorOptions o;
    o.workers = workers;
    o.log_root = dir.file(".strata/logs");
    o.project_dir = dir.path();
    return o;
  }
  // Creates the run in the store and executes it to the end.
  RunState run(Executor& executor, std::shared_ptr<const PipelineSpec> spec, RunRecord run) {
    EXPECT_TRUE(store->ensure_pipeline(spec->name).ok());
    EXPECT_TRUE(store->create_run(run).ok());
    Status s = executor.start_run(spec, run);
    EXPECT_TRUE(s.ok()) << s.error().to_string();
    return executor.wait(run.pipeline, run.run_id);
  }
  std::map<std::string, TaskInstanceRecord> states(const std::string& run_id, const std::string& pipeline = "p") {
    std::map<std::string, TaskInstanceRecord> out;
    auto tis = store->task_instances(pipeline, run_id);
    EXPECT_TRUE(tis.ok());
    for (auto& ti : *tis) out[ti.task_id] = ti;
    return out;
  }
};

// True once the attempts running in the store are those of exactly `task_ids` (polled every
// 50 ms), false after `timeout_ms`. For tests that signal a process while tasks run.
inline bool wait_until_running(MetadataStore& store, const std::set<std::string>& task_ids, int timeout_ms = 20000) {
  for (int waited = 0; waited <= timeout_ms; waited += 50) {
    auto attempts = store.running_attempts();
    std::set<std::string> running;
    if (attempts.ok())
      for (const auto& a : *attempts) running.insert(a.task_id);
    if (attempts.ok() && attempts->size() == task_ids.size() && running == task_ids) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

inline RunnerMap shell_runners() { return RunnerMap{{TaskKind::kShell, std::make_shared<ShellRunner>()}}; }

// A Worker with the real ShellRunner on its own store (not null), running the pipeline `spec` on a
// thread until destroyed.
class ServingWorker {
 public:
  ServingWorker(std::unique_ptr<MetadataStore> store, std::shared_ptr<const PipelineSpec> spec, WorkerOptions options)
      : store_(std::move(store)) {
    worker_ = std::make_unique<Worker>(*store_, shell_runners(),
                                       [spec](const std::string& name, const std::string&) {
                                         return name == spec->name ? spec : nullptr;
                                       },
                                       std::move(options), Logger());
    thread_ = std::thread([this] { worker_->serve(); });
  }
  ~ServingWorker() {
    worker_->stop();
    thread_.join();
  }
  ServingWorker(const ServingWorker&) = delete;
  ServingWorker& operator=(const ServingWorker&) = delete;

 private:
  std::unique_ptr<MetadataStore> store_;
  std::unique_ptr<Worker> worker_;
  std::thread thread_;
};

}  // namespace strata::orchestrate::testing

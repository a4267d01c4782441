#pragma once
// Worker: the task-level worker of executor mode "workers" (`strata worker`, Airflow's Celery
// worker), fed through the metadata store by the schedulers' RemoteRunners (remote_runner.h).
// serve() loops until stop():
// - looks for queued work items of its queues and claims one per free slot (store claim_work:
//   one conditional UPDATE, so exactly one worker gets an item): when the store's work watch
//   signals an item queued on one of its queues (PostgreSQL: within milliseconds), and every
//   watched_poll_interval in case a signal was lost; without a watch (SQLite) every poll_interval;
// - runs each on its own thread with the project's local runner of the item's kind, the rendered
//   command the scheduler sent, the pipeline's and task's spec from its own copy of the project
//   (looked up by name through `PipelineLookup`) and the run from the store; the attempt's log is
//   a local file under log_root and is shipped to the store (append_work_log) while it is written;
// - heartbeats every running item every heartbeat_interval, and at once when the watch signals a
//   cancel of one; an item it no longer holds (the scheduler failed it as a zombie) or whose cancel
//   was requested has its attempt's CancelToken fired;
// - writes the result (finish_work) after the last log chunk.
// stop(): no more claims; running attempts are cancelled and end failed (kCancelled); serve()
// returns once they are written.
// Thread-safety: stop() from any thread; serve() from one thread, once. Store, runners and the
// lookup must outlive the worker; runners and lookup are called from the item threads.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "orchestrate/metadata_store.h"
#include "orchestrate/pipeline.h"
#include "orchestrate/task_runner.h"

namespace strata::orchestrate {

struct WorkerOptions {
  std::string id;                                  // recorded on the items it claims ("host:pid")
  std::vector<std::string> queues = {"default"};   // the queues it serves
  int concurrency = 4;                             // items running at once
  int64_t poll_interval = 500'000;                 // micros between looks for queued items
  int64_t watched_poll_interval = 5'000'000;       // ... while the store's work watch runs (if longer)
  int64_t heartbeat_interval = 5'000'000;          // micros between heartbeats of a running item
  int64_t log_ship_interval = 250'000;             // micros between shipments of new log text
  std::string log_root = ".strata/worker_logs";    // the local copies of its attempts' logs
  std::string project_dir = ".";
};

// The worker's spec of a pipeline by name, which should have the task (the lookup may re-read the
// project when it has not); nullptr when its project has no such pipeline.
using PipelineLookup =
    std::function<std::shared_ptr<const PipelineSpec>(const std::string& name, const std::string& task_id)>;

class Worker {
 public:
  // `logger` gets claims, results and store errors; its masker masks the attempts' logs too.
  Worker(MetadataStore& store, RunnerMap runners, PipelineLookup pipelines, WorkerOptions options, Logger logger);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Claims and runs items until stop(); returns when every attempt it started has been written.
  void serve();
  void stop();

 private:
  struct Active;

  // Claims up to `free` queued items and starts a thread for each; returns how many it claimed.
  int claim(int free);
  void run_item(Active& active);
  // The item's attempt with its kind's runner; ctx.exit_code goes to exit_code.
  Result<TaskOutcome> run_task(Active& active, TaskLog& log, std::optional<int>& exit_code);
  // Sends the log text gathered since the last shipment (in order; one shipment at a time).
  void ship_log(Active& active);
  // Heartbeats the running items; fires the tokens of the lost and the cancelled ones.
  void heartbeat_all();
  // Joins the threads of finished items; returns how many are still running.
  size_t reap();
  // The store's work watch's handler: marks a claim or a heartbeat due and wakes serve().
  void on_signal(const WorkSignal& signal);

  MetadataStore& store_;
  RunnerMap runners_;
  PipelineLookup pipelines_;
  WorkerOptions options_;
  Logger logger_;

  std::mutex mutex_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool claim_due_ = false;  // under mutex_: an item was queued on one of its queues
  bool check_due_ = false;  // under mutex_: a cancel of a running item may have been requested
  std::list<std::unique_ptr<Active>> active_;  // under mutex_; each entry's thread owns its item
};

}  // namespace strata::orchestrate

#include "orchestrate/worker.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

#include "common/time.h"

namespace strata::orchestrate {

struct Worker::Active {
  WorkItemRecord item;
  std::shared_ptr<CancelToken> cancel = std::make_shared<CancelToken>();
  std::thread thread;
  bool done = false;  // under Worker::mutex_
  std::mutex log_mutex;
  std::string unshipped;  // log text written since the last shipment; under log_mutex
  std::mutex ship_mutex;  // one shipment at a time, so chunks keep their order
  int64_t shipped_seq = 0;  // under ship_mutex
};

Worker::Worker(MetadataStore& store, RunnerMap runners, PipelineLookup pipelines, WorkerOptions options,
               Logger logger)
    : store_(store), runners_(std::move(runners)), pipelines_(std::move(pipelines)), options_(std::move(options)),
      logger_(std::move(logger)) {
  options_.concurrency = std::max(1, options_.concurrency);
}

Worker::~Worker() {
  stop();
  std::lock_guard lock(mutex_);
  for (auto& active : active_)
    if (active->thread.joinable()) active->thread.join();
}

void Worker::stop() {
  std::vector<std::shared_ptr<CancelToken>> running;
  {
    std::lock_guard lock(mutex_);
    if (stop_) return;
    stop_ = true;
    for (auto& active : active_) running.push_back(active->cancel);
  }
  for (auto& token : running) token->cancel("the worker is shutting down");
  cv_.notify_all();
}

void Worker::serve() {
  std::unique_ptr<WorkWatch> watch;
  if (auto watched = store_.watch_work([this](const WorkSignal& signal) { on_signal(signal); }); watched.ok())
    watch = std::move(watched).value();
  else
    logger_.warn("cannot watch the work queue, so it is polled: {}", watched.error().to_string());
  const int64_t poll_interval =
      watch ? std::max(options_.watched_poll_interval, options_.poll_interval) : options_.poll_interval;
  const size_t concurrency = static_cast<size_t>(options_.concurrency);
  int64_t next_poll = 0;
  int64_t next_beat = monotonic_micros() + options_.heartbeat_interval;
  for (;;) {
    bool stopping = false, claim_due = false, check_due = false;
    {
      std::lock_guard lock(mutex_);
      stopping = stop_;
      claim_due = claim_due_;
      check_due = check_due_;
      check_due_ = false;
    }
    const size_t running = reap();
    if (stopping && running == 0) return;
    int64_t now = monotonic_micros();
    if (!stopping && running < concurrency && (claim_due || now >= next_poll)) {
      {
        std::lock_guard lock(mutex_);
        claim_due_ = false;  // a signal while claiming sets it again
      }
      const int free = static_cast<int>(concurrency - running);
      if (claim(free) == free) {
        // Every slot filled: more may be queued (signalled before), to claim as slots free up.
        std::lock_guard lock(mutex_);
        claim_due_ = true;
      }
      next_poll = now + poll_interval;
    }
    std::vector<Active*> actives;
    {
      std::lock_guard lock(mutex_);
      for (auto& active : active_) actives.push_back(active.get());
    }
    // Entries are erased only by reap(), on this thread: the pointers stay valid here.
    for (Active* active : actives) ship_log(*active);
    if (check_due || now >= next_beat) {
      heartbeat_all();
      next_beat = monotonic_micros() + options_.heartbeat_interval;
    }
    now = monotonic_micros();
    const int64_t until_poll = stopping ? options_.log_ship_interval : std::max<int64_t>(0, next_poll - now);
    const int64_t wait = std::max<int64_t>(1000, std::min({options_.log_ship_interval, next_beat - now, until_poll}));
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::microseconds(wait), [&] {
      if (stop_ != stopping || check_due_) return true;
      size_t busy = 0;
      for (const auto& active : active_) {
        if (active->done) return true;  // to reap, and a slot is free
        ++busy;
      }
      return claim_due_ && !stop_ && busy < concurrency;
    });
  }
}

void Worker::on_signal(const WorkSignal& signal) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    switch (signal.kind) {
      case WorkSignal::Kind::kQueued:
        if (options_.queues.empty() ||
            std::find(options_.queues.begin(), options_.queues.end(), signal.queue) != options_.queues.end())
          claim_due_ = wake = true;
        break;
      case WorkSignal::Kind::kCancel:
        // Also for an item not listed yet (claimed a moment ago): cancels are rare.
        check_due_ = wake = true;
        break;
      case WorkSignal::Kind::kChanged:
        break;
      case WorkSignal::Kind::kMissed:
        claim_due_ = check_due_ = wake = true;
        break;
    }
  }
  if (wake) cv_.notify_all();
}

size_t Worker::reap() {
  std::lock_guard lock(mutex_);
  for (auto it = active_.begin(); it != active_.end();) {
    if ((*it)->done) {
      (*it)->thread.join();  // it only returns after setting done
      it = active_.erase(it);
    } else {
      ++it;
    }
  }
  return active_.size();
}

int Worker::claim(int free) {
  const int wanted = free;
  auto queued = store_.queued_work(options_.queues, free * 2);
  if (!queued.ok()) {
    logger_.error("cannot read the work queue: {}", queued.error().to_string());
    return 0;
  }
  for (const auto& item : *queued) {
    if (free == 0) break;
    auto won = store_.claim_work(item.key, options_.id, now_micros());
    if (!won.ok()) {
      logger_.error("cannot claim a work item: {}", won.error().to_string());
      break;
    }
    if (!*won) continue;  // another worker was first
    --free;
    logger_.info("claimed {} {} {} try {} (queue {})", item.key.pipeline, item.key.run_id, item.key.task_id,
                 item.key.try_number, item.queue);
    auto active = std::make_unique<Active>();
    active->item = item;
    Active& started = *active;
    bool stopping = false;
    {
      std::lock_guard lock(mutex_);
      stopping = stop_;
      active_.push_back(std::move(active));
      started.thread = std::thread([this, &started] { run_item(started); });
    }
    if (stopping) started.cancel->cancel("the worker is shutting down");
  }
  return wanted - free;
}

Result<TaskOutcome> Worker::run_task(Active& active, TaskLog& log, std::optional<int>& exit_code) {
  const WorkItemRecord& item = active.item;
  auto spec = pipelines_(item.key.pipeline, item.key.task_id);
  if (!spec)
    return Error(ErrorCode::kConfig,
                 "pipeline '" + item.key.pipeline + "' is not in this worker's project (" + options_.project_dir + ")",
                 {}, "deploy the same project to the schedulers and every worker");
  auto index = spec->find_task(item.key.task_id);
  if (!index)
    return Error(ErrorCode::kConfig,
                 "pipeline '" + item.key.pipeline + "' of this worker's project has no task '" + item.key.task_id + "'",
                 {}, "deploy the same project to the schedulers and every worker");
  STRATA_ASSIGN(auto run, store_.run(item.key.pipeline, item.key.run_id));
  if (!run)
    return Error(ErrorCode::kNotFound, "run '" + item.key.run_id + "' of pipeline '" + item.key.pipeline +
                                           "' is not in the metadata store");
  auto runner = runners_.find(item.kind);
  if (runner == runners_.end() || !runner->second)
    return Error(ErrorCode::kConfig,
                 "this worker has no runner for task kind '" + std::string(task_kind_name(item.kind)) + "'");
  TaskContext ctx{*spec, spec->tasks[*index], *run, item.key.try_number, item.command, options_.project_dir,
                  log, *active.cancel, store_};
  auto outcome = runner->second->run(ctx);
  exit_code = ctx.exit_code;
  return outcome;
}

void Worker::run_item(Active& active) {
  const WorkKey& key = active.item.key;
  const SecretMaskerPtr& masker = logger_.masker();
  Result<TaskOutcome> outcome = Error(ErrorCode::kInternal, "not run");
  std::optional<int> exit_code;
  auto log = TaskLog::open(task_log_path(options_.log_root, key.pipeline, key.run_id, key.task_id, key.try_number),
                           masker);
  if (!log.ok()) {
    outcome = log.error();
  } else {
    (*log)->set_tee([&active](std::string_view text) {
      std::lock_guard lock(active.log_mutex);
      active.unshipped.append(text);
    });
    (*log)->line("worker " + options_.id + " runs it (queue '" + active.item.queue + "')");
    outcome = run_task(active, **log, exit_code);
  }
  WorkResult result;
  result.exit_code = exit_code;
  if (outcome.ok()) {
    result.state = *outcome == TaskOutcome::kSkipped      ? TaskState::kSkipped
                   : *outcome == TaskOutcome::kReschedule ? TaskState::kUpForReschedule
                                                          : TaskState::kSuccess;
  } else {
    result.state = TaskState::kFailed;
    result.error_code = static_cast<int>(outcome.error().code()) | (outcome.error().is_final() ? kFinalErrorBit : 0);
    result.error = masker->mask(outcome.error().message());
    if (!outcome.error().hint().empty()) result.error += " (hint: " + masker->mask(outcome.error().hint()) + ")";
  }
  if (log.ok())
    (*log)->line(outcome.ok() ? "worker finished: " + std::string(task_state_name(result.state))
                              : "worker failed: " + result.error);
  ship_log(active);  // every line before the result: the scheduler reads the log to the end then
  result.at = now_micros();
  auto finished = store_.finish_work(key, options_.id, result);
  if (!finished.ok())
    logger_.error("cannot write the result of {} {} {} try {}: {}", key.pipeline, key.run_id, key.task_id,
                  key.try_number, finished.error().to_string());
  else if (!*finished)
    logger_.warn("{} {} {} try {} is no longer this worker's (the scheduler gave up on it); its result is dropped",
                 key.pipeline, key.run_id, key.task_id, key.try_number);
  else
    logger_.info("{} {} {} try {}: {}", key.pipeline, key.run_id, key.task_id, key.try_number,
                 task_state_name(result.state));
  {
    std::lock_guard lock(mutex_);
    active.done = true;
  }
  cv_.notify_all();
}

void Worker::ship_log(Active& active) {
  std::lock_guard ship(active.ship_mutex);
  std::string text;
  {
    std::lock_guard lock(active.log_mutex);
    text.swap(active.unshipped);
  }
  if (text.empty()) return;
  Status sent = store_.append_work_log(active.item.key, active.shipped_seq + 1, text);
  if (!sent.ok()) {
    // Kept for the next shipment, ahead of what was written since.
    std::lock_guard lock(active.log_mutex);
    active.unshipped.insert(0, text);
    logger_.warn("cannot ship a task log to the metadata store: {}", sent.error().to_string());
    return;
  }
  ++active.shipped_seq;
}

void Worker::heartbeat_all() {
  std::vector<Active*> actives;
  {
    std::lock_guard lock(mutex_);
    for (auto& active : active_)
      if (!active->done) actives.push_back(active.get());
  }
  for (Active* active : actives) {
    const WorkKey& key = active->item.key;
    auto held = store_.heartbeat_work(key, options_.id, now_micros());
    if (!held.ok()) {
      logger_.warn("cannot heartbeat a work item: {}", held.error().to_string());
      continue;
    }
    if (!*held) {
      active->cancel->cancel("this worker no longer holds the work item (the scheduler gave up on it)");
      continue;
    }
    auto item = store_.work_item(key);
    if (item.ok() && item->has_value() && (*item)->cancel_requested)
      active->cancel->cancel((*item)->cancel_reason.empty() ? "cancelled" : (*item)->cancel_reason);
  }
}

}  // namespace strata::orchestrate

#include "orchestrate/remote_runner.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "common/time.h"

namespace strata::orchestrate {
namespace {

// Wakes run()'s wait as soon as the attempt's token fires. Shared with the token's callback.
struct Wakeup {
  std::mutex mutex;
  std::condition_variable cv;
  bool fired = false;

  void fire() {
    {
      std::lock_guard lock(mutex);
      fired = true;
    }
    cv.notify_all();
  }
  // Returns after `micros`, or early once after each fire().
  void wait(int64_t micros) {
    std::unique_lock lock(mutex);
    cv.wait_for(lock, std::chrono::microseconds(micros), [&] { return fired; });
    fired = false;
  }
};

// Removes the callback when run() returns.
class CancelSubscription {
 public:
  CancelSubscription(CancelToken& token, std::shared_ptr<Wakeup> wakeup)
      : token_(token), id_(token.on_cancel([wakeup] { wakeup->fire(); })) {}
  ~CancelSubscription() { token_.remove(id_); }
  CancelSubscription(const CancelSubscription&) = delete;
  CancelSubscription& operator=(const CancelSubscription&) = delete;

 private:
  CancelToken& token_;
  int id_;
};

std::string seconds_text(int64_t micros) { return std::to_string((micros + 500'000) / 1'000'000) + " s"; }

// Shows the worker as the running attempt's owner at once (the executor records it again at the
// end, TaskContext::ran_on). Best effort: the end's write does not depend on it.
void record_worker(TaskContext& ctx, const std::string& worker) {
  auto attempts = ctx.store.attempts(ctx.run.pipeline, ctx.run.run_id, ctx.task.id);
  if (!attempts.ok()) return;
  for (auto attempt : *attempts)
    if (attempt.try_number == ctx.try_number && attempt.state == TaskState::kRunning) {
      attempt.owner = worker;
      (void)ctx.store.upsert_attempt(attempt);
    }
}

}  // namespace

// The run() calls waiting on work items, woken by the work watch of the store they use.
class RemoteRunner::Watchers {
 public:
  ~Watchers() {
    std::unique_ptr<WorkWatch> watch;
    {
      std::lock_guard lock(mutex_);
      watch = std::move(watch_);
    }
    watch.reset();  // joins the watch's thread, which may be waiting for mutex_
  }

  // Wakes `wakeup` on signals about `key` until unsubscribe(); opens the store's watch at the
  // first call. Returns whether the key is watched (false: the caller polls at poll_interval).
  bool subscribe(MetadataStore& store, const WorkKey& key, const std::shared_ptr<Wakeup>& wakeup, TaskLog& log) {
    std::lock_guard lock(mutex_);
    if (!store_) {
      store_ = &store;
      auto watch = store.watch_work([this](const WorkSignal& signal) { on_signal(signal); });
      if (watch.ok())
        watch_ = std::move(watch).value();
      else
        log.line("cannot watch the work queue, so it is polled: " + watch.error().message());
    }
    if (store_ != &store || !watch_) return false;
    waiting_.emplace_back(key, wakeup);
    return true;
  }
  void unsubscribe(const std::shared_ptr<Wakeup>& wakeup) {
    std::lock_guard lock(mutex_);
    std::erase_if(waiting_, [&](const auto& entry) { return entry.second == wakeup; });
  }

 private:
  void on_signal(const WorkSignal& signal) {
    if (signal.kind == WorkSignal::Kind::kQueued) return;
    std::lock_guard lock(mutex_);
    for (const auto& [key, wakeup] : waiting_)
      if (signal.kind == WorkSignal::Kind::kMissed || key == signal.key) wakeup->fire();
  }

  std::mutex mutex_;
  MetadataStore* store_ = nullptr;  // the store the watch is on
  std::vector<std::pair<WorkKey, std::shared_ptr<Wakeup>>> waiting_;
  std::unique_ptr<WorkWatch> watch_;
};

RemoteRunner::RemoteRunner(RemoteRunnerOptions options)
    : options_(options), watchers_(std::make_unique<Watchers>()) {}

RemoteRunner::~RemoteRunner() = default;

std::optional<ExecutorMode> parse_executor_mode(std::string_view name) {
  if (name == "local") return ExecutorMode::kLocal;
  if (name == "workers") return ExecutorMode::kWorkers;
  return std::nullopt;
}

ErrorCode work_error_code(int code) {
  if (code < 0 || code > static_cast<int>(ErrorCode::kInternal)) return ErrorCode::kFailed;
  return static_cast<ErrorCode>(code);
}

Result<TaskOutcome> RemoteRunner::run(TaskContext& ctx) {
  MetadataStore& store = ctx.store;
  WorkItemRecord item;
  item.key = WorkKey{ctx.run.pipeline, ctx.run.run_id, ctx.task.id, ctx.try_number};
  item.kind = ctx.task.kind;
  item.queue = ctx.task.queue;
  item.command = ctx.command;
  const WorkKey& key = item.key;
  // Subscribed before the item exists, so that no signal about it comes before.
  auto wakeup = std::make_shared<Wakeup>();
  CancelSubscription subscription(ctx.cancel, wakeup);
  const bool watched = watchers_->subscribe(store, key, wakeup, ctx.log);
  const int64_t poll_interval =
      watched ? std::max(options_.watched_poll_interval, options_.poll_interval) : options_.poll_interval;
  struct Unsubscribe {
    Watchers& watchers;
    const std::shared_ptr<Wakeup>& wakeup;
    ~Unsubscribe() { watchers.unsubscribe(wakeup); }
  } unsubscribe{*watchers_, wakeup};
  item.enqueued_at = now_micros();
  STRATA_TRY(store.enqueue_work(item));
  ctx.log.line("queued for a strata worker on queue '" + item.queue + "'");

  int64_t log_seq = 0;
  auto copy_log = [&] {
    auto chunks = store.work_log(key, log_seq);
    if (!chunks.ok()) return;
    for (const auto& [seq, text] : *chunks) {
      ctx.log.write(text);
      log_seq = seq;
    }
  };
  int64_t seen_beat = -1;
  const int64_t queued_at = monotonic_micros();
  int64_t beat_changed_at = queued_at;  // also: the last time the store answered
  int64_t cancel_sent_at = 0;
  std::string withdrawn;  // why the item was withdrawn unclaimed
  for (;;) {
    if (ctx.cancel.cancelled() && cancel_sent_at == 0) {
      Status sent = store.request_cancel_work(key, ctx.cancel.reason(), now_micros());
      if (sent.ok()) cancel_sent_at = monotonic_micros();
    }
    copy_log();
    auto read = store.work_item(key);
    const int64_t mono = monotonic_micros();
    if (!read.ok() || !read->has_value()) {
      // The store is unreachable (or lost the item): give up once that lasted a worker timeout.
      if (mono - beat_changed_at > options_.worker_timeout)
        return Error(ErrorCode::kFailed, "the work item of this attempt could not be read for " +
                                             seconds_text(mono - beat_changed_at) +
                                             (read.ok() ? "" : ": " + read.error().message()));
      wakeup->wait(poll_interval);
      continue;
    }
    const WorkItemRecord& w = **read;
    if (!w.worker.empty() && ctx.ran_on != w.worker) {
      ctx.ran_on = w.worker;
      ctx.log.line("claimed by worker " + w.worker);
      record_worker(ctx, w.worker);
    }
    if (w.state == TaskState::kUpForReschedule) {
      copy_log();
      return TaskOutcome::kReschedule;
    }
    if (is_finished(w.state)) {
      copy_log();
      if (!withdrawn.empty() && w.worker.empty()) return Error(ErrorCode::kFailed, withdrawn);
      if (w.has_exit_code) ctx.exit_code = w.exit_code;
      if (w.state == TaskState::kSuccess) return TaskOutcome::kSuccess;
      if (w.state == TaskState::kSkipped) return TaskOutcome::kSkipped;
      Error failed(work_error_code(w.error_code & ~kFinalErrorBit),
                   w.error.empty() ? "the worker failed the task" : w.error);
      return (w.error_code & kFinalErrorBit) != 0 ? std::move(failed).as_final() : failed;
    }
    if (w.state != TaskState::kRunning || w.heartbeat_at != seen_beat) {
      seen_beat = w.heartbeat_at;
      beat_changed_at = mono;  // a queued item waits for a worker as long as it takes
    } else if (mono - beat_changed_at > options_.worker_timeout) {
      const std::string why = "worker " + w.worker + " sent no heartbeat for " +
                              seconds_text(mono - beat_changed_at) + ": it is taken for dead (a zombie task)";
      WorkResult result;
      result.state = TaskState::kFailed;
      result.error_code = static_cast<int>(ErrorCode::kFailed);
      result.error = why;
      result.at = now_micros();
      auto failed = store.finish_work(key, w.worker, result);
      if (failed.ok() && *failed) return Error(ErrorCode::kFailed, why);
      continue;  // it finished meanwhile: read its result
    }
    if (w.state == TaskState::kQueued && withdrawn.empty() && mono - queued_at > options_.queued_timeout) {
      // Fails the item only while it is queued: a worker claiming it meanwhile is asked to stop.
      const std::string why = "no strata worker serving queue '" + item.queue + "' claimed this task within " +
                              seconds_text(options_.queued_timeout);
      if (store.request_cancel_work(key, why, now_micros()).ok()) withdrawn = why;
      continue;
    }
    if (cancel_sent_at != 0 && mono - cancel_sent_at > options_.worker_timeout) {
      WorkResult result;
      result.state = TaskState::kFailed;
      result.error_code = static_cast<int>(ErrorCode::kCancelled);
      result.error = "cancelled (" + ctx.cancel.reason() + "); worker " + w.worker + " did not stop it within " +
                     seconds_text(options_.worker_timeout);
      result.at = now_micros();
      auto given_up = store.finish_work(key, w.worker, result);
      if (given_up.ok() && *given_up) return Error(ErrorCode::kCancelled, result.error);
      continue;
    }
    wakeup->wait(poll_interval);
  }
}

}  // namespace strata::orchestrate

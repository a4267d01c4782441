#include "orchestrate/executor.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "common/time.h"
#include "orchestrate/trigger_rules.h"

namespace strata::orchestrate {

namespace {

// The events of a task's outlets in `run`, recorded in the name of its build task when it has one.
void add_outlet_events(const RunRecord& run, const TaskSpec& task, std::vector<DatasetEventRecord>& out) {
  const std::string& source = task.outlets_build.empty() ? task.id : task.outlets_build;
  for (const auto& uri : task.outlets) out.push_back(DatasetEventRecord{0, uri, 0, run.pipeline, run.run_id, source, "{}"});
}

}  // namespace

struct Executor::Node {
  std::vector<size_t> children;
  TaskState state = TaskState::kNone;
  int try_number = 0;
  int max_tries = 1;
  int64_t start_at = 0;
  int64_t end_at = 0;
  int64_t next_retry_at = 0;
  // A sensor in reschedule mode between pokes: its first poke's start (its timeout counts from
  // there, and it pokes again in the same try); 0 otherwise.
  int64_t first_poke_at = 0;
  // A sensor in reschedule mode: the first poke of its first try since the run started or was
  // cleared. As Airflow's, its timeout counts from there across retries too; 0 before that poke.
  int64_t sensor_since = 0;
  // Picked but not started (its pool full elsewhere, depends_on_past not met): recorded queued once
  // per reason, which `note` holds meanwhile.
  bool wait_recorded = false;
  std::string note;
  std::shared_ptr<CancelToken> cancel;
  std::multimap<int64_t, std::pair<Executor::RunExec*, size_t>>::iterator timeout;
  bool has_timeout = false;
};

struct Executor::RunExec {
  std::shared_ptr<const PipelineSpec> spec;
  RunRecord run;
  std::vector<Node> nodes;
  size_t unfinished = 0;
  int running = 0;
  bool finalized = false;
  // Written under the executor's mutex; also read by a worker finishing an attempt without it.
  std::atomic<bool> cancelled = false;
  // Pendings of this run gathered but not yet written (see flush); under the mutex.
  int flushing = 0;
  // Its entry in run_deadlines_ (dagrun_timeout); under the mutex.
  std::multimap<int64_t, RunKey>::iterator deadline;
  bool has_deadline = false;
  // Per `build:` task with outlets: how many of the tasks it expanded into have not succeeded yet
  // (queue_outlets_locked announces its outlets when that reaches 0); under the mutex.
  std::map<std::string, int> build_unfinished;
  TemplateContext templates;
};

struct Executor::Pending {
  RunExec* run = nullptr;  // set by gathered_locked
  std::vector<TaskInstanceRecord> task_instances;
  std::vector<TaskEvent> events;
  std::vector<DatasetEventRecord> dataset_events;
  std::vector<std::pair<std::string, int>> closed_attempts;  // (task, try) of cancelled sensors between pokes
  std::optional<RunRecord> finished_run;
};

Executor::Executor(MetadataStore& store, RunnerMap runners, Clock& clock, ExecutorOptions options)
    : store_(store), runners_(std::move(runners)), clock_(clock), options_(std::move(options)),
      logger_(options_.masker) {
  if (!options_.pools.count("default_pool")) options_.pools["default_pool"] = 128;
  clock_subscription_ = clock_.subscribe([this] {
    std::lock_guard lock(mutex_);
    timer_cv_.notify_all();
  });
  const int workers = std::max(1, options_.workers);
  for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { worker_loop(); });
  threads_.emplace_back([this] { timer_loop(); });
}

Executor::~Executor() { shutdown(); }

void Executor::shutdown() {
  std::vector<std::shared_ptr<CancelToken>> running;
  {
    std::lock_guard lock(mutex_);
    if (stop_) return;
    stop_ = true;
    for (auto& [id, run] : runs_)
      for (auto& node : run->nodes)
        if (node.state == TaskState::kRunning && node.cancel) running.push_back(node.cancel);
  }
  for (auto& token : running) token->cancel("the executor is shutting down");
  work_cv_.notify_all();
  timer_cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
  clock_.unsubscribe(clock_subscription_);
  {
    std::lock_guard lock(mutex_);
    joined_ = true;
  }
  done_cv_.notify_all();
}

TaskInstanceRecord Executor::record_of(const RunExec& run, size_t i) const {
  const TaskSpec& task = run.spec->tasks[i];
  const Node& node = run.nodes[i];
  TaskInstanceRecord ti;
  ti.pipeline = run.run.pipeline;
  ti.run_id = run.run.run_id;
  ti.task_id = task.id;
  ti.group = task.group;
  ti.kind = task.kind;
  ti.state = node.state;
  ti.try_number = node.try_number;
  ti.max_tries = node.max_tries;
  ti.start_at = node.start_at;
  ti.end_at = node.end_at;
  ti.next_retry_at = node.next_retry_at;
  ti.pool = task.pool;
  ti.priority = task.priority;
  ti.note = node.note;
  return ti;
}

void Executor::emit(const RunExec& run, size_t i, TaskState state, int try_number, int64_t mono) {
  if (!options_.on_task_event) return;
  options_.on_task_event(TaskEvent{run.run.pipeline, run.run.run_id, run.spec->tasks[i].id, state, try_number, mono});
}

Status Executor::start_run(std::shared_ptr<const PipelineSpec> spec, RunRecord run) {
  for (const auto& task : spec->tasks)
    if (!options_.pools.count(task.pool))
      return Error(ErrorCode::kConfig, "task '" + task.id + "' uses pool '" + task.pool + "', which is not defined",
                   task.where, "define it in pools.yml (pools: {" + task.pool + ": 4}) or remove `pool:`");
  if (run.pipeline != spec->name)
    return Error(ErrorCode::kInternal, "run '" + run.run_id + "' of pipeline '" + run.pipeline +
                                           "' started with the spec of '" + spec->name + "'");
  STRATA_ASSIGN(auto existing, store_.task_instances(run.pipeline, run.run_id));
  auto exec = std::make_unique<RunExec>();
  exec->spec = spec;
  std::vector<DatasetEventRecord> triggering;
  if (run.type == RunType::kDatasetTriggered) { STRATA_ASSIGN(triggering, store_.run_dataset_events(run.pipeline, run.run_id)); }
  exec->templates = run_template_context(run, spec->params, triggering,
                                         spec->datasets ? spec->datasets->uris() : std::vector<std::string>{});
  exec->nodes.resize(spec->tasks.size());
  for (size_t i = 0; i < spec->tasks.size(); ++i) {
    exec->nodes[i].max_tries = spec->tasks[i].retry.retries + 1;
    for (size_t up : spec->tasks[i].upstream) exec->nodes[up].children.push_back(i);
  }
  for (const auto& ti : existing) {
    auto index = spec->find_task(ti.task_id);
    if (!index) continue;
    Node& node = exec->nodes[*index];
    node.try_number = ti.try_number;
    node.max_tries = std::max(node.max_tries, ti.max_tries);  // a cleared task's tries were raised
    node.start_at = ti.start_at;
    node.end_at = ti.end_at;
    node.next_retry_at = ti.next_retry_at;
    if (is_finished(ti.state) || is_waiting(ti.state)) node.state = ti.state;
    // Only if the task is still a sensor in reschedule mode (the file may have changed meanwhile);
    // otherwise it starts a new try.
    const TaskSpec& task = spec->tasks[*index];
    if (ti.state == TaskState::kUpForReschedule && task.kind == TaskKind::kSensor && task.sensor.reschedule)
      node.first_poke_at = ti.start_at;
    if (task.kind == TaskKind::kSensor && task.sensor.reschedule && !is_finished(ti.state)) {
      // Its tries since the last clear (a clear raised max_tries) started with the first of them.
      STRATA_ASSIGN(auto attempts, store_.attempts(run.pipeline, run.run_id, ti.task_id));
      const int first_try = node.max_tries - task.retry.retries;
      for (const auto& a : attempts)
        if (a.try_number >= first_try && a.start_at > 0 && (node.sensor_since == 0 || a.start_at < node.sensor_since))
          node.sensor_since = a.start_at;
    }
  }
  for (size_t i = 0; i < spec->tasks.size(); ++i) {
    const std::string& build = spec->tasks[i].outlets_build;
    if (!build.empty()) exec->build_unfinished[build] += exec->nodes[i].state == TaskState::kSuccess ? 0 : 1;
  }
  run.state = RunState::kRunning;
  if (run.start_at == 0) run.start_at = clock_.now();
  run.end_at = 0;
  run.note.clear();  // why an earlier execution ended (a re-run of a failed run)
  run.owner = options_.owner;
  STRATA_TRY(store_.update_run(run));
  exec->run = run;
  Pending pending;
  STRATA_ASSIGN(pending.dataset_events, missed_outlets(*exec));

  {
    std::lock_guard lock(mutex_);
    if (stop_) return Error(ErrorCode::kFailed, "the executor is shut down");
    const RunKey key{run.pipeline, run.run_id};
    if (runs_.count(key))
      return Error(ErrorCode::kFailed, "run '" + run.run_id + "' of pipeline '" + run.pipeline + "' is executing already");
    finished_.erase(key);
    RunExec& r = *exec;
    runs_[key] = std::move(exec);
    if (spec->dagrun_timeout > 0) {
      r.deadline = run_deadlines_.emplace(run_deadline(r), key);
      r.has_deadline = true;
      timer_cv_.notify_all();
    }
    for (auto& node : r.nodes)
      if (!is_finished(node.state)) ++r.unfinished;
    for (size_t i = 0; i < r.nodes.size(); ++i) {
      if (is_waiting(r.nodes[i].state)) {
        retries_.emplace(r.nodes[i].next_retry_at, std::make_pair(&r, i));
        timer_cv_.notify_all();
      } else {
        evaluate_locked(r, i, pending);
      }
    }
    if (r.unfinished == 0) finish_node_locked(r, r.nodes.size(), pending);
    gathered_locked(r, pending);
  }
  flush(pending);
  return ok_status();
}

// Decides a task whose state is none from its upstream states; cascades skips and upstream failures.
void Executor::evaluate_locked(RunExec& run, size_t i, Pending& pending) {
  Node& node = run.nodes[i];
  if (node.state != TaskState::kNone) return;
  const TaskSpec& task = run.spec->tasks[i];
  UpstreamCounts counts;
  for (size_t up : task.upstream) counts.add(run.nodes[up].state);
  switch (evaluate_trigger(task.trigger_rule, counts)) {
    case TriggerDecision::kWait:
      return;
    case TriggerDecision::kRun:
      enqueue_locked(run, i);
      return;
    case TriggerDecision::kSkip:
      node.state = TaskState::kSkipped;
      break;
    case TriggerDecision::kUpstreamFailed:
      node.state = TaskState::kUpstreamFailed;
      break;
  }
  node.end_at = clock_.now();
  pending.task_instances.push_back(record_of(run, i));
  pending.events.push_back(
      TaskEvent{run.run.pipeline, run.run.run_id, task.id, node.state, node.try_number, monotonic_micros()});
  finish_node_locked(run, i, pending);
}

void Executor::enqueue_locked(RunExec& run, size_t i) {
  run.nodes[i].state = TaskState::kQueued;
  ready_.insert(ReadyItem{run.spec->tasks[i].priority, next_seq_++, &run, i});
  work_cv_.notify_one();
}

// Called when node i reached a finished state (or with i == size to check an already complete run).
void Executor::finish_node_locked(RunExec& run, size_t i, Pending& pending) {
  if (i < run.nodes.size()) {
    --run.unfinished;
    evaluate_children_locked(run, i, pending);
  }
  if (run.unfinished != 0 || run.running != 0 || run.finalized) return;
  run.finalized = true;
  bool failed = false;
  for (size_t k = 0; k < run.nodes.size(); ++k) {
    const bool leaf = run.nodes[k].children.empty();
    const TaskState s = run.nodes[k].state;
    if (leaf && (s == TaskState::kFailed || s == TaskState::kUpstreamFailed)) failed = true;
  }
  run.run.state = failed || run.cancelled ? RunState::kFailed : RunState::kSuccess;
  run.run.end_at = clock_.now();
  pending.finished_run = run.run;
}

void Executor::evaluate_children_locked(RunExec& run, size_t i, Pending& pending) {
  for (size_t child : run.nodes[i].children) evaluate_locked(run, child, pending);
}

void Executor::gathered_locked(RunExec& run, Pending& pending) {
  pending.run = &run;
  ++run.flushing;
}

void Executor::flush(Pending& pending) {
  for (const auto& ti : pending.task_instances) {
    Status s = store_.upsert_task_instance(ti);
    if (!s.ok()) logger_.error("{}", s.error().to_string());
  }
  for (const auto& [task_id, try_number] : pending.closed_attempts)
    close_attempt(pending.run->run.pipeline, pending.run->run.run_id, task_id, try_number);
  for (const auto& e : pending.dataset_events) {
    // A store that fails every try is logged: the event is recorded when the run resumes
    // (missed_outlets), if it does.
    Result<int64_t> added = Error(ErrorCode::kInternal, "not tried");
    for (int attempt = 0; attempt < kEventWriteTries && !added.ok(); ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100 * attempt));
      added = store_.add_dataset_event(e, clock_.now());
    }
    if (!added.ok()) logger_.error("dataset event on {} lost: {}", e.uri, added.error().to_string());
  }
  if (!pending.dataset_events.empty() && options_.on_dataset_event) options_.on_dataset_event();
  if (options_.on_task_event)
    for (const auto& e : pending.events) options_.on_task_event(e);
  if (pending.run) {
    // The run's end is written and announced only after every other pending of the run is
    // written: those gathered before it (by other workers) may still be on their way.
    std::unique_lock lock(mutex_);
    --pending.run->flushing;
    flushed_cv_.notify_all();
    if (pending.finished_run) flushed_cv_.wait(lock, [&] { return pending.run->flushing == 0; });
  }
  if (!pending.finished_run) return;
  const RunRecord& run = *pending.finished_run;
  Status s = store_.update_run(run);
  if (!s.ok()) logger_.error("{}", s.error().to_string());
  {
    std::lock_guard lock(mutex_);
    finished_[RunKey{run.pipeline, run.run_id}] = run.state;
    if (auto found = runs_.find(RunKey{run.pipeline, run.run_id}); found != runs_.end() && found->second->has_deadline)
      run_deadlines_.erase(found->second->deadline);
    runs_.erase(RunKey{run.pipeline, run.run_id});
  }
  done_cv_.notify_all();
  if (options_.on_run_finished) options_.on_run_finished(run);
}

bool Executor::pick_locked(ReadyItem& out) {
  for (auto it = ready_.begin(); it != ready_.end(); ++it) {
    const PipelineSpec& spec = *it->run->spec;
    const std::string& pool = spec.tasks[it->node].pool;
    if (pool_used_[pool] >= pool_slots(pool)) continue;
    if (spec.max_active_tasks > 0 && pipeline_running_[spec.name] >= spec.max_active_tasks) continue;
    out = *it;
    ready_.erase(it);
    ++pool_used_[pool];
    ++pipeline_running_[spec.name];
    return true;
  }
  return false;
}

void Executor::worker_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    ReadyItem item{};
    work_cv_.wait(lock, [&] { return stop_ || pick_locked(item); });
    if (item.run == nullptr) return;  // stopping and nothing picked
    RunExec& run = *item.run;
    Node& node = run.nodes[item.node];
    const TaskSpec& task = run.spec->tasks[item.node];
    node.state = TaskState::kRunning;
    const int64_t now = clock_.now();
    if (node.first_poke_at == 0) node.try_number += 1;  // a rescheduled sensor pokes in the same try
    node.start_at = node.first_poke_at != 0 ? node.first_poke_at : now;
    node.end_at = 0;
    node.next_retry_at = 0;
    node.cancel = std::make_shared<CancelToken>();
    ++run.running;
    if (task.retry.execution_timeout > 0) {
      node.timeout = timeouts_.emplace(now + task.retry.execution_timeout, std::make_pair(&run, item.node));
      node.has_timeout = true;
      timer_cv_.notify_all();
    }
    const int try_number = node.try_number;
    auto cancel = node.cancel;
    lock.unlock();
    std::string waiting;
    const bool started = run_attempt(run, item.node, try_number, cancel, waiting);
    lock.lock();
    Pending pending;
    --pool_used_[task.pool];
    --pipeline_running_[run.spec->name];
    --run.running;
    if (node.has_timeout) timeouts_.erase(node.timeout);
    node.has_timeout = false;
    node.cancel.reset();
    if (started) {
      node.wait_recorded = false;
      attempt_ended_locked(run, item.node, pending);
    } else {
      not_started_locked(run, item.node, pending, waiting);
    }
    work_cv_.notify_all();
    gathered_locked(run, pending);
    lock.unlock();
    flush(pending);
    lock.lock();
  }
}

void Executor::queue_outlets_locked(RunExec& run, size_t i, Pending& pending) {
  const TaskSpec& task = run.spec->tasks[i];
  if (task.outlets.empty()) return;
  if (!task.outlets_build.empty()) {
    int& left = run.build_unfinished[task.outlets_build];
    if (left <= 0 || --left > 0) return;
  }
  add_outlet_events(run.run, task, pending.dataset_events);
}

Result<std::vector<DatasetEventRecord>> Executor::missed_outlets(const RunExec& run) {
  std::vector<DatasetEventRecord> out;
  const auto& tasks = run.spec->tasks;
  auto succeeded_with_outlets = [&](size_t i) {
    return !tasks[i].outlets.empty() && run.nodes[i].state == TaskState::kSuccess;
  };
  bool any = false;
  for (size_t i = 0; i < tasks.size() && !any; ++i) any = succeeded_with_outlets(i);
  if (!any) return out;  // a new run, or nothing announced yet: no query
  STRATA_ASSIGN(auto recorded, store_.run_outlet_events(run.run.pipeline, run.run.run_id));
  std::set<std::string> announced;
  for (const auto& e : recorded) announced.insert(e.source_task_id);
  // A success marked by hand (its last attempt did not succeed) updated no data: no event, as in Airflow.
  auto ran_to_success = [&](size_t i) -> Result<bool> {
    STRATA_ASSIGN(auto attempts, store_.attempts(run.run.pipeline, run.run.run_id, tasks[i].id));
    return !attempts.empty() && attempts.back().state == TaskState::kSuccess;
  };
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (!succeeded_with_outlets(i)) continue;
    const std::string& build = tasks[i].outlets_build;
    const std::string& source = build.empty() ? tasks[i].id : build;
    if ((!build.empty() && run.build_unfinished.at(build) > 0) || announced.count(source)) continue;
    STRATA_ASSIGN(bool ran, ran_to_success(i));
    if (!ran) continue;
    announced.insert(source);
    add_outlet_events(run.run, tasks[i], out);
  }
  return out;
}

void Executor::attempt_ended_locked(RunExec& run, size_t i, Pending& pending) {
  Node& node = run.nodes[i];
  if (node.state == TaskState::kSuccess) queue_outlets_locked(run, i, pending);
  if (run.cancelled && is_waiting(node.state)) {
    node.state = TaskState::kFailed;
    node.next_retry_at = 0;
    node.first_poke_at = 0;
    pending.task_instances.push_back(record_of(run, i));
    pending.events.push_back(TaskEvent{run.run.pipeline, run.run.run_id, run.spec->tasks[i].id, node.state,
                                       node.try_number, monotonic_micros()});
  }
  if (is_waiting(node.state)) {
    retries_.emplace(node.next_retry_at, std::make_pair(&run, i));
    timer_cv_.notify_all();
  } else {
    finish_node_locked(run, i, pending);
  }
}

int Executor::pool_slots(const std::string& pool) const {
  auto found = options_.pools.find(pool);
  return found == options_.pools.end() ? 0 : found->second;
}

void Executor::not_started_locked(RunExec& run, size_t i, Pending& pending, const std::string& waiting) {
  Node& node = run.nodes[i];
  if (node.first_poke_at == 0) {
    node.try_number -= 1;
    node.start_at = 0;
  }
  if (run.cancelled) {  // cancel_run left this node to its worker
    node.note.clear();
    node.state = TaskState::kSkipped;
    node.end_at = clock_.now();
    pending.task_instances.push_back(record_of(run, i));
    pending.events.push_back(TaskEvent{run.run.pipeline, run.run.run_id, run.spec->tasks[i].id, node.state,
                                       node.try_number, monotonic_micros()});
    finish_node_locked(run, i, pending);
    return;
  }
  // Queued again when the timer finds it due (retries_ holds it, so a cancel drops it). The store
  // shows it queued with what it waits for, written once per reason rather than at every recheck.
  node.state = node.first_poke_at != 0 ? TaskState::kUpForReschedule : TaskState::kQueued;
  if (!node.wait_recorded || node.note != waiting) {
    node.wait_recorded = true;
    node.note = waiting;
    pending.task_instances.push_back(record_of(run, i));
  }
  retries_.emplace(clock_.now() + kPoolRecheckMicros, std::make_pair(&run, i));
  timer_cv_.notify_all();
}

void Executor::close_attempt(const std::string& pipeline, const std::string& run_id, const std::string& task_id,
                             int try_number) {
  auto attempts = store_.attempts(pipeline, run_id, task_id);
  if (!attempts.ok()) return logger_.error("{}", attempts.error().to_string());
  for (auto attempt : *attempts) {
    if (attempt.try_number != try_number || attempt.state != TaskState::kUpForReschedule) continue;
    attempt.state = TaskState::kSkipped;
    attempt.end_at = clock_.now();
    attempt.error = "the run was cancelled between two pokes";
    Status s = store_.upsert_attempt(attempt);
    if (!s.ok()) logger_.error("{}", s.error().to_string());
  }
}

Result<std::string> Executor::past_blocks(const RunExec& run, const TaskSpec& task) {
  // As Airflow: with catchup, the previous scheduled run (manual runs left out), else any.
  STRATA_ASSIGN(auto previous, store_.previous_run(run.run.pipeline, run.run.logical_date, run.spec->catchup));
  if (!previous) return std::string();
  const std::string where = "depends_on_past: its instance in the previous run (" + previous->run_id + ")";
  STRATA_ASSIGN(auto instances, store_.task_instances(previous->pipeline, previous->run_id));
  for (const auto& ti : instances)
    if (ti.task_id == task.id)
      return ti.state == TaskState::kSuccess || ti.state == TaskState::kSkipped
                 ? std::string()
                 : where + " is " + std::string(task_state_name(ti.state));
  // No instance: the task was not in that run, if it has ended; else it has not started there yet.
  if (previous->state == RunState::kSuccess || previous->state == RunState::kFailed) return std::string();
  return where + " has not run yet";
}

bool Executor::reschedules(const RunExec& run, const TaskSpec& task, const CancelToken& cancel, int64_t first_poke,
                           int64_t end, Node& node, Result<TaskOutcome>& outcome, std::string& note) {
  if (task.kind != TaskKind::kSensor || !task.sensor.reschedule) return false;
  const SensorSpec& sensor = task.sensor;
  if (!outcome.ok()) {
    // A poke stopped by the executor's shutdown is no failure: it pokes again when the run resumes.
    bool stopping = false;
    {
      std::lock_guard lock(mutex_);
      stopping = stop_;
    }
    if (!(stopping && outcome.error().code() == ErrorCode::kCancelled && !run.cancelled.load())) return false;
    note = "poke stopped by the shutdown; it pokes again when the run resumes";
    node.first_poke_at = first_poke;
    node.next_retry_at = end;
    return true;
  }
  if (*outcome != TaskOutcome::kReschedule) return false;
  if (run.cancelled.load() || cancel.cancelled()) {
    outcome = Error(ErrorCode::kCancelled, "sensor stopped: " + (cancel.cancelled() ? cancel.reason() : "run cancelled"));
    return false;
  }
  // From the first try's first poke (a retry does not restart the clock, as in Airflow).
  const int64_t since = node.sensor_since != 0 ? std::min(node.sensor_since, first_poke) : first_poke;
  const int64_t waited = end - since;
  if (waited < sensor.timeout) {
    node.first_poke_at = first_poke;
    node.next_retry_at = std::min(end + sensor.poke_interval, since + sensor.timeout);  // the last at the timeout
    return true;
  }
  const std::string why = "sensor timed out after " + format_duration(waited) + " (timeout " +
                          format_duration(sensor.timeout) + ", reschedule mode)";
  if (sensor.soft_fail) {
    outcome = TaskOutcome::kSkipped;
    note = why + "; soft_fail: the task is skipped";
  } else {
    outcome = Error(ErrorCode::kFailed, why, {}, "raise the sensor's timeout, or set soft_fail: true to skip instead")
                  .as_final();
  }
  return false;
}

bool Executor::run_attempt(RunExec& run, size_t i, int try_number, const std::shared_ptr<CancelToken>& cancel,
                           std::string& waiting) {
  const TaskSpec& task = run.spec->tasks[i];
  Node& node = run.nodes[i];  // fields written here are owned by this worker while running
  TaskInstanceRecord ti = record_of(run, i);
  ti.note.clear();
  ti.state = TaskState::kRunning;
  ti.try_number = try_number;
  AttemptRecord attempt;
  attempt.pipeline = run.run.pipeline;
  attempt.run_id = run.run.run_id;
  attempt.task_id = task.id;
  attempt.try_number = try_number;
  attempt.state = TaskState::kRunning;
  attempt.start_at = ti.start_at;
  attempt.log_path = task_log_path(options_.log_root, run.spec->name, run.run.run_id, task.id, try_number);
  attempt.owner = options_.owner;
  if (task.depends_on_past) {
    Result<std::string> blocking = past_blocks(run, task);
    if (!blocking.ok()) logger_.error("{}", blocking.error().to_string());
    waiting = blocking.ok() ? *blocking : "depends_on_past: " + blocking.error().message();
    if (!waiting.empty()) return false;  // waits, as for a full pool
  }
  // The slot of the task's pool and of its pipeline's max_active_tasks, counted across every process
  // sharing the store (this executor's own counts, pool_used_ and pipeline_running_, let it come
  // this far). A store that fails is logged and the attempt runs, as every other write of the
  // executor's.
  Result<bool> slot = store_.start_attempt(ti, attempt, pool_slots(task.pool), run.spec->max_active_tasks);
  if (!slot.ok()) logger_.error("{}", slot.error().to_string());
  if (slot.ok() && !*slot) {
    waiting = "a free slot: pool '" + task.pool + "' (" + std::to_string(pool_slots(task.pool)) + ")" +
              (run.spec->max_active_tasks > 0
                   ? " or the pipeline's max_active_tasks (" + std::to_string(run.spec->max_active_tasks) + ")"
                   : std::string()) +
              " is full in other schedulers";
    return false;
  }
  node.note.clear();
  // Started: a rescheduled sensor's clock runs from its first try's first poke (not from a wait
  // for depends_on_past or a slot before it).
  if (task.kind == TaskKind::kSensor && task.sensor.reschedule && node.sensor_since == 0)
    node.sensor_since = attempt.start_at;

  Result<TaskOutcome> outcome = Error(ErrorCode::kInternal, "not run");
  std::optional<int> exit_code;
  auto log = TaskLog::open(attempt.log_path, options_.masker);
  if (!log.ok()) {
    outcome = log.error();
  } else {
    (*log)->line("task " + task.id + " (" + std::string(task_kind_name(task.kind)) + "), try " +
                 std::to_string(try_number) + " of " + std::to_string(node.max_tries));
    auto command = render_task_template(task.command, run.templates, task.where);
    auto runner = runners_.find(task.kind);
    if (!command.ok()) {
      outcome = command.error();
    } else if (runner == runners_.end() || !runner->second) {
      outcome = Error(ErrorCode::kConfig,
                      "no runner for task kind '" + std::string(task_kind_name(task.kind)) + "' in this process",
                      task.where, "this build or command cannot run this kind of task yet");
    } else {
      TaskContext ctx{*run.spec, task, run.run, try_number, *command, options_.project_dir, **log, *cancel, store_};
      emit(run, i, TaskState::kRunning, try_number, monotonic_micros());
      outcome = runner->second->run(ctx);
      exit_code = ctx.exit_code;
      if (!ctx.ran_on.empty()) attempt.owner = ctx.ran_on;
    }
  }
  const int64_t mono_end = monotonic_micros();
  const int64_t end = clock_.now();
  attempt.end_at = end;
  node.end_at = end;
  std::string sensor_note;
  const bool rescheduled = reschedules(run, task, *cancel, attempt.start_at, end, node, outcome, sensor_note);
  attempt.exit_code = exit_code.value_or(outcome.ok() ? 0 : outcome.error().exit_code());
  if (rescheduled) {
    attempt.state = node.state = TaskState::kUpForReschedule;
  } else if (outcome.ok()) {
    node.first_poke_at = 0;
    attempt.state = node.state = *outcome == TaskOutcome::kSkipped ? TaskState::kSkipped : TaskState::kSuccess;
  } else {
    node.first_poke_at = 0;
    attempt.state = TaskState::kFailed;
    attempt.error = options_.masker->mask(outcome.error().to_string());
    // An attempt of a cancelled run is not retried: decided here already, so that the state saved
    // with the attempt is never up_for_retry (the worker loop still checks again under the lock).
    const bool can_retry = try_number < node.max_tries && outcome.error().code() != ErrorCode::kConfig &&
                           !outcome.error().is_final() && !run.cancelled.load();
    if (can_retry) {
      node.state = TaskState::kUpForRetry;
      node.next_retry_at = end + retry_delay_after(task.retry, try_number);
    } else {
      node.state = TaskState::kFailed;
    }
  }
  if (log.ok() && !sensor_note.empty()) (*log)->line(sensor_note);
  if (log.ok() && rescheduled) {
    (*log)->line("up_for_reschedule: next poke at " + format_iso8601(node.next_retry_at));
  } else if (log.ok()) {
    (*log)->line(outcome.ok() ? "finished: " + std::string(task_state_name(node.state))
                              : "failed: " + attempt.error +
                                    (node.state == TaskState::kUpForRetry
                                         ? " (retry at " + format_iso8601(node.next_retry_at) + ")"
                                         : ""));
  }
  Status s = store_.save_attempt(record_of(run, i), attempt);
  if (!s.ok()) logger_.error("{}", s.error().to_string());
  emit(run, i, node.state, try_number, mono_end);
  return true;
}

void Executor::timer_loop() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    const int64_t now = clock_.now();
    while (!retries_.empty() && retries_.begin()->first <= now) {
      auto [run, i] = retries_.begin()->second;
      retries_.erase(retries_.begin());
      run->nodes[i].state = TaskState::kNone;
      enqueue_locked(*run, i);
    }
    std::vector<RunKey> overdue;
    while (!run_deadlines_.empty() && run_deadlines_.begin()->first <= now) {
      const RunKey key = run_deadlines_.begin()->second;
      overdue.push_back(key);
      if (auto found = runs_.find(key); found != runs_.end()) found->second->has_deadline = false;
      run_deadlines_.erase(run_deadlines_.begin());
    }
    if (!overdue.empty()) {
      lock.unlock();
      for (const auto& [pipeline, run_id] : overdue) cancel_overdue_run(pipeline, run_id);
      lock.lock();
      continue;
    }
    std::vector<std::shared_ptr<CancelToken>> expired;
    while (!timeouts_.empty() && timeouts_.begin()->first <= now) {
      auto [run, i] = timeouts_.begin()->second;
      run->nodes[i].has_timeout = false;
      if (run->nodes[i].cancel) expired.push_back(run->nodes[i].cancel);
      timeouts_.erase(timeouts_.begin());
    }
    if (!expired.empty()) {
      lock.unlock();
      for (auto& token : expired) token->cancel("execution_timeout exceeded");
      lock.lock();
      continue;
    }
    int64_t next = 0;
    if (!retries_.empty()) next = retries_.begin()->first;
    if (!timeouts_.empty() && (next == 0 || timeouts_.begin()->first < next)) next = timeouts_.begin()->first;
    if (!run_deadlines_.empty() && (next == 0 || run_deadlines_.begin()->first < next))
      next = run_deadlines_.begin()->first;
    clock_.wait_until(lock, timer_cv_, next);
  }
}

// Removes a queued or up_for_retry node from the ready set or the retry timers.
void Executor::drop_waiting_locked(RunExec& run, size_t i) {
  for (auto it = ready_.begin(); it != ready_.end(); ++it)
    if (it->run == &run && it->node == i) {
      ready_.erase(it);
      return;
    }
  for (auto it = retries_.begin(); it != retries_.end(); ++it)
    if (it->second.first == &run && it->second.second == i) {
      retries_.erase(it);
      return;
    }
}

bool Executor::cancel_run(const std::string& pipeline, const std::string& run_id, const std::string& reason) {
  std::vector<std::shared_ptr<CancelToken>> running;
  Pending pending;
  {
    std::lock_guard lock(mutex_);
    auto found = runs_.find(RunKey{pipeline, run_id});
    if (found == runs_.end() || found->second->finalized) return false;
    RunExec& run = *found->second;
    run.cancelled = true;
    if (run.run.note.empty()) run.run.note = reason;
    const int64_t now = clock_.now();
    for (size_t i = 0; i < run.nodes.size(); ++i) {
      Node& node = run.nodes[i];
      if (node.cancel) {  // set while an attempt runs; its worker owns node.state until then
        running.push_back(node.cancel);
        continue;
      }
      if (is_finished(node.state)) continue;
      drop_waiting_locked(run, i);
      // A sensor between pokes (or whose next poke could not start yet): its try's attempt ends with it.
      if (node.first_poke_at != 0) pending.closed_attempts.emplace_back(run.spec->tasks[i].id, node.try_number);
      node.first_poke_at = 0;
      node.note.clear();
      node.state = TaskState::kSkipped;
      node.end_at = now;
      --run.unfinished;
      pending.task_instances.push_back(record_of(run, i));
      pending.events.push_back(
          TaskEvent{pipeline, run_id, run.spec->tasks[i].id, node.state, node.try_number, monotonic_micros()});
    }
    finish_node_locked(run, run.nodes.size(), pending);
    gathered_locked(run, pending);
  }
  for (auto& token : running) token->cancel(reason);
  flush(pending);
  return true;
}

int64_t Executor::run_deadline(const RunExec& run) {
  // A clear resets the run's start (as Airflow's), so a cleared run's time counts from its restart;
  // a run resumed after a crash keeps it, downtime included, as in Airflow.
  return run.run.start_at + run.spec->dagrun_timeout;
}

void Executor::cancel_overdue_run(const std::string& pipeline, const std::string& run_id) {
  std::shared_ptr<const PipelineSpec> spec;
  {
    std::lock_guard lock(mutex_);
    auto found = runs_.find(RunKey{pipeline, run_id});
    // Ended in time; or a deadline left by an earlier execution of a run cleared since.
    if (found == runs_.end() || clock_.now() < run_deadline(*found->second)) return;
    spec = found->second->spec;
  }
  const std::string reason = "dagrun_timeout exceeded: the run was still going " +
                             format_duration(spec->dagrun_timeout) + " after it started";
  if (cancel_run(pipeline, run_id, reason)) logger_.info("run {} of {}: {}", run_id, pipeline, reason);
}

RunState Executor::wait(const std::string& pipeline, const std::string& run_id) {
  const RunKey key{pipeline, run_id};
  std::unique_lock lock(mutex_);
  done_cv_.wait(lock, [&] { return finished_.count(key) || joined_; });
  auto it = finished_.find(key);
  return it != finished_.end() ? it->second : RunState::kRunning;
}

std::optional<RunState> Executor::wait_for(const std::string& pipeline, const std::string& run_id,
                                           int64_t timeout_ms) {
  const RunKey key{pipeline, run_id};
  std::unique_lock lock(mutex_);
  bool done = done_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return finished_.count(key) > 0; });
  if (!done) return std::nullopt;
  return finished_[key];
}

int Executor::active_runs(const std::string& pipeline) const {
  std::lock_guard lock(mutex_);
  int n = 0;
  for (const auto& [id, run] : runs_)
    if (pipeline.empty() || run->spec->name == pipeline) ++n;
  return n;
}

}  // namespace strata::orchestrate

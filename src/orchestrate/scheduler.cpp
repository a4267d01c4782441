#include "orchestrate/scheduler.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/strings.h"
#include "common/time.h"

namespace strata::orchestrate {
std::string host_name() {
  char buffer[256] = {0};
  if (::gethostname(buffer, sizeof buffer - 1) != 0) return "localhost";
  return buffer;
}

namespace {

constexpr int kMaxRunsPerTick = 1000;  // bounds one tick's catch-up; the next tick continues

}  // namespace

std::string default_owner() {
  return host_name() + ":" + std::to_string(::getpid()) + ":" + std::to_string(now_micros());
}

Scheduler::Scheduler(MetadataStore& store, Executor& executor, Clock& clock,
                     std::vector<std::shared_ptr<const PipelineSpec>> pipelines, SchedulerOptions options)
    : store_(store), executor_(executor), clock_(clock), options_(std::move(options)), started_at_(clock.now()) {
  if (options_.owner.empty()) options_.owner = default_owner();
  set_pipelines(pipelines);
}

Scheduler::Entry Scheduler::make_entry(std::shared_ptr<const PipelineSpec> spec) {
  Entry entry{std::move(spec), std::nullopt};
  if (entry.spec->schedule) {
    auto timetable = Timetable::create(*entry.spec->schedule, entry.spec->timezone, entry.spec->schedule_where);
    if (timetable.ok()) entry.timetable = std::move(timetable).value();
  }
  return entry;
}

void Scheduler::set_reloader(std::function<void()> reload, int64_t interval) {
  reload_ = std::move(reload);
  reload_interval_ = interval;
}

void Scheduler::set_pipelines(const std::vector<std::shared_ptr<const PipelineSpec>>& pipelines) {
  std::map<std::string, Entry> entries;
  for (const auto& spec : pipelines) entries.emplace(spec->name, make_entry(spec));
  std::lock_guard lock(pipelines_mutex_);
  pipelines_ = std::move(entries);
}

std::vector<std::shared_ptr<const PipelineSpec>> Scheduler::pipelines() const {
  std::lock_guard lock(pipelines_mutex_);
  std::vector<std::shared_ptr<const PipelineSpec>> out;
  for (const auto& [name, entry] : pipelines_) out.push_back(entry.spec);
  return out;
}

std::shared_ptr<const PipelineSpec> Scheduler::pipeline(const std::string& name) const {
  std::lock_guard lock(pipelines_mutex_);
  auto it = pipelines_.find(name);
  return it == pipelines_.end() ? nullptr : it->second.spec;
}

std::optional<Scheduler::Entry> Scheduler::entry(const std::string& name) const {
  std::lock_guard lock(pipelines_mutex_);
  auto it = pipelines_.find(name);
  if (it == pipelines_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, Scheduler::Entry> Scheduler::entries() const {
  std::lock_guard lock(pipelines_mutex_);
  return pipelines_;
}

Status Scheduler::heartbeat() {
  return store_.heartbeat(
      HeartbeatRecord{options_.owner, host_name(), static_cast<int64_t>(::getpid()), started_at_, clock_.now()});
}

Result<bool> Scheduler::owner_alive(const std::string& owner, const std::vector<HeartbeatRecord>& beats, int64_t now) {
  if (owner.empty()) return false;
  if (owner == options_.owner) return true;
  for (const auto& beat : beats) {
    if (beat.owner != owner) continue;
    if (beat.host == host_name() && beat.pid > 0 && ::kill(static_cast<pid_t>(beat.pid), 0) != 0 && errno == ESRCH)
      return false;
    return beat.beat_at + options_.dead_after >= now;
  }
  return false;
}

Status Scheduler::fail_stale_task_instances(const PipelineSpec* spec, const RunRecord& run, int64_t now) {
  STRATA_ASSIGN(auto tis, store_.task_instances(run.pipeline, run.run_id));
  for (auto ti : tis) {
    if (ti.state != TaskState::kRunning && ti.state != TaskState::kQueued) continue;
    const TaskSpec* task = nullptr;
    if (spec)
      if (auto i = spec->find_task(ti.task_id)) task = &spec->tasks[*i];
    // A sensor in reschedule mode whose poke died pokes again at once, in the same try (a poke is
    // no try of its own).
    const bool repoke = ti.state == TaskState::kRunning && ti.try_number > 0 && task &&
                        task->kind == TaskKind::kSensor && task->sensor.reschedule;
    STRATA_ASSIGN(auto attempts, store_.attempts(run.pipeline, run.run_id, ti.task_id));
    for (auto attempt : attempts) {
      if (attempt.state != TaskState::kRunning) continue;
      attempt.state = repoke ? TaskState::kUpForReschedule : TaskState::kFailed;
      attempt.end_at = now;
      if (!repoke) attempt.error = "the process running this attempt (" + attempt.owner + ") died";
      STRATA_TRY(store_.upsert_attempt(attempt));
      // A `strata worker` may still run it (executor mode workers): stop it before the retry.
      STRATA_TRY(store_.request_cancel_work(WorkKey{run.pipeline, run.run_id, ti.task_id, attempt.try_number},
                                            "the scheduler that started this attempt died", now));
    }
    ti.end_at = now;
    ti.note.clear();
    if (repoke) {
      ti.state = TaskState::kUpForReschedule;
      ti.next_retry_at = now;
    } else if (ti.try_number == 0) {
      ti.state = TaskState::kNone;
    } else if (task && ti.try_number < std::max(ti.max_tries, task->retry.retries + 1)) {
      ti.state = TaskState::kUpForRetry;
      ti.next_retry_at = now + retry_delay_after(task->retry, ti.try_number);
    } else {
      ti.state = TaskState::kFailed;
    }
    STRATA_TRY(store_.upsert_task_instance(ti));
  }
  return ok_status();
}

Result<int> Scheduler::recover() {
  const int64_t now = clock_.now();
  STRATA_ASSIGN(auto beats, store_.heartbeats());
  STRATA_ASSIGN(auto running, store_.runs("", RunState::kRunning, 100000));
  int recovered = 0;
  for (auto run : running) {
    STRATA_ASSIGN(bool alive, owner_alive(run.owner, beats, now));
    if (alive) continue;
    // Several schedulers may find the same dead owner: the one whose conditional take-over
    // succeeds resets the run; the others leave it (it may be running again under a new owner).
    STRATA_ASSIGN(bool adopted, store_.adopt_run(run.pipeline, run.run_id, run.owner, options_.owner));
    if (!adopted) continue;
    const std::shared_ptr<const PipelineSpec> spec = pipeline(run.pipeline);
    STRATA_TRY(fail_stale_task_instances(spec.get(), run, now));
    run.state = spec ? RunState::kQueued : RunState::kFailed;  // a deleted pipeline cannot resume
    if (!spec) run.end_at = now;
    run.owner.clear();
    STRATA_TRY(store_.update_run(run));
    ++recovered;
  }
  // Attempts still marked running in runs that are not (e.g. a crash between two writes).
  STRATA_ASSIGN(auto attempts, store_.running_attempts());
  for (auto attempt : attempts) {
    STRATA_ASSIGN(auto run, store_.run(attempt.pipeline, attempt.run_id));
    if (run && run->state == RunState::kRunning) continue;
    // Read again after the run: an attempt that ended meanwhile (its run finished in another
    // process after the first read) is not overwritten. One still running now is stale: a run's
    // attempts end before the run does.
    STRATA_ASSIGN(auto tries, store_.attempts(attempt.pipeline, attempt.run_id, attempt.task_id));
    const auto now_running = std::find_if(tries.begin(), tries.end(), [&](const AttemptRecord& a) {
      return a.try_number == attempt.try_number && a.state == TaskState::kRunning;
    });
    if (now_running == tries.end()) continue;
    attempt = *now_running;
    attempt.state = TaskState::kFailed;
    attempt.end_at = now;
    attempt.error = "the process running this attempt (" + attempt.owner + ") died";
    STRATA_TRY(store_.upsert_attempt(attempt));
  }
  return recovered;
}

Result<int64_t> Scheduler::create_due_runs(const Entry& entry, int64_t now) {
  if (!entry.timetable || !entry.timetable->schedules_runs()) return int64_t{0};
  const PipelineSpec& spec = *entry.spec;
  TimeRestriction restriction{spec.start_date, spec.end_date, spec.catchup};
  for (int i = 0; i < kMaxRunsPerTick; ++i) {
    STRATA_ASSIGN(auto latest, store_.latest_run(spec.name));
    std::optional<DataInterval> last;
    if (latest) last = DataInterval{latest->interval_start, latest->interval_end};
    auto next = entry.timetable->next_run(last, restriction, now);
    if (!next) return int64_t{0};
    if (next->run_after > now) return next->run_after;
    RunRecord run;
    run.run_id = "scheduled__" + format_iso8601(next->logical_date());
    run.pipeline = spec.name;
    run.type = RunType::kScheduled;
    run.logical_date = next->logical_date();
    run.interval_start = next->interval.start;
    run.interval_end = next->interval.end;
    run.queued_at = now;
    Status created = store_.create_run(run);
    // Another scheduler sharing the store created it first: the same run, nothing to do.
    if (!created.ok() && created.error().state() != kUniqueViolation) return std::move(created).error();
  }
  return now;  // more to create: come back at once
}

Result<bool> Scheduler::create_dataset_run(const Entry& entry, int64_t now, bool paused) {
  const PipelineSpec& spec = *entry.spec;
  if (!spec.datasets) return false;
  // Once per version of the pipeline's file (started_queues_ keeps it alive, so its address is not
  // reused): the ticks after it only read.
  if (auto& started = started_queues_[spec.name]; started != entry.spec) {
    STRATA_TRY(store_.start_dataset_queues(spec.name, spec.datasets->uris()));
    started = entry.spec;
  }
  STRATA_ASSIGN(auto queues, store_.dataset_queue(spec.name, spec.datasets->uris()));
  if (paused) {
    // As Airflow, which queues events only for active DAGs: a paused pipeline lets them pass.
    STRATA_TRY(store_.skip_dataset_queue(spec.name, queues));
    return false;
  }
  std::set<std::string> updated;
  RunRecord run;
  for (const auto& q : queues) {
    if (q.count == 0) continue;
    updated.insert(q.uri);
    run.interval_start = run.interval_start == 0 ? q.first_at : std::min(run.interval_start, q.first_at);
    run.interval_end = std::max(run.interval_end, q.last_at);
  }
  if (!spec.datasets->met(updated)) return false;
  run.run_id = "dataset_triggered__" + format_iso8601(now);
  run.pipeline = spec.name;
  run.type = RunType::kDatasetTriggered;
  run.logical_date = now;
  run.queued_at = now;
  Result<bool> created = store_.create_dataset_run(run, queues);
  // A run of that id exists (created in the same microsecond): the queue waits for the next tick.
  if (!created.ok() && created.error().state() == kUniqueViolation) return true;
  if (!created.ok()) return std::move(created).error();
  return *created;
}

Status Scheduler::start_claimed(const Entry& entry, const std::string& run_id) {
  STRATA_ASSIGN(auto run, store_.run(entry.spec->name, run_id));
  if (!run) return Error(ErrorCode::kNotFound, "run '" + run_id + "' does not exist");
  Status started = executor_.start_run(entry.spec, *run);
  if (!started.ok()) {
    run->state = RunState::kFailed;
    run->end_at = clock_.now();
    STRATA_TRY(store_.update_run(*run));
    return started;
  }
  return ok_status();
}

Result<int> Scheduler::start_queued(const Entry& entry, const std::vector<std::string>* only) {
  const PipelineSpec& spec = *entry.spec;
  STRATA_ASSIGN(auto running, store_.runs(spec.name, RunState::kRunning, spec.max_active_runs + 1));
  int active = static_cast<int>(running.size());
  int started = 0;
  if (active >= spec.max_active_runs) return started;
  STRATA_ASSIGN(auto queued, store_.runs(spec.name, RunState::kQueued, 100000));
  std::reverse(queued.begin(), queued.end());  // oldest logical date first
  for (const auto& run : queued) {
    if (active >= spec.max_active_runs) break;
    if (options_.max_runs > 0 && executor_.active_runs("") >= options_.max_runs) break;
    if (only && std::find(only->begin(), only->end(), run.run_id) == only->end()) continue;
    STRATA_ASSIGN(bool claimed,
                  store_.claim_run(spec.name, run.run_id, options_.owner, clock_.now(), spec.max_active_runs));
    if (!claimed) continue;
    ++active;
    ++started;
    STRATA_TRY(start_claimed(entry, run.run_id));
  }
  return started;
}

Result<int> Scheduler::start_runs(const std::string& pipeline, const std::vector<std::string>& run_ids) {
  const auto found = entry(pipeline);
  if (!found) return Error(ErrorCode::kNotFound, "no pipeline named '" + pipeline + "'");
  return start_queued(*found, &run_ids);
}

Result<int64_t> Scheduler::tick() {
  const int64_t now = clock_.now();
  STRATA_ASSIGN(auto records, store_.pipelines());
  std::map<std::string, bool> paused;
  for (const auto& r : records) paused[r.name] = r.paused;
  int64_t next_due = 0;
  for (const auto& [name, entry] : entries()) {
    if (!paused.count(name)) STRATA_TRY(store_.ensure_pipeline(name));
    STRATA_ASSIGN(bool dataset_due, create_dataset_run(entry, now, paused[name]));
    if (dataset_due) next_due = now;
    if (paused[name]) continue;
    STRATA_ASSIGN(int64_t due, create_due_runs(entry, now));
    if (due > 0 && (next_due == 0 || due < next_due)) next_due = due;
    STRATA_TRY(start_queued(entry));
  }
  return next_due;
}

Result<RunRecord> Scheduler::trigger(const std::string& name, const std::string& params_json) {
  const auto found = entry(name);
  if (!found)
    return Error(ErrorCode::kNotFound, "no pipeline named '" + name + "'", {},
                 "pipelines are the files pipelines/<name>.yml; see `strata pipeline list`");
  STRATA_TRY(store_.ensure_pipeline(name));
  const int64_t now = clock_.now();
  RunRecord run;
  run.run_id = "manual__" + format_iso8601(now);
  run.pipeline = name;
  run.type = RunType::kManual;
  run.logical_date = now;
  DataInterval interval{now, now};
  if (found->timetable) interval = found->timetable->interval_for(now);
  run.interval_start = interval.start;
  run.interval_end = interval.end;
  run.params_json = params_json.empty() ? "{}" : params_json;
  run.queued_at = now;
  STRATA_TRY(store_.create_run(run));
  return run;
}

Status Scheduler::start_now(const std::string& pipeline, const std::string& run_id) {
  const auto found = entry(pipeline);
  if (!found) return Error(ErrorCode::kNotFound, "no pipeline named '" + pipeline + "'");
  STRATA_ASSIGN(auto run, store_.run(pipeline, run_id));
  if (!run) return Error(ErrorCode::kNotFound, "pipeline '" + pipeline + "' has no run '" + run_id + "'");
  STRATA_ASSIGN(bool claimed, store_.claim_run(pipeline, run_id, options_.owner, clock_.now(), 0));
  if (!claimed) return Error(ErrorCode::kFailed, "run '" + run_id + "' is not queued (another process took it)");
  return start_claimed(*found, run_id);
}

Result<std::vector<RunRecord>> Scheduler::backfill(const std::string& name, int64_t from, int64_t to,
                                                   bool rerun_failed) {
  const auto found = entry(name);
  if (!found)
    return Error(ErrorCode::kNotFound, "no pipeline named '" + name + "'", {}, "see `strata pipeline list`");
  if (!found->timetable || !found->timetable->schedules_runs())
    return Error(ErrorCode::kUsage,
                 "pipeline '" + name + "' has no cron schedule, so it has no intervals to backfill" +
                     (found->spec->datasets ? " (it runs on dataset updates)" : ""),
                 found->spec->schedule_where, "trigger it with `strata pipeline run " + name + "` instead");
  if (to < from) return Error(ErrorCode::kUsage, "--to is before --from", {}, "swap the two dates");
  STRATA_TRY(store_.ensure_pipeline(name));
  std::vector<RunRecord> out;
  const int64_t now = clock_.now();
  for (const auto& info : found->timetable->intervals_between(from, to)) {
    STRATA_ASSIGN(auto existing, store_.run_at(name, info.logical_date()));
    if (existing) {
      if (existing->state == RunState::kFailed && rerun_failed) {
        STRATA_TRY(store_.delete_task_instances(name, existing->run_id));
        existing->state = RunState::kQueued;
        existing->start_at = existing->end_at = 0;
        existing->owner.clear();
        existing->note.clear();
        STRATA_TRY(store_.update_run(*existing));
        out.push_back(*existing);
      }
      continue;
    }
    RunRecord run;
    run.run_id = "backfill__" + format_iso8601(info.logical_date());
    run.pipeline = name;
    run.type = RunType::kBackfill;
    run.logical_date = info.logical_date();
    run.interval_start = info.interval.start;
    run.interval_end = info.interval.end;
    run.queued_at = now;
    STRATA_TRY(store_.create_run(run));
    out.push_back(run);
  }
  return out;
}

void Scheduler::notify() {
  std::lock_guard lock(mutex_);
  poked_ = true;
  cv_.notify_all();
}

void Scheduler::stop() {
  std::lock_guard lock(mutex_);
  stop_ = true;
  cv_.notify_all();
}

void Scheduler::maybe_reload(int64_t now, int64_t& next_reload) {
  if (!reload_) return;
  if (now >= next_reload) {
    reloaded_for_.clear();
    reload_();
    next_reload = now + reload_interval_;
    return;
  }
  // A run queued by another process (`strata pipeline run NAME`) for a pipeline file added since.
  auto queued = store_.runs("", RunState::kQueued, 1000);
  if (!queued.ok()) return;
  for (const auto& run : *queued) {
    if (pipeline(run.pipeline) || reloaded_for_.count(run.pipeline)) continue;
    reloaded_for_.insert(run.pipeline);
    reload_();
    return;
  }
}

void Scheduler::serve() {
  Logger logger;
  logger.add_sink(Logger::file_sink(stderr));
  int64_t next_beat = 0;
  int64_t next_reload = clock_.now() + reload_interval_;  // the pipelines were just loaded
  for (;;) {
    const int64_t now = clock_.now();
    if (now >= next_beat) {
      if (Status s = heartbeat(); !s.ok()) logger.error("{}", s.error().to_string());
      if (auto r = recover(); !r.ok()) logger.error("{}", r.error().to_string());
      next_beat = now + options_.heartbeat_interval;
    }
    maybe_reload(now, next_reload);
    auto due = tick();
    if (!due.ok()) logger.error("{}", due.error().to_string());
    int64_t wake = next_beat;
    if (options_.poll_interval > 0 && now + options_.poll_interval < wake) wake = now + options_.poll_interval;
    if (reload_ && next_reload < wake) wake = next_reload;
    if (due.ok() && *due > 0 && *due < wake) wake = *due;
    std::unique_lock lock(mutex_);
    if (stop_) return;
    if (!poked_) clock_.wait_until(lock, cv_, wake);
    poked_ = false;
    if (stop_) return;
  }
}

}  // namespace strata::orchestrate

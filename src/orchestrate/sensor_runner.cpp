#include "orchestrate/sensor_runner.h"

#include <glob.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <filesystem>
#include <mutex>

#include "common/strings.h"
#include "common/time.h"
#include "pg/connection.h"

namespace strata::orchestrate {
namespace {

constexpr unsigned kPgBool = 16;
constexpr unsigned kPgNumberOids[] = {20, 21, 23, 26, 700, 701, 1700};

// True when `pattern` (relative to `base` unless absolute) matches a file or a non-empty folder.
bool path_present(const std::string& base, const std::string& pattern) {
  const std::string full = !pattern.empty() && pattern.front() == '/' ? pattern : base + "/" + pattern;
  glob_t found{};
  const int rc = ::glob(full.c_str(), GLOB_NOSORT, nullptr, &found);
  bool present = false;
  for (size_t i = 0; rc == 0 && i < found.gl_pathc && !present; ++i) {
    std::error_code ec;
    const std::filesystem::path p(found.gl_pathv[i]);
    present = std::filesystem::is_directory(p, ec) ? !std::filesystem::is_empty(p, ec) : std::filesystem::exists(p, ec);
  }
  ::globfree(&found);
  return present;
}

// Sleeps `micros`, or less when the attempt is cancelled. Returns false when cancelled.
bool sleep_unless_cancelled(CancelToken& cancel, int64_t micros) {
  std::mutex mutex;
  std::condition_variable woken;
  bool stop = false;
  const int id = cancel.on_cancel([&] {
    std::lock_guard lock(mutex);
    stop = true;
    woken.notify_all();
  });
  {
    std::unique_lock lock(mutex);
    woken.wait_for(lock, std::chrono::microseconds(micros), [&] { return stop; });
  }
  cancel.remove(id);
  return !cancel.cancelled();
}

// What a sensor waits for, for its log and its timeout's message.
std::string sensed(const TaskContext& ctx) {
  const SensorSpec& spec = ctx.task.sensor;
  switch (spec.kind) {
    case SensorSpec::Kind::kFile: return "path " + ctx.command;
    case SensorSpec::Kind::kExternal:
      return (spec.external_task.empty() ? "the run" : "task '" + spec.external_task + "'") + " of pipeline '" +
             ctx.command + "' at " + format_iso8601(ctx.run.logical_date - spec.execution_delta) + " to be " +
             join(spec.allowed_states, " or ");
    case SensorSpec::Kind::kSql: break;
  }
  return "SQL on target '" + target_label(ctx.task) + "'";
}

}  // namespace

bool sensor_value_truthy(bool null, std::string_view text, bool boolean, bool number) {
  if (null) return false;
  if (boolean) return text == "true" || text == "t";
  if (number) {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec != std::errc() || value != 0;  // NaN and text that is not a number count as true
  }
  return !text.empty();
}

Result<bool> SensorRunner::poke_sql(TaskContext& ctx) {
  bool met = false;
  STRATA_TRY(run_on_target(
      resolver_, postgres_, masker_, ctx,
      [&](pg::Connection& conn) -> Status {
        STRATA_ASSIGN(pg::PgResult rows, conn.exec(ctx.command));
        if (rows.rows() == 0 || rows.columns() == 0) return ok_status();
        const unsigned type = rows.column_type(0);
        const bool number = std::find(std::begin(kPgNumberOids), std::end(kPgNumberOids), type) != std::end(kPgNumberOids);
        met = sensor_value_truthy(rows.is_null(0, 0), rows.value(0, 0), type == kPgBool, number);
        return ok_status();
      },
      [&](warehouse::Warehouse& session) -> Status {
        STRATA_ASSIGN(warehouse::QueryResult rows, session.query(ctx.command));
        if (rows.num_rows() == 0 || rows.schema.empty()) return ok_status();
        const sql::TypeId type = rows.schema[0].type.id();
        const bool number = type == sql::TypeId::kInt16 || type == sql::TypeId::kInt32 || type == sql::TypeId::kInt64 ||
                            type == sql::TypeId::kFloat || type == sql::TypeId::kDouble || type == sql::TypeId::kDecimal;
        met = sensor_value_truthy(rows.is_null(0, 0), rows.cell_text(0, 0), type == sql::TypeId::kBoolean, number);
        return ok_status();
      }));
  return met;
}

Result<bool> SensorRunner::poke_external(TaskContext& ctx, std::string& failed_state) {
  const SensorSpec& spec = ctx.task.sensor;
  const int64_t at = ctx.run.logical_date - spec.execution_delta;
  STRATA_ASSIGN(std::optional<RunRecord> run, ctx.store.run_at(ctx.command, at));
  if (!run) {
    ctx.log.line("no run of pipeline '" + ctx.command + "' at " + format_iso8601(at) + " yet");
    return false;
  }
  std::string state(run_state_name(run->state));
  std::string what = "run " + run->run_id + " of pipeline '" + ctx.command + "'";
  auto among = [](const std::vector<std::string>& states, const std::string& s) {
    return std::find(states.begin(), states.end(), s) != states.end();
  };
  if (!spec.external_task.empty()) {
    STRATA_ASSIGN(std::vector<TaskInstanceRecord> tis, ctx.store.task_instances(ctx.command, run->run_id));
    auto ti = std::find_if(tis.begin(), tis.end(), [&](const auto& t) { return t.task_id == spec.external_task; });
    if (ti != tis.end()) {
      state = task_state_name(ti->state);
      what = "task '" + spec.external_task + "' of " + what;
    } else {
      // A task group (a `build:` task's expansion among them), as Airflow's external_task_group_id:
      // failed when one of its tasks is in failed_states; met when every one is in allowed_states
      // once the run has ended (a task not started yet has no record to count while it runs).
      std::vector<std::string> states;
      for (const auto& t : tis)
        if (t.group == spec.external_task || starts_with(t.group, spec.external_task + "."))
          states.emplace_back(task_state_name(t.state));
      const auto failed = std::find_if(states.begin(), states.end(), [&](const auto& s) { return among(spec.failed_states, s); });
      const auto allowed = std::count_if(states.begin(), states.end(), [&](const auto& s) { return among(spec.allowed_states, s); });
      const bool ended = run->state == RunState::kSuccess || run->state == RunState::kFailed;
      what = "group '" + spec.external_task + "' (" + std::to_string(allowed) + " of " + std::to_string(states.size()) +
             " tasks " + join(spec.allowed_states, " or ") + ") of " + what;
      if (failed != states.end()) {
        failed_state = what + " has a task " + *failed + ", one of the sensor's failed_states";
        ctx.log.line(failed_state);
        return false;
      }
      const bool met = !states.empty() && ended && allowed == static_cast<std::ptrdiff_t>(states.size());
      ctx.log.line(what + (met ? " is done" : ended ? " never got there" : " is not done yet"));
      return met;
    }
  }
  ctx.log.line(what + " is " + state);
  if (among(spec.failed_states, state)) {
    failed_state = what + " is " + state + ", one of the sensor's failed_states";
    return false;
  }
  return among(spec.allowed_states, state);
}

Result<bool> SensorRunner::poke(TaskContext& ctx, std::string& failed_state) {
  switch (ctx.task.sensor.kind) {
    case SensorSpec::Kind::kFile: return path_present(ctx.project_dir, ctx.command);
    case SensorSpec::Kind::kExternal: return poke_external(ctx, failed_state);
    case SensorSpec::Kind::kSql: break;
  }
  return poke_sql(ctx);
}

Result<TaskOutcome> SensorRunner::run(TaskContext& ctx) {
  const SensorSpec& spec = ctx.task.sensor;
  const std::string what = sensed(ctx);
  ctx.log.line("sensor waits for " + what + " (poke_interval " + format_duration(spec.poke_interval) + ", timeout " +
               format_duration(spec.timeout) + (spec.soft_fail ? ", soft_fail" : "") + ")");
  if (spec.kind == SensorSpec::Kind::kSql) ctx.log.write(ctx.command + "\n");
  const int64_t started = monotonic_micros();
  for (int pokes = 1;; ++pokes) {
    if (ctx.cancel.cancelled()) return Error(ErrorCode::kCancelled, "sensor stopped: " + ctx.cancel.reason());
    std::string failed_state;
    Result<bool> met = poke(ctx, failed_state);
    if (ctx.cancel.cancelled()) return Error(ErrorCode::kCancelled, "sensor stopped: " + ctx.cancel.reason());
    if (!met.ok()) return std::move(met).error().context("sensor poke " + std::to_string(pokes));
    if (!failed_state.empty()) {
      if (spec.soft_fail) {
        ctx.log.line(failed_state + "; soft_fail: the task is skipped");
        return TaskOutcome::kSkipped;
      }
      return Error(ErrorCode::kFailed, failed_state, {},
                   "fix the other pipeline's run (clear it to run it again); this sensor waits again on its next try");
    }
    const int64_t waited = monotonic_micros() - started;
    if (*met) {
      ctx.log.line("poke " + std::to_string(pokes) + ": met after " + format_duration(waited));
      return TaskOutcome::kSuccess;
    }
    ctx.log.line("poke " + std::to_string(pokes) + ": not met" + (spec.reschedule ? "; rescheduled" : ""));
    if (spec.reschedule) return TaskOutcome::kReschedule;  // the executor pokes again, or times it out
    if (waited >= spec.timeout) {
      const std::string why = "sensor timed out after " + format_duration(waited) + " (timeout " +
                              format_duration(spec.timeout) + ", " + std::to_string(pokes) + " pokes): " + what +
                              " was never met";
      if (spec.soft_fail) {
        ctx.log.line(why + "; soft_fail: the task is skipped");
        return TaskOutcome::kSkipped;
      }
      return Error(ErrorCode::kFailed, why, {}, "raise the sensor's timeout, or set soft_fail: true to skip instead")
          .as_final();
    }
    // The last poke comes at the timeout itself.
    if (!sleep_unless_cancelled(ctx.cancel, std::min(spec.poke_interval, spec.timeout - waited)))
      return Error(ErrorCode::kCancelled, "sensor stopped: " + ctx.cancel.reason());
  }
}

}  // namespace strata::orchestrate

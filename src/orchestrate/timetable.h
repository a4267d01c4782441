#pragma once
// Timetable: which runs a pipeline's schedule creates, with Airflow 2's semantics
// (CronDataIntervalTimetable for cron schedules and presets, OnceTimetable for @once,
// NullTimetable for none).
//
// - A run covers a data interval [start, end) between two consecutive fire times; its logical date
//   is the interval's start and it becomes due ("run after") when the interval ends.
// - next_run(last, restriction, now): the run after the last automated one. With catchup every
//   interval since start_date (aligned up to a fire time) comes in turn; without catchup the first
//   candidate is the latest complete interval before `now` (never earlier than start_date). A run
//   whose interval starts after end_date is not created. @once: one run at start_date with an
//   empty interval [start_date, start_date]; none: no automatic runs.
// - intervals_between(from, to): the runs of a backfill, logical dates from `from` (aligned up) to
//   `to` inclusive.
// - interval_for(logical_date): the data interval of a manual run triggered at that time: the
//   latest complete interval ending at or before it (Airflow's infer_manual_data_interval); for
//   @once and none the empty interval at that time.
//
// All instants are microseconds since the Unix epoch, UTC. A Timetable is an immutable value;
// const members are thread-safe. `now` is always passed in (no clock inside).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/result.h"
#include "orchestrate/cron.h"
#include "orchestrate/schedule_time_zone.h"

namespace strata::orchestrate {

// A data interval [start, end); start == end for @once and manual runs.
struct DataInterval {
  int64_t start = 0;
  int64_t end = 0;
  bool operator==(const DataInterval&) const = default;
};

// One run the schedule asks for.
struct RunInfo {
  DataInterval interval;
  int64_t run_after = 0;  // when the run becomes due (the interval's end)
  int64_t logical_date() const { return interval.start; }
  bool operator==(const RunInfo&) const = default;
};

// Bounds on automatic runs: the pipeline's start_date (earliest), end_date (latest) and catchup.
struct TimeRestriction {
  std::optional<int64_t> earliest;
  std::optional<int64_t> latest;
  bool catchup = true;
};

class Timetable {
 public:
  Timetable(CronExpression cron, TimeZone zone) : cron_(std::move(cron)), zone_(std::move(zone)) {}
  // Parses `schedule` (see cron.h; errors located at `where`) and looks up `time_zone` (IANA;
  // errors located at `zone_where`).
  static Result<Timetable> create(std::string_view schedule, std::string_view time_zone,
                                  const SourceLocation& where = {}, const SourceLocation& zone_where = {});

  const CronExpression& cron() const { return cron_; }
  const TimeZone& zone() const { return zone_; }
  // False for a schedule of none: such a pipeline only runs when triggered.
  bool schedules_runs() const { return cron_.kind() != ScheduleKind::kNone; }

  // The next automatic run after `last` (the data interval of the latest automatic run; nullopt
  // before the first one), or nullopt when there is none (no start_date, past end_date, @once
  // already ran, manual schedule, or a cron that never fires). `now` is only read without catchup.
  std::optional<RunInfo> next_run(const std::optional<DataInterval>& last, const TimeRestriction& restriction,
                                  int64_t now) const;
  // The runs whose logical dates lie in [from (aligned up to a fire time), to], oldest first; at
  // most `limit` of them (a backfill of an every-minute schedule over years must stay bounded).
  std::vector<RunInfo> intervals_between(int64_t from, int64_t to, size_t limit = 100000) const;
  // The data interval of a manual run at `logical_date` (see above).
  DataInterval interval_for(int64_t logical_date) const;

  // The fire time at `t` if `t` is one, else the next one (Airflow's _align_to_next).
  std::optional<int64_t> align_to_next(int64_t t) const;
  // The fire time at `t` if `t` is one, else the previous one (Airflow's _align_to_prev).
  std::optional<int64_t> align_to_prev(int64_t t) const;

 private:
  std::optional<int64_t> skip_to_latest(const std::optional<int64_t>& earliest, int64_t now) const;

  CronExpression cron_;
  TimeZone zone_;
};

}  // namespace strata::orchestrate

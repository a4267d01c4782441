#include "orchestrate/timetable.h"

#include <algorithm>

namespace strata::orchestrate {

Result<Timetable> Timetable::create(std::string_view schedule, std::string_view time_zone,
                                    const SourceLocation& where, const SourceLocation& zone_where) {
  STRATA_ASSIGN(CronExpression cron, CronExpression::parse(schedule, where));
  STRATA_ASSIGN(TimeZone zone, TimeZone::find(time_zone, zone_where));
  return Timetable(std::move(cron), std::move(zone));
}

std::optional<int64_t> Timetable::align_to_next(int64_t t) const {
  const std::optional<int64_t> next = cron_.next(t, zone_);
  if (!next) return std::nullopt;
  const std::optional<int64_t> back = cron_.prev(*next, zone_);
  return back && *back == t ? t : *next;
}

std::optional<int64_t> Timetable::align_to_prev(int64_t t) const {
  const std::optional<int64_t> prev = cron_.prev(t, zone_);
  if (!prev) return std::nullopt;
  const std::optional<int64_t> forward = cron_.next(*prev, zone_);
  return forward && *forward == t ? t : *prev;
}

std::optional<int64_t> Timetable::skip_to_latest(const std::optional<int64_t>& earliest, int64_t now) const {
  // The start of the latest interval that is complete at `now`: if `now` is itself a fire time,
  // the interval ending now; otherwise the one ending at the last fire time before now.
  const std::optional<int64_t> last_start = cron_.prev(now, zone_);
  if (!last_start) return std::nullopt;
  const std::optional<int64_t> next_start = cron_.next(*last_start, zone_);
  std::optional<int64_t> start = last_start;
  if (!next_start || *next_start != now) start = cron_.prev(*last_start, zone_);
  if (!start) return std::nullopt;
  if (!earliest) return start;
  const std::optional<int64_t> aligned = align_to_next(*earliest);
  if (!aligned) return std::nullopt;
  return std::max(*start, *aligned);
}

std::optional<RunInfo> Timetable::next_run(const std::optional<DataInterval>& last,
                                           const TimeRestriction& restriction, int64_t now) const {
  switch (cron_.kind()) {
    case ScheduleKind::kNone:
      return std::nullopt;
    case ScheduleKind::kOnce: {
      if (last || !restriction.earliest) return std::nullopt;
      const int64_t at = *restriction.earliest;
      if (restriction.latest && at > *restriction.latest) return std::nullopt;
      return RunInfo{{at, at}, at};
    }
    case ScheduleKind::kCron:
      break;
  }
  std::optional<int64_t> earliest = restriction.earliest;
  if (!restriction.catchup) {
    earliest = skip_to_latest(earliest, now);
    if (!earliest) return std::nullopt;
  } else if (earliest) {
    earliest = align_to_next(*earliest);
    if (!earliest) return std::nullopt;
  }
  std::optional<int64_t> start;
  if (!last) {
    // The first run: the first fire time allowed, with the interval that follows it.
    if (!earliest) return std::nullopt;
    start = earliest;
  } else {
    // Continue from the end of the last interval (re-aligned in case the schedule changed).
    start = align_to_prev(last->end);
    if (!start) return std::nullopt;
    if (earliest) start = std::max(*start, *earliest);
  }
  if (restriction.latest && *start > *restriction.latest) return std::nullopt;
  const std::optional<int64_t> end = cron_.next(*start, zone_);
  if (!end) return std::nullopt;
  return RunInfo{{*start, *end}, *end};
}

std::vector<RunInfo> Timetable::intervals_between(int64_t from, int64_t to, size_t limit) const {
  std::vector<RunInfo> runs;
  const TimeRestriction restriction{from, to, /*catchup=*/true};
  std::optional<RunInfo> info = next_run(std::nullopt, restriction, to);
  while (info && runs.size() < limit) {
    runs.push_back(*info);
    info = next_run(info->interval, restriction, to);
  }
  return runs;
}

DataInterval Timetable::interval_for(int64_t logical_date) const {
  if (!cron_.is_cron()) return {logical_date, logical_date};
  const std::optional<int64_t> end = align_to_prev(logical_date);
  if (!end) return {logical_date, logical_date};
  const std::optional<int64_t> start = cron_.prev(*end, zone_);
  return {start.value_or(*end), *end};
}

}  // namespace strata::orchestrate

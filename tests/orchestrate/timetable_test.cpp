// Unit tests of Timetable: Airflow 2's data intervals (CronDataIntervalTimetable), catchup on and
// off, start and end dates, @once, manual schedules, backfill ranges, manual-run intervals, DST.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/time.h"
#include "orchestrate/timetable.h"

namespace strata::orchestrate {
namespace {

int64_t at(const char* iso) {
  const std::optional<int64_t> t = parse_iso8601(iso);
  EXPECT_TRUE(t.has_value()) << iso;
  return t.value_or(0);
}

Timetable table(const char* schedule, const char* zone = "UTC") {
  Result<Timetable> t = Timetable::create(schedule, zone);
  EXPECT_TRUE(t.ok()) << schedule;
  return std::move(t).value();
}

RunInfo interval(const char* start, const char* end) { return RunInfo{{at(start), at(end)}, at(end)}; }

std::string show(const std::optional<RunInfo>& info) {
  if (!info) return "none";
  return format_iso8601(info->interval.start) + " .. " + format_iso8601(info->interval.end);
}

TEST(Timetable, CatchupWalksEveryIntervalFromStartDate) {
  const Timetable t = table("@hourly");
  const TimeRestriction r{at("2024-01-01T00:00:00Z"), std::nullopt, true};
  const int64_t now = at("2024-01-01T05:30:00Z");
  std::optional<RunInfo> run = t.next_run(std::nullopt, r, now);
  EXPECT_EQ(run, interval("2024-01-01T00:00:00Z", "2024-01-01T01:00:00Z")) << show(run);
  EXPECT_EQ(run->logical_date(), at("2024-01-01T00:00:00Z"));
  EXPECT_EQ(run->run_after, at("2024-01-01T01:00:00Z"));
  run = t.next_run(run->interval, r, now);
  EXPECT_EQ(run, interval("2024-01-01T01:00:00Z", "2024-01-01T02:00:00Z")) << show(run);
  // Walking on: 5 intervals are due by 05:30 (ending 01:00 … 05:00), the 6th ends in the future.
  int due = 0;
  std::optional<RunInfo> walk = t.next_run(std::nullopt, r, now);
  while (walk && walk->run_after <= now) {
    ++due;
    walk = t.next_run(walk->interval, r, now);
  }
  EXPECT_EQ(due, 5);
  EXPECT_EQ(walk, interval("2024-01-01T05:00:00Z", "2024-01-01T06:00:00Z"));
}

TEST(Timetable, StartDateIsAlignedUpToAFireTime) {
  const Timetable t = table("0 0 * * *");
  const TimeRestriction r{at("2024-01-01T10:15:00Z"), std::nullopt, true};
  EXPECT_EQ(t.next_run(std::nullopt, r, at("2024-03-01")), interval("2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"));
  const TimeRestriction aligned{at("2024-01-01T00:00:00Z"), std::nullopt, true};
  EXPECT_EQ(t.next_run(std::nullopt, aligned, at("2024-03-01")),
            interval("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"));
}

TEST(Timetable, WithoutCatchupOnlyTheLatestCompleteInterval) {
  const Timetable t = table("@hourly");
  const TimeRestriction r{at("2024-01-01T00:00:00Z"), std::nullopt, false};
  // Between boundaries: the interval that ended at the last boundary.
  EXPECT_EQ(t.next_run(std::nullopt, r, at("2024-01-05T10:30:00Z")),
            interval("2024-01-05T09:00:00Z", "2024-01-05T10:00:00Z"));
  // On a boundary: the interval ending now.
  EXPECT_EQ(t.next_run(std::nullopt, r, at("2024-01-05T10:00:00Z")),
            interval("2024-01-05T09:00:00Z", "2024-01-05T10:00:00Z"));
  // After an old run, the missed intervals are skipped.
  const DataInterval old{at("2024-01-01T00:00:00Z"), at("2024-01-01T01:00:00Z")};
  EXPECT_EQ(t.next_run(old, r, at("2024-01-05T10:30:00Z")), interval("2024-01-05T09:00:00Z", "2024-01-05T10:00:00Z"));
  // After the latest run, the next interval (not yet due).
  const DataInterval latest{at("2024-01-05T09:00:00Z"), at("2024-01-05T10:00:00Z")};
  EXPECT_EQ(t.next_run(latest, r, at("2024-01-05T10:30:00Z")),
            interval("2024-01-05T10:00:00Z", "2024-01-05T11:00:00Z"));
  // A start_date in the future wins over now.
  const TimeRestriction future{at("2024-02-01T00:00:00Z"), std::nullopt, false};
  EXPECT_EQ(t.next_run(std::nullopt, future, at("2024-01-05T10:30:00Z")),
            interval("2024-02-01T00:00:00Z", "2024-02-01T01:00:00Z"));
}

TEST(Timetable, EndDateStopsRuns) {
  const Timetable t = table("@hourly");
  const TimeRestriction r{at("2024-01-01T00:00:00Z"), at("2024-01-01T02:00:00Z"), true};
  std::vector<int64_t> starts;
  std::optional<RunInfo> run = t.next_run(std::nullopt, r, at("2024-02-01"));
  while (run) {
    starts.push_back(run->logical_date());
    run = t.next_run(run->interval, r, at("2024-02-01"));
  }
  // A run whose interval starts at end_date is still created (Airflow: start > latest stops).
  EXPECT_EQ(starts, (std::vector<int64_t>{at("2024-01-01T00:00:00Z"), at("2024-01-01T01:00:00Z"),
                                          at("2024-01-01T02:00:00Z")}));
}

TEST(Timetable, NoStartDateNoRuns) {
  const Timetable t = table("@daily");
  EXPECT_FALSE(t.next_run(std::nullopt, TimeRestriction{std::nullopt, std::nullopt, true}, at("2024-01-01")));
}

TEST(Timetable, OnceRunsAtStartDate) {
  const Timetable t = table("@once");
  const TimeRestriction r{at("2024-01-01T10:15:00Z"), std::nullopt, false};
  const std::optional<RunInfo> run = t.next_run(std::nullopt, r, at("2024-06-01"));
  ASSERT_TRUE(run);
  EXPECT_EQ(run->interval, (DataInterval{at("2024-01-01T10:15:00Z"), at("2024-01-01T10:15:00Z")}));
  EXPECT_EQ(run->run_after, at("2024-01-01T10:15:00Z"));
  EXPECT_FALSE(t.next_run(run->interval, r, at("2024-06-01")));
  const TimeRestriction ended{at("2024-01-01T10:15:00Z"), at("2024-01-01T00:00:00Z"), true};
  EXPECT_FALSE(t.next_run(std::nullopt, ended, at("2024-06-01")));
  EXPECT_EQ(t.intervals_between(at("2024-01-01"), at("2024-01-31")).size(), 1u);
}

TEST(Timetable, ManualScheduleHasNoAutomaticRuns) {
  const Timetable t = table("none");
  EXPECT_FALSE(t.schedules_runs());
  EXPECT_FALSE(t.next_run(std::nullopt, TimeRestriction{at("2024-01-01"), std::nullopt, true}, at("2024-06-01")));
  EXPECT_TRUE(t.intervals_between(at("2024-01-01"), at("2024-01-31")).empty());
  EXPECT_EQ(t.interval_for(at("2024-01-05T10:00:00Z")),
            (DataInterval{at("2024-01-05T10:00:00Z"), at("2024-01-05T10:00:00Z")}));
}

TEST(Timetable, BackfillRange) {
  const Timetable t = table("@daily");
  const std::vector<RunInfo> runs = t.intervals_between(at("2024-01-01T06:00:00Z"), at("2024-01-05T00:00:00Z"));
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs.front(), interval("2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"));
  EXPECT_EQ(runs.back(), interval("2024-01-05T00:00:00Z", "2024-01-06T00:00:00Z"));
  for (size_t i = 1; i < runs.size(); ++i) EXPECT_EQ(runs[i].interval.start, runs[i - 1].interval.end);
  EXPECT_TRUE(t.intervals_between(at("2024-01-05T01:00:00Z"), at("2024-01-05T23:00:00Z")).empty());
  // Bounded.
  EXPECT_EQ(table("* * * * *").intervals_between(at("2020-01-01"), at("2024-01-01"), 500).size(), 500u);
}

TEST(Timetable, ManualRunInterval) {
  const Timetable t = table("0 0 * * *");
  // Triggered at 01:00 on the 25th: the day that ended at midnight.
  EXPECT_EQ(t.interval_for(at("2024-01-25T01:00:00Z")),
            (DataInterval{at("2024-01-24T00:00:00Z"), at("2024-01-25T00:00:00Z")}));
  EXPECT_EQ(t.interval_for(at("2024-01-25T00:00:00Z")),
            (DataInterval{at("2024-01-24T00:00:00Z"), at("2024-01-25T00:00:00Z")}));
  EXPECT_EQ(table("@once").interval_for(at("2024-01-25T01:00:00Z")),
            (DataInterval{at("2024-01-25T01:00:00Z"), at("2024-01-25T01:00:00Z")}));
}

TEST(Timetable, Alignment) {
  const Timetable t = table("0 0 * * *");
  EXPECT_EQ(t.align_to_next(at("2024-01-01T00:00:00Z")), at("2024-01-01T00:00:00Z"));
  EXPECT_EQ(t.align_to_next(at("2024-01-01T00:00:01Z")), at("2024-01-02T00:00:00Z"));
  EXPECT_EQ(t.align_to_prev(at("2024-01-01T00:00:00Z")), at("2024-01-01T00:00:00Z"));
  EXPECT_EQ(t.align_to_prev(at("2024-01-01T23:59:59Z")), at("2024-01-01T00:00:00Z"));
}

TEST(Timetable, IntervalsFollowWallClockAcrossDst) {
  // Daily at midnight in Berlin: the interval containing the spring change lasts 23 hours, the one
  // containing the autumn change 25 hours.
  const Timetable t = table("@daily", "Europe/Berlin");
  const std::vector<RunInfo> spring = t.intervals_between(at("2024-03-30T00:00:00+01:00"), at("2024-03-31T00:00:00+01:00"));
  ASSERT_EQ(spring.size(), 2u);
  EXPECT_EQ(spring[0].interval.end - spring[0].interval.start, 24LL * 3600 * 1000000);
  EXPECT_EQ(spring[1].interval.end - spring[1].interval.start, 23LL * 3600 * 1000000);
  EXPECT_EQ(spring[1].interval.end, at("2024-04-01T00:00:00+02:00"));
  const std::vector<RunInfo> autumn = t.intervals_between(at("2024-10-27T00:00:00+02:00"), at("2024-10-27T00:00:00+02:00"));
  ASSERT_EQ(autumn.size(), 1u);
  EXPECT_EQ(autumn[0].interval.end - autumn[0].interval.start, 25LL * 3600 * 1000000);
}

TEST(Timetable, QuarterlyPreset) {
  const Timetable t = table("@quarterly", "America/New_York");
  const std::vector<RunInfo> runs = t.intervals_between(at("2024-01-01T05:00:00Z"), at("2024-12-31T00:00:00Z"));
  ASSERT_EQ(runs.size(), 4u);
  EXPECT_EQ(runs[0].interval.start, at("2024-01-01T00:00:00-05:00"));
  EXPECT_EQ(runs[1].interval.start, at("2024-04-01T00:00:00-04:00"));
  EXPECT_EQ(runs[3].interval.end, at("2025-01-01T00:00:00-05:00"));
}

TEST(Timetable, CreateReportsLocatedErrors) {
  Result<Timetable> bad_cron = Timetable::create("0 0 * * 8", "UTC", {"pipelines/p.yml", 2, 11});
  ASSERT_FALSE(bad_cron.ok());
  EXPECT_EQ(bad_cron.error().where().to_string(), "pipelines/p.yml:2:19");
  Result<Timetable> bad_zone = Timetable::create("@daily", "Mars/Olympus", {"pipelines/p.yml", 2, 11},
                                                 {"pipelines/p.yml", 3, 11});
  ASSERT_FALSE(bad_zone.ok());
  EXPECT_EQ(bad_zone.error().where().to_string(), "pipelines/p.yml:3:11");
}

}  // namespace
}  // namespace strata::orchestrate

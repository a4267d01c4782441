// Unit tests of CronExpression: every syntax, every error (with its column), next/prev fire
// times, and DST behaviour in Europe/Berlin, America/New_York and America/Sao_Paulo.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/time.h"
#include "orchestrate/cron.h"

namespace strata::orchestrate {
namespace {

int64_t at(const char* iso) {
  const std::optional<int64_t> t = parse_iso8601(iso);
  EXPECT_TRUE(t.has_value()) << iso;
  return t.value_or(0);
}

CronExpression cron(const char* text) {
  Result<CronExpression> parsed = CronExpression::parse(text);
  EXPECT_TRUE(parsed.ok()) << text << ": " << (parsed.ok() ? "" : parsed.error().to_string());
  return std::move(parsed).value();
}

TimeZone zone(const char* name) { return TimeZone::find(name).value(); }

// The next `n` fire times after `from`, formatted in `tz`.
std::vector<std::string> nexts(const char* expr, const char* from, const char* tz, int n) {
  const CronExpression c = cron(expr);
  const TimeZone z = zone(tz);
  std::vector<std::string> out;
  int64_t t = at(from);
  for (int i = 0; i < n; ++i) {
    const std::optional<int64_t> next = c.next(t, z);
    if (!next) break;
    out.push_back(format_in_zone(*next, z));
    t = *next;
  }
  return out;
}

std::vector<std::string> prevs(const char* expr, const char* from, const char* tz, int n) {
  const CronExpression c = cron(expr);
  const TimeZone z = zone(tz);
  std::vector<std::string> out;
  int64_t t = at(from);
  for (int i = 0; i < n; ++i) {
    const std::optional<int64_t> prev = c.prev(t, z);
    if (!prev) break;
    out.push_back(format_in_zone(*prev, z));
    t = *prev;
  }
  return out;
}

uint64_t bits(std::initializer_list<int> values) {
  uint64_t out = 0;
  for (int v : values) out |= uint64_t{1} << v;
  return out;
}

TEST(CronParse, StarsAndNumbers) {
  const CronFields f = cron("* * * * *").fields();
  EXPECT_EQ(f.minutes, (uint64_t{1} << 60) - 1);
  EXPECT_EQ(f.hours, 0xFFFFFFu);
  EXPECT_EQ(f.days, 0xFFFFFFFEu);
  EXPECT_EQ(f.months, 0x1FFEu);
  EXPECT_EQ(f.weekdays, 0x7Fu);
  EXPECT_FALSE(f.dom_restricted);
  EXPECT_FALSE(f.dow_restricted);
  const CronFields g = cron("5 4 3 2 1").fields();
  EXPECT_EQ(g.minutes, bits({5}));
  EXPECT_EQ(g.hours, bits({4}));
  EXPECT_EQ(g.days, bits({3}));
  EXPECT_EQ(g.months, bits({2}));
  EXPECT_EQ(g.weekdays, bits({1}));
}

TEST(CronParse, RangesStepsLists) {
  EXPECT_EQ(cron("10-14 * * * *").fields().minutes, bits({10, 11, 12, 13, 14}));
  EXPECT_EQ(cron("*/15 * * * *").fields().minutes, bits({0, 15, 30, 45}));
  EXPECT_EQ(cron("10-30/10 * * * *").fields().minutes, bits({10, 20, 30}));
  EXPECT_EQ(cron("50/4 * * * *").fields().minutes, bits({50, 54, 58}));
  EXPECT_EQ(cron("1,3,5-6,*/30 * * * *").fields().minutes, bits({0, 1, 3, 5, 6, 30}));
  EXPECT_EQ(cron("0 */6 * * *").fields().hours, bits({0, 6, 12, 18}));
  EXPECT_EQ(cron("0 0 */10 * *").fields().days, bits({1, 11, 21, 31}));
  EXPECT_EQ(cron("0 0 1 */3 *").fields().months, bits({1, 4, 7, 10}));
  // Day-of-week steps run over 0-7 like croniter: */2 = 0,2,4,6; */3 = 0,3,6 (7 is Sunday again).
  EXPECT_EQ(cron("0 0 * * */2").fields().weekdays, bits({0, 2, 4, 6}));
  EXPECT_EQ(cron("0 0 * * */3").fields().weekdays, bits({0, 3, 6}));
  EXPECT_EQ(cron("   0  0   *  * *  ").expanded(), "0 0 * * *");
}

TEST(CronParse, NamesAnyCase) {
  EXPECT_EQ(cron("0 0 * JAN,mar,Dec *").fields().months, bits({1, 3, 12}));
  EXPECT_EQ(cron("0 0 * feb-APR *").fields().months, bits({2, 3, 4}));
  EXPECT_EQ(cron("0 0 * * MON-FRI").fields().weekdays, bits({1, 2, 3, 4, 5}));
  EXPECT_EQ(cron("0 0 * * sun,Sat").fields().weekdays, bits({0, 6}));
  EXPECT_EQ(cron("0 0 * JUL *").fields().months, bits({7}));
}

TEST(CronParse, SundayIsZeroAndSeven) {
  EXPECT_EQ(cron("0 0 * * 7").fields().weekdays, bits({0}));
  EXPECT_EQ(cron("0 0 * * 5-7").fields().weekdays, bits({0, 5, 6}));
  EXPECT_EQ(cron("0 0 * * FRI-SUN").fields().weekdays, bits({0, 5, 6}));
  EXPECT_EQ(cron("0 0 * * 5-0").fields().weekdays, bits({0, 5, 6}));
  EXPECT_FALSE(cron("0 0 * * 0-7").fields().dow_restricted);
  EXPECT_FALSE(cron("0 0 * * 0-6").fields().dow_restricted);
}

TEST(CronParse, LastAndNth) {
  const CronFields l = cron("0 0 L * *").fields();
  EXPECT_TRUE(l.last_day);
  EXPECT_TRUE(l.dom_restricted);
  const CronFields last_friday = cron("0 0 * * 5L").fields();
  EXPECT_TRUE(last_friday.has_nth);
  EXPECT_EQ(last_friday.nth[5], 1u << 6);
  EXPECT_EQ(cron("0 0 * * L5").fields().nth, last_friday.nth);  // croniter's spelling
  EXPECT_EQ(cron("0 0 * * fril").fields().nth, last_friday.nth);
  const CronFields second_monday = cron("0 0 * * 1#2").fields();
  EXPECT_EQ(second_monday.nth[1], 1u << 2);
  EXPECT_EQ(cron("0 0 * * MON#2").fields().nth, second_monday.nth);
  EXPECT_EQ(cron("0 0 * * 7#1,0#3").fields().nth[0], (1u << 1) | (1u << 3));
}

TEST(CronParse, Presets) {
  const std::vector<std::pair<const char*, const char*>> presets = {
      {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},      {"@midnight", "0 0 * * *"},
      {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"},    {"@quarterly", "0 0 1 */3 *"},
      {"@yearly", "0 0 1 1 *"},   {"@annually", "0 0 1 1 *"},   {"@DAILY", "0 0 * * *"},
  };
  for (const auto& [name, expanded] : presets) {
    const CronExpression c = cron(name);
    EXPECT_EQ(c.kind(), ScheduleKind::kCron) << name;
    EXPECT_EQ(c.expanded(), expanded) << name;
    EXPECT_EQ(c.text(), name);
    EXPECT_EQ(c.fields().minutes, cron(expanded).fields().minutes);
    EXPECT_EQ(c.fields().months, cron(expanded).fields().months);
  }
  EXPECT_EQ(cron("@once").kind(), ScheduleKind::kOnce);
  for (const char* manual : {"none", "None", "null", "~"}) {
    EXPECT_EQ(cron(manual).kind(), ScheduleKind::kNone) << manual;
  }
  EXPECT_FALSE(cron("@once").next(at("2024-01-01"), TimeZone::utc()).has_value());
  EXPECT_FALSE(cron("none").prev(at("2024-01-01"), TimeZone::utc()).has_value());
}

struct BadCase {
  const char* text;
  int column;
  const char* message;
};

TEST(CronParse, ErrorsAreLocated) {
  const std::vector<BadCase> cases = {
      {"0 25 * * *", 3, "hour 25 out of range 0-23"},
      {"60 * * * *", 1, "minute 60 out of range 0-59"},
      {"0 0 32 * *", 5, "day-of-month 32 out of range 1-31"},
      {"0 0 0 * *", 5, "day-of-month 0 out of range 1-31"},
      {"0 0 * 13 *", 7, "month 13 out of range 1-12"},
      {"0 0 * 0 *", 7, "month 0 out of range 1-12"},
      {"0 0 * * 8", 9, "day-of-week 8 out of range 0-7"},
      {"0 0 * * 1-9", 11, "day-of-week 9 out of range 0-7"},
      {"0 0 * * *  *", 12, "expected 5 fields"},
      {"0 0 * *", 1, "expected 5 fields"},
      {"", 1, "empty schedule"},
      {"@minutely", 1, "unknown preset '@minutely'"},
      {"0 0 * JNA *", 7, "unknown month name 'JNA'"},
      {"0 0 * * MON-FRY", 13, "unknown day name 'FRY'"},
      {"MON * * * *", 1, "'MON' is not a number in the minute field"},
      {"0 0 1,,2 * *", 7, "empty item in the day-of-month field"},
      {"0 0 * * 5-2", 9, "range 5-2 in the day-of-week field goes backwards"},
      {"0 22-2 * * *", 3, "goes backwards"},
      {"*/0 * * * *", 3, "step 0"},
      {"*/x * * * *", 3, "bad step 'X'"},
      {"1- * * * *", 3, "missing value in the minute field"},
      {"-5 * * * *", 1, "missing value"},
      {"0 0 ? * *", 5, "'?' is not supported"},
      {"H * * * *", 1, "hashed values (H) are not supported"},
      {"0 L * * *", 3, "'L' is not allowed here in the hour field"},
      {"0 0 L-3 * *", 5, "'L' is not allowed here"},
      {"0 0 1#2 * *", 6, "'#' is not allowed in the day-of-month field"},
      {"0 0 * * 1#6", 11, "week number '6' after '#' must be 1-5"},
      {"0 0 * * 1#0", 11, "must be 1-5"},
      {"0 0 * * 9#1", 9, "day-of-week 9 out of range"},
      {"0 0 * * 1#2,3", 9, "cannot mix plain weekdays"},
      {"0 0 * * XL", 9, "unknown day name 'X'"},
      {"1.5 * * * *", 1, "'1.5' is not a number"},
  };
  for (const BadCase& c : cases) {
    Result<CronExpression> parsed = CronExpression::parse(c.text);
    ASSERT_FALSE(parsed.ok()) << c.text;
    const Error& e = parsed.error();
    EXPECT_EQ(e.code(), ErrorCode::kConfig) << c.text;
    EXPECT_EQ(e.where().column, c.column) << c.text << ": " << e.to_string();
    EXPECT_EQ(e.where().line, 1);
    EXPECT_NE(e.message().find(c.message), std::string::npos) << c.text << ": " << e.message();
    EXPECT_FALSE(e.hint().empty()) << c.text;
    EXPECT_EQ(e.exit_code(), 2);
  }
}

TEST(CronParse, ErrorColumnIsRelativeToTheFile) {
  // A schedule written at line 4, column 11 of a pipeline file.
  Result<CronExpression> parsed = CronExpression::parse("0 25 * * *", {"pipelines/p.yml", 4, 11});
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().where().to_string(), "pipelines/p.yml:4:13");
  EXPECT_NE(parsed.error().to_string().find("pipelines/p.yml:4:13: error: hour 25 out of range 0-23"),
            std::string::npos);
}

TEST(CronNext, StrictlyAfterAndSkipsFields) {
  EXPECT_EQ(nexts("0 0 * * *", "2024-01-01T00:00:00Z", "UTC", 2),
            (std::vector<std::string>{"2024-01-02T00:00:00+00:00", "2024-01-03T00:00:00+00:00"}));
  EXPECT_EQ(nexts("0 0 * * *", "2024-01-01T00:00:00.000001Z", "UTC", 1),
            (std::vector<std::string>{"2024-01-02T00:00:00+00:00"}));
  EXPECT_EQ(nexts("*/15 9-10 * * MON-FRI", "2024-01-05T10:50:00Z", "UTC", 3),
            (std::vector<std::string>{"2024-01-08T09:00:00+00:00", "2024-01-08T09:15:00+00:00",
                                      "2024-01-08T09:30:00+00:00"}));
  EXPECT_EQ(nexts("0 12 * JAN *", "2024-02-01T00:00:00Z", "UTC", 1),
            (std::vector<std::string>{"2025-01-01T12:00:00+00:00"}));
  EXPECT_EQ(nexts("59 23 31 12 *", "2024-12-31T23:59:00Z", "UTC", 1),
            (std::vector<std::string>{"2025-12-31T23:59:00+00:00"}));
}

TEST(CronNext, LeapDaysAndLastDays) {
  EXPECT_EQ(nexts("0 0 29 2 *", "2023-03-01T00:00:00Z", "UTC", 2),
            (std::vector<std::string>{"2024-02-29T00:00:00+00:00", "2028-02-29T00:00:00+00:00"}));
  // 2100 is not a leap year.
  EXPECT_EQ(nexts("0 0 29 2 *", "2097-01-01T00:00:00Z", "UTC", 1),
            (std::vector<std::string>{"2104-02-29T00:00:00+00:00"}));
  EXPECT_EQ(nexts("0 0 L * *", "2024-01-15T00:00:00Z", "UTC", 4),
            (std::vector<std::string>{"2024-01-31T00:00:00+00:00", "2024-02-29T00:00:00+00:00",
                                      "2024-03-31T00:00:00+00:00", "2024-04-30T00:00:00+00:00"}));
  EXPECT_EQ(nexts("0 0 15,L * *", "2023-02-01T00:00:00Z", "UTC", 3),
            (std::vector<std::string>{"2023-02-15T00:00:00+00:00", "2023-02-28T00:00:00+00:00",
                                      "2023-03-15T00:00:00+00:00"}));
  EXPECT_EQ(nexts("0 0 31 * *", "2024-04-01T00:00:00Z", "UTC", 2),
            (std::vector<std::string>{"2024-05-31T00:00:00+00:00", "2024-07-31T00:00:00+00:00"}));
  EXPECT_EQ(prevs("0 0 29 2 *", "2024-03-01T00:00:00Z", "UTC", 2),
            (std::vector<std::string>{"2024-02-29T00:00:00+00:00", "2020-02-29T00:00:00+00:00"}));
}

TEST(CronNext, NthAndLastWeekday) {
  // Second Monday, last Friday, fifth Sunday (only in months that have one).
  EXPECT_EQ(nexts("0 9 * * 1#2", "2024-01-01T00:00:00Z", "UTC", 3),
            (std::vector<std::string>{"2024-01-08T09:00:00+00:00", "2024-02-12T09:00:00+00:00",
                                      "2024-03-11T09:00:00+00:00"}));
  EXPECT_EQ(nexts("0 0 * * 5L", "2024-01-01T00:00:00Z", "UTC", 3),
            (std::vector<std::string>{"2024-01-26T00:00:00+00:00", "2024-02-23T00:00:00+00:00",
                                      "2024-03-29T00:00:00+00:00"}));
  EXPECT_EQ(nexts("0 0 * * 0#5", "2024-01-01T00:00:00Z", "UTC", 3),
            (std::vector<std::string>{"2024-03-31T00:00:00+00:00", "2024-06-30T00:00:00+00:00",
                                      "2024-09-29T00:00:00+00:00"}));
  EXPECT_EQ(prevs("0 0 * * 5L", "2024-03-29T00:00:00Z", "UTC", 2),
            (std::vector<std::string>{"2024-02-23T00:00:00+00:00", "2024-01-26T00:00:00+00:00"}));
}

TEST(CronNext, DayOfMonthOrDayOfWeek) {
  // Both restricted: a day matches when either does (Friday or the 13th).
  EXPECT_EQ(nexts("0 0 13 * 5", "2024-09-01T00:00:00Z", "UTC", 4),
            (std::vector<std::string>{"2024-09-06T00:00:00+00:00", "2024-09-13T00:00:00+00:00",
                                      "2024-09-20T00:00:00+00:00", "2024-09-27T00:00:00+00:00"}));
  EXPECT_EQ(nexts("0 0 13 * 2", "2024-09-01T00:00:00Z", "UTC", 3),
            (std::vector<std::string>{"2024-09-03T00:00:00+00:00", "2024-09-10T00:00:00+00:00",
                                      "2024-09-13T00:00:00+00:00"}));
  // A field listing every value counts as unrestricted (croniter): only the 13th.
  EXPECT_EQ(nexts("0 0 13 * 0-6", "2024-09-01T00:00:00Z", "UTC", 2),
            (std::vector<std::string>{"2024-09-13T00:00:00+00:00", "2024-10-13T00:00:00+00:00"}));
  // With D#N the OR rule holds too (croniter ignores the day of month here; see cron_dtest.cpp).
  EXPECT_EQ(nexts("0 0 1 * 1#2", "2024-01-02T00:00:00Z", "UTC", 3),
            (std::vector<std::string>{"2024-01-08T00:00:00+00:00", "2024-02-01T00:00:00+00:00",
                                      "2024-02-12T00:00:00+00:00"}));
}

TEST(CronNext, NeverFires) {
  EXPECT_FALSE(cron("0 0 30 2 *").next(at("2024-01-01"), TimeZone::utc()).has_value());
  EXPECT_FALSE(cron("0 0 31 4,6,9,11 *").prev(at("2024-01-01"), TimeZone::utc()).has_value());
}

TEST(CronPrev, StrictlyBefore) {
  EXPECT_EQ(prevs("0 0 * * *", "2024-01-02T00:00:00Z", "UTC", 2),
            (std::vector<std::string>{"2024-01-01T00:00:00+00:00", "2023-12-31T00:00:00+00:00"}));
  EXPECT_EQ(prevs("5 10 * * *", "2024-01-02T10:05:30Z", "UTC", 1),
            (std::vector<std::string>{"2024-01-02T10:05:00+00:00"}));
  EXPECT_EQ(prevs("*/20 * * * *", "2024-01-01T00:10:00Z", "UTC", 3),
            (std::vector<std::string>{"2024-01-01T00:00:00+00:00", "2023-12-31T23:40:00+00:00",
                                      "2023-12-31T23:20:00+00:00"}));
}

TEST(CronFiresAt, OnlyOnFireTimes) {
  const CronExpression c = cron("30 2 * * *");
  EXPECT_TRUE(c.fires_at(at("2024-01-01T02:30:00Z"), TimeZone::utc()));
  EXPECT_FALSE(c.fires_at(at("2024-01-01T02:30:01Z"), TimeZone::utc()));
  EXPECT_FALSE(c.fires_at(at("2024-01-01T02:31:00Z"), TimeZone::utc()));
}

TEST(CronDst, BerlinSpringForwardGap) {
  // 2024-03-31 02:00 CET → 03:00 CEST. 02:30 does not exist: it fires at 03:30 CEST (01:30Z).
  EXPECT_EQ(nexts("30 2 * * *", "2024-03-29T12:00:00Z", "Europe/Berlin", 4),
            (std::vector<std::string>{"2024-03-30T02:30:00+01:00", "2024-03-31T03:30:00+02:00",
                                      "2024-04-01T02:30:00+02:00", "2024-04-02T02:30:00+02:00"}));
  // Every 20 minutes 01-03h: the gap's times land on 03:00-03:40, each fired once.
  EXPECT_EQ(nexts("*/20 1-3 * * *", "2024-03-30T23:30:00Z", "Europe/Berlin", 7),
            (std::vector<std::string>{"2024-03-31T01:00:00+01:00", "2024-03-31T01:20:00+01:00",
                                      "2024-03-31T01:40:00+01:00", "2024-03-31T03:00:00+02:00",
                                      "2024-03-31T03:20:00+02:00", "2024-03-31T03:40:00+02:00",
                                      "2024-04-01T01:00:00+02:00"}));
  EXPECT_EQ(nexts("0 * * * *", "2024-03-30T23:30:00Z", "Europe/Berlin", 3),
            (std::vector<std::string>{"2024-03-31T01:00:00+01:00", "2024-03-31T03:00:00+02:00",
                                      "2024-03-31T04:00:00+02:00"}));
  EXPECT_EQ(prevs("30 2 * * *", "2024-04-01T22:00:00Z", "Europe/Berlin", 3),
            (std::vector<std::string>{"2024-04-01T02:30:00+02:00", "2024-03-31T03:30:00+02:00",
                                      "2024-03-30T02:30:00+01:00"}));
}

TEST(CronDst, BerlinFallBackAmbiguousHour) {
  // 2024-10-27 03:00 CEST → 02:00 CET: 02:00-02:59 happens twice; it fires on the first pass only.
  EXPECT_EQ(nexts("30 * * * *", "2024-10-26T22:10:00Z", "Europe/Berlin", 4),
            (std::vector<std::string>{"2024-10-27T00:30:00+02:00", "2024-10-27T01:30:00+02:00",
                                      "2024-10-27T02:30:00+02:00", "2024-10-27T03:30:00+01:00"}));
  EXPECT_EQ(nexts("30 2 * * *", "2024-10-25T12:00:00Z", "Europe/Berlin", 3),
            (std::vector<std::string>{"2024-10-26T02:30:00+02:00", "2024-10-27T02:30:00+02:00",
                                      "2024-10-28T02:30:00+01:00"}));
  // From inside the second pass (02:10 CET), the first-pass 02:30 CEST is already past: next is
  // strictly later, 03:30 CET.
  EXPECT_EQ(nexts("30 * * * *", "2024-10-27T01:10:00Z", "Europe/Berlin", 1),
            (std::vector<std::string>{"2024-10-27T03:30:00+01:00"}));
  EXPECT_EQ(prevs("30 * * * *", "2024-10-27T03:00:00Z", "Europe/Berlin", 3),
            (std::vector<std::string>{"2024-10-27T03:30:00+01:00", "2024-10-27T02:30:00+02:00",
                                      "2024-10-27T01:30:00+02:00"}));
}

TEST(CronDst, NewYork) {
  // 2024-03-10 02:00 EST → 03:00 EDT; 2024-11-03 02:00 EDT → 01:00 EST.
  EXPECT_EQ(nexts("0 2 * * *", "2024-03-09T12:00:00Z", "America/New_York", 3),
            (std::vector<std::string>{"2024-03-10T03:00:00-04:00", "2024-03-11T02:00:00-04:00",
                                      "2024-03-12T02:00:00-04:00"}));
  EXPECT_EQ(nexts("30 1 * * *", "2024-11-02T12:00:00Z", "America/New_York", 2),
            (std::vector<std::string>{"2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"}));
  EXPECT_EQ(nexts("0 */6 * * *", "2024-11-02T16:00:00Z", "America/New_York", 4),
            (std::vector<std::string>{"2024-11-02T18:00:00-04:00", "2024-11-03T00:00:00-04:00",
                                      "2024-11-03T06:00:00-05:00", "2024-11-03T12:00:00-05:00"}));
}

TEST(CronDst, SaoPauloMidnightGap) {
  // 2018-11-04 00:00 -03 → 01:00 -02: midnight does not exist that day; the daily run fires at
  // 01:00 -02 (03:00Z).
  EXPECT_EQ(nexts("0 0 * * *", "2018-11-02T12:00:00Z", "America/Sao_Paulo", 3),
            (std::vector<std::string>{"2018-11-03T00:00:00-03:00", "2018-11-04T01:00:00-02:00",
                                      "2018-11-05T00:00:00-02:00"}));
  // 2019-02-17 00:00 -02 → 23:00 -03 on the 16th: 23:30 happens twice, fires on the first pass.
  EXPECT_EQ(nexts("30 23 * * *", "2019-02-15T12:00:00Z", "America/Sao_Paulo", 3),
            (std::vector<std::string>{"2019-02-15T23:30:00-02:00", "2019-02-16T23:30:00-02:00",
                                      "2019-02-17T23:30:00-03:00"}));
}

TEST(TimeZoneTest, FindAndFormat) {
  EXPECT_TRUE(TimeZone::find("UTC")->is_utc());
  EXPECT_EQ(TimeZone::find("Europe/Berlin")->name(), "Europe/Berlin");
  Result<TimeZone> bad = TimeZone::find("Europe/Berlinn", {"pipelines/p.yml", 3, 11});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(bad.error().where().to_string(), "pipelines/p.yml:3:11");
  EXPECT_NE(bad.error().message().find("unknown time zone 'Europe/Berlinn'"), std::string::npos);
  EXPECT_FALSE(bad.error().hint().empty());
  EXPECT_EQ(format_in_zone(at("2024-07-01T12:00:00Z"), zone("Asia/Kolkata")), "2024-07-01T17:30:00+05:30");
  EXPECT_EQ(format_in_zone(at("2024-07-01T12:00:00.25Z"), TimeZone::utc()), "2024-07-01T12:00:00.250000+00:00");
  const TimeZone berlin = zone("Europe/Berlin");
  // Gap: 02:30 local on 2024-03-31 reads with the old offset (+01:00) → 01:30Z.
  EXPECT_EQ(berlin.from_local(at("2024-03-31T02:30:00Z") / 1000000) * 1000000, at("2024-03-31T01:30:00Z"));
  // Ambiguous: 02:30 local on 2024-10-27 is the first pass (+02:00) → 00:30Z.
  EXPECT_EQ(berlin.from_local(at("2024-10-27T02:30:00Z") / 1000000) * 1000000, at("2024-10-27T00:30:00Z"));
}

}  // namespace
}  // namespace strata::orchestrate

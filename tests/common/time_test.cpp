#include "common/time.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(Time, Iso8601RoundTrip) {
  auto t = parse_iso8601("2026-11-28T04:19:31.5Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(format_iso8601(*t), "2026-11-28T04:19:31.500000Z");
  EXPECT_EQ(*parse_iso8601("1970-01-01"), 0);
  EXPECT_EQ(*parse_iso8601("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(format_iso8601(-1000000), "1969-12-31T23:59:59Z");
  EXPECT_FALSE(parse_iso8601("2026-13-01").has_value());
  EXPECT_FALSE(parse_iso8601("yesterday").has_value());
}

TEST(Time, Durations) {
  EXPECT_EQ(*parse_duration("30s"), 30'000'000);
  EXPECT_EQ(*parse_duration("5m"), 300'000'000);
  EXPECT_EQ(*parse_duration("1h30m"), 5'400'000'000);
  EXPECT_EQ(*parse_duration("250ms"), 250'000);
  EXPECT_EQ(*parse_duration("300"), 300'000'000);
  EXPECT_EQ(*parse_duration("2 days"), 172'800'000'000);
  EXPECT_FALSE(parse_duration("5 parsecs").has_value());
  EXPECT_FALSE(parse_duration("").has_value());
  EXPECT_FALSE(parse_duration("-5s").has_value());
}

TEST(Time, CivilDates) {
  for (int64_t days : {-719468LL, -1LL, 0LL, 10957LL, 20000LL, 2932896LL}) {
    int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    EXPECT_EQ(days_from_civil(y, m, d), days);
  }
  EXPECT_EQ(days_from_civil(2000, 1, 1), 10957);
}

}  // namespace
}  // namespace strata

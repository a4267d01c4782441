#include "common/error.h"
#include "common/result.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return Error(ErrorCode::kConfig, "must be positive", {"f.yml", 3, 7}, "use 1 or more");
  return v;
}

Result<int> doubled(int v) {
  STRATA_ASSIGN(int x, parse_positive(v));
  return x * 2;
}

TEST(Error, FormatsLocationMessageAndHint) {
  Error e(ErrorCode::kConfig, "bad port", {"conn.yml", 4, 9}, "use a number");
  EXPECT_EQ(e.to_string(), "conn.yml:4:9: error: bad port\n  hint: use a number");
  EXPECT_EQ(e.exit_code(), 2);
  EXPECT_EQ(Error(ErrorCode::kConnection, "x").exit_code(), 3);
  EXPECT_EQ(Error(ErrorCode::kFailed, "x").exit_code(), 1);
  EXPECT_EQ(Error(ErrorCode::kFailed, "x").to_string(), "error: x");
}

TEST(Result, PropagatesErrorsAndValues) {
  auto ok = doubled(4);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 8);
  auto bad = doubled(-1);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().where().line, 3);
  EXPECT_EQ(bad.error().hint(), "use 1 or more");
  EXPECT_EQ(bad.value_or(5), 5);
}

TEST(Result, StatusDefaultsToOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  Status bad = Error(ErrorCode::kUsage, "nope");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().exit_code(), 2);
}

}  // namespace
}  // namespace strata

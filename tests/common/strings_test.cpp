// Unit tests of common/strings.h's edit distance and "did you mean" match.

#include "common/strings.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(Strings, EditDistanceCountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("sync_mode", "sync_mode"), 0u);
  EXPECT_EQ(edit_distance("sync_mod", "sync_mode"), 1u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
}

TEST(Strings, ClosestMatchStaysWithinTheDistance) {
  const std::vector<std::string_view> modes = {"full_refresh_overwrite", "full_refresh_append", "incremental_append",
                                               "incremental_dedup"};
  EXPECT_EQ(closest_match("incremental_apend", modes), "incremental_append");
  EXPECT_EQ(closest_match("incremental_dedupe", modes), "incremental_dedup");
  EXPECT_EQ(closest_match("snapshot", modes), "");
  EXPECT_EQ(closest_match("cursor_fild", {"cursor_field", "columns"}, 1), "cursor_field");
  EXPECT_EQ(closest_match("cursor_fd", {"cursor_field", "columns"}, 1), "");
}

}  // namespace
}  // namespace strata

// staging_memory_limit: the DuckDB memory limit a stream's staging runs under, by row width.

#include "ingest/stage_writer.h"

#include <gtest/gtest.h>

namespace strata::ingest {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;

TEST(StagingMemoryLimit, NarrowRowsKeepTheBase) {
  EXPECT_EQ(staging_memory_limit(128 * kMiB, 126), 128 * kMiB);   // pgbench_accounts
  EXPECT_EQ(staging_memory_limit(128 * kMiB, 4096), 128 * kMiB);  // 1.5 vectors: 12 MiB
  EXPECT_EQ(staging_memory_limit(128 * kMiB, 0), 128 * kMiB);
  EXPECT_EQ(staging_memory_limit(128 * kMiB, -1), 128 * kMiB);
}

TEST(StagingMemoryLimit, WideRowsAddOneAndAHalfVectorsInStepsOf64MiB) {
  // 1.5 x 2,048 rows of 512 KiB: 1.5 GiB on top of the base.
  EXPECT_EQ(staging_memory_limit(128 * kMiB, 512.0 * 1024), 128 * kMiB + 1536 * kMiB);
  // 1.5 x 2,048 x 16 KiB = 48 MiB, more than a quarter of the base: rounded up to 64 MiB.
  EXPECT_EQ(staging_memory_limit(128 * kMiB, 16.0 * 1024), 192 * kMiB);
  // Just above a step: the next one.
  EXPECT_EQ(staging_memory_limit(8 * kMiB, 64.0 * 1024 / 3 + 1), 8 * kMiB + 128 * kMiB);
  // Never below the base, and growing with the width.
  EXPECT_LT(staging_memory_limit(8 * kMiB, 100000), staging_memory_limit(8 * kMiB, 200000));
}

}  // namespace
}  // namespace strata::ingest

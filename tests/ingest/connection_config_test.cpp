// Unit tests of ingest/connection_config.h's names: sync modes (with Airbyte's) and bronze tables.

#include "ingest/connection_config.h"

#include <gtest/gtest.h>

namespace strata::ingest {
namespace {

TEST(ConnectionConfig, SyncModeNamesRoundTripAndAirbytesDedupNameIsAccepted) {
  for (SyncMode m : {SyncMode::kFullRefreshOverwrite, SyncMode::kFullRefreshAppend, SyncMode::kIncrementalAppend,
                     SyncMode::kIncrementalDedup}) {
    EXPECT_EQ(parse_sync_mode(sync_mode_name(m)), m);
  }
  EXPECT_EQ(parse_sync_mode("incremental_deduped_history"), SyncMode::kIncrementalDedup);
  EXPECT_EQ(parse_sync_mode("Incremental_Append"), std::nullopt);
}

TEST(ConnectionConfig, BronzeTableNames) {
  StreamConfig s;
  s.schema = "public";
  s.table = "orders";
  EXPECT_EQ(bronze_table_name(s), "orders");
  s.schema = "sales";
  EXPECT_EQ(bronze_table_name(s), "sales_orders");
  s.bronze_table = "orders_eu";
  EXPECT_EQ(bronze_table_name(s), "orders_eu");
  EXPECT_EQ(default_bronze_table("my.sch", "t"), "my.sch_t");
}

}  // namespace
}  // namespace strata::ingest

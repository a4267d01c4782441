// Unit tests of ingest/sync.h's pure helpers: how many readers a stream gets, and the report's
// text and JSON forms.

#include "ingest/sync.h"

#include <gtest/gtest.h>

namespace strata::ingest {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

CatalogTable table_of(int64_t bytes, TableKind kind = TableKind::kTable) {
  CatalogTable t;
  t.kind = kind;
  t.size_bytes = bytes;
  t.pages = bytes / 8192;
  return t;
}

TEST(ReadParallelism, LargeTablesThatFitInSharedBuffersGetTheMaximum) {
  ConnectionConfig config;  // threshold 256 MiB, at most 4 readers
  StreamConfig stream;
  const int64_t shared_buffers = 1024 * kMiB;
  EXPECT_EQ(read_parallelism(table_of(512 * kMiB), stream, config, shared_buffers), 4);
  EXPECT_EQ(read_parallelism(table_of(100 * kMiB), stream, config, shared_buffers), 1);  // below the threshold
  // Larger than shared_buffers: one reader (a sequential scan keeps to its buffer ring).
  EXPECT_EQ(read_parallelism(table_of(2048 * kMiB), stream, config, shared_buffers), 1);
  EXPECT_EQ(read_parallelism(table_of(2048 * kMiB), stream, config, 0), 4);  // shared_buffers unknown
  config.max_parallelism = 3;
  EXPECT_EQ(read_parallelism(table_of(512 * kMiB), stream, config, shared_buffers), 3);
}

TEST(ReadParallelism, AStreamsOwnSettingWinsUpToOneReaderPerPage) {
  ConnectionConfig config;
  StreamConfig stream;
  stream.parallelism = 8;
  EXPECT_EQ(read_parallelism(table_of(2048 * kMiB), stream, config, 256 * kMiB), 8);
  EXPECT_EQ(read_parallelism(table_of(3 * 8192), stream, config, 256 * kMiB), 3);
  // Views have no ctid ranges; one-page tables nothing to split.
  EXPECT_EQ(read_parallelism(table_of(512 * kMiB, TableKind::kView), stream, config, 0), 1);
  EXPECT_EQ(read_parallelism(table_of(8192), stream, config, 0), 1);
}

TEST(SyncReport, SchemaChangesAndWarningsAreListsInTextAndJson) {
  SyncReport report;
  report.sync_id = "1";
  report.connection = "erp";
  StreamReport s;
  s.stream = "public.orders";
  s.bronze = "bronze.orders";
  s.mode = "incremental_dedup";
  s.ok = true;
  s.schema_changes = {"added column a", "kept dropped column b"};
  s.warnings = {"compacting bronze.orders failed: disk full"};
  report.streams.push_back(s);
  const nlohmann::json json = report_to_json(report);
  EXPECT_EQ(json["status"], "success");
  EXPECT_EQ(json["streams"][0]["schema_changes"].size(), 2u);
  EXPECT_EQ(json["streams"][0]["warnings"][0], "compacting bronze.orders failed: disk full");
  const std::string text = report_to_text(report);
  EXPECT_NE(text.find("    schema: kept dropped column b\n"), std::string::npos) << text;
  EXPECT_NE(text.find("    warning: compacting bronze.orders failed: disk full\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace strata::ingest

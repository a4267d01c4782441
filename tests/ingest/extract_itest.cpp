// Extraction against a real PostgreSQL: how a cursor's read reaches the heap.

#include <string>
#include <vector>

#include "ingest/extract.h"
#include "ingest_fixture.h"

namespace strata::ingest::testing {
namespace {

class Extract : public IngestTest {};

// The cursor runs against the physical order and is indexed: for 1 % of the rows the planner's
// own choice is an index scan, which returns them in cursor order, one heap fetch each. The read
// gets them in physical order (a bitmap heap scan), as the design asks.
TEST_F(Extract, ACursorReadComesInPhysicalOrderNotThroughTheCursorsIndex) {
  constexpr int kRows = 20000;
  source("CREATE TABLE events (id int, seq int, pad text);"
         "INSERT INTO events SELECT g, " + std::to_string(kRows + 1) + " - g, 'p' FROM generate_series(1, " +
         std::to_string(kRows) + ") g;"
         "CREATE INDEX ON events (seq); ANALYZE events;");
  const std::string where = "\"seq\" >= " + std::to_string(kRows + 1 - kRows / 100);
  std::string planned;
  for (const auto& row : source_rows("EXPLAIN SELECT id FROM events WHERE " + where)) planned += row[0] + "\n";
  ASSERT_NE(planned.find("Index Scan"), std::string::npos) << "the planner would not use the index: " << planned;

  ReadPlan plan;
  plan.relation = "\"public\".\"events\"";
  plan.expressions = {"\"id\""};
  plan.columns = {{"id", pg::WireKind::kInt4, 0, sql::LogicalType::int32()}};
  plan.where = where;
  ReadOptions options;
  options.conninfo = pg_->conninfo(db_name_);
  std::vector<int32_t> ids;
  Status read = read_stream(plan, options, [&](sql::ColumnBatch&& batch) -> Status {
    for (size_t r = 0; r < batch.num_rows(); ++r) ids.push_back(batch.column(0).get<int32_t>(r));
    return ok_status();
  });
  ASSERT_TRUE(read.ok()) << read.error().to_string();
  std::vector<int32_t> physical(kRows / 100);
  for (size_t i = 0; i < physical.size(); ++i) physical[i] = static_cast<int32_t>(i + 1);
  EXPECT_EQ(ids, physical);
}

}  // namespace
}  // namespace strata::ingest::testing

// ChangeSpool: what a recording read appends is replayed whole and in order (payloads with NUL
// bytes and empty ones included), by every reader; an incomplete spool replays nothing; the
// states move only forward.

#include "ingest/change_spool.h"

#include <gtest/gtest.h>

namespace strata::ingest {
namespace {

pg::ReplicationMessage data(pg::Lsn start, pg::Lsn end, std::string_view payload) {
  pg::ReplicationMessage m;
  m.kind = pg::ReplicationMessage::Kind::kData;
  m.wal_start = start;
  m.wal_end = end;
  m.payload = payload;
  return m;
}

TEST(ChangeSpoolTest, ReplaysWhatWasRecordedInOrder) {
  ChangeSpool spool;
  EXPECT_EQ(spool.state(), ChangeSpool::State::kEmpty);
  EXPECT_EQ(spool.replay().next()->kind, pg::ReplicationMessage::Kind::kEnd);
  ASSERT_TRUE(spool.start_recording().ok());
  EXPECT_FALSE(spool.start_recording().ok());
  const std::string big(300000, 'x');
  const std::string with_nul("B\0\1\2", 4);
  ASSERT_TRUE(spool.append(data(10, 20, with_nul)).ok());
  ASSERT_TRUE(spool.append(data(30, 40, "")).ok());
  ASSERT_TRUE(spool.append(data(50, 60, big)).ok());
  // Not complete yet: nothing to replay.
  EXPECT_EQ(spool.replay().next()->kind, pg::ReplicationMessage::Kind::kEnd);
  ASSERT_TRUE(spool.finish_recording().ok());
  EXPECT_EQ(spool.state(), ChangeSpool::State::kComplete);
  EXPECT_FALSE(spool.append(data(70, 80, "late")).ok());
  EXPECT_EQ(spool.bytes(), 3 * 20 + 4 + 0 + 300000);
  for (int round = 0; round < 2; ++round) {
    ChangeSpool::Reader reader = spool.replay();
    auto m = reader.next();
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->kind, pg::ReplicationMessage::Kind::kData);
    EXPECT_EQ(m->wal_start, 10u);
    EXPECT_EQ(m->wal_end, 20u);
    EXPECT_EQ(std::string(m->payload), with_nul);
    m = reader.next();
    EXPECT_EQ(m->wal_start, 30u);
    EXPECT_TRUE(m->payload.empty());
    m = reader.next();
    EXPECT_EQ(m->wal_start, 50u);
    EXPECT_EQ(m->payload, big);
    EXPECT_EQ(reader.next()->kind, pg::ReplicationMessage::Kind::kEnd);
    EXPECT_EQ(reader.next()->kind, pg::ReplicationMessage::Kind::kEnd);
  }
}

}  // namespace
}  // namespace strata::ingest

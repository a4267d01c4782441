// pgoutput messages and LSNs, built byte by byte as PostgreSQL's protocol documentation lays
// them out (the integration tests read real ones, see tests/ingest/cdc_itest.cpp).

#include <gtest/gtest.h>

#include "pg/pgoutput.h"
#include "pg/replication.h"

namespace strata::pg {
namespace {

// Appends big-endian integers and NUL-terminated strings.
struct Bytes {
  std::string data;
  Bytes& byte(char c) {
    data.push_back(c);
    return *this;
  }
  Bytes& u(uint64_t v, int size) {
    for (int i = size - 1; i >= 0; --i) data.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    return *this;
  }
  Bytes& str(const std::string& s) {
    data += s;
    data.push_back('\0');
    return *this;
  }
  Bytes& value(char kind, const std::string& bytes = {}) {
    byte(kind);
    if (kind == 't' || kind == 'b') {
      u(bytes.size(), 4);
      data += bytes;
    }
    return *this;
  }
};

TEST(Lsn, ParsesAndFormatsPostgresTextForm) {
  EXPECT_EQ(parse_lsn("16/B374D848"), 0x16B374D848u);
  EXPECT_EQ(parse_lsn("0/0"), 0u);
  EXPECT_EQ(parse_lsn("FFFFFFFF/FFFFFFFF"), UINT64_MAX);
  EXPECT_EQ(format_lsn(0x16B374D848u), "16/B374D848");
  EXPECT_EQ(format_lsn(0), "0/0");
  for (const char* bad : {"", "16", "/1", "1/", "g/1", "123456789/0", "1/2/3"}) EXPECT_FALSE(parse_lsn(bad)) << bad;
}

TEST(PgOutput, BeginCommitAndRelation) {
  auto begin = parse_pgoutput(Bytes().byte('B').u(0x100, 8).u(12345, 8).u(77, 4).data);
  ASSERT_TRUE(begin.ok());
  EXPECT_EQ(begin->lsn, 0x100u);
  EXPECT_EQ(begin->timestamp, 12345);
  EXPECT_EQ(begin->xid, 77u);
  auto commit = parse_pgoutput(Bytes().byte('C').byte(0).u(0x100, 8).u(0x130, 8).u(12345, 8).data);
  ASSERT_TRUE(commit.ok());
  EXPECT_EQ(commit->lsn, 0x100u);
  EXPECT_EQ(commit->end_lsn, 0x130u);
  auto rel = parse_pgoutput(Bytes()
                                .byte('R').u(16384, 4).str("public").str("items").byte('d').u(2, 2)
                                .byte(1).str("id").u(23, 4).u(0xFFFFFFFF, 4)
                                .byte(0).str("name").u(25, 4).u(0xFFFFFFFF, 4)
                                .data);
  ASSERT_TRUE(rel.ok()) << rel.error().to_string();
  EXPECT_EQ(rel->relation, 16384u);
  EXPECT_EQ(rel->schema, "public");
  EXPECT_EQ(rel->name, "items");
  ASSERT_EQ(rel->columns.size(), 2u);
  EXPECT_TRUE(rel->columns[0].key);
  EXPECT_FALSE(rel->columns[1].key);
  EXPECT_EQ(rel->columns[1].type_oid, 25u);
  EXPECT_EQ(rel->columns[1].type_modifier, -1);
}

TEST(PgOutput, InsertUpdateDeleteTuples) {
  auto insert = parse_pgoutput(
      Bytes().byte('I').u(16384, 4).byte('N').u(3, 2).value('b', std::string("\0\0\0\x07", 4)).value('n').value('t', "x").data);
  ASSERT_TRUE(insert.ok());
  ASSERT_EQ(insert->new_tuple.size(), 3u);
  EXPECT_EQ(insert->new_tuple[0].kind, 'b');
  EXPECT_EQ(insert->new_tuple[0].bytes.size(), 4u);
  EXPECT_EQ(insert->new_tuple[1].kind, 'n');
  EXPECT_EQ(insert->new_tuple[2].bytes, "x");
  // An update of the key sends the old key first; one of a row with REPLICA IDENTITY FULL, the old row.
  auto update = parse_pgoutput(Bytes()
                                   .byte('U').u(1, 4).byte('K').u(2, 2).value('b', "k").value('n')
                                   .byte('N').u(2, 2).value('b', "j").value('u').data);
  ASSERT_TRUE(update.ok());
  EXPECT_EQ(update->old_kind, 'K');
  EXPECT_EQ(update->old_tuple[0].bytes, "k");
  EXPECT_EQ(update->new_tuple[1].kind, 'u');
  auto plain = parse_pgoutput(Bytes().byte('U').u(1, 4).byte('N').u(1, 2).value('b', "v").data);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->old_kind, 0);
  auto del = parse_pgoutput(Bytes().byte('D').u(1, 4).byte('O').u(1, 2).value('b', "v").data);
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->old_kind, 'O');
  EXPECT_TRUE(del->new_tuple.empty());
  auto truncate = parse_pgoutput(Bytes().byte('T').u(2, 4).byte(1).u(10, 4).u(11, 4).data);
  ASSERT_TRUE(truncate.ok());
  EXPECT_EQ(truncate->truncated, (std::vector<uint32_t>{10, 11}));
  EXPECT_TRUE(truncate->cascade);
}

TEST(PgOutput, TruncatedOrUnknownMessagesAreErrors) {
  for (const std::string& bad :
       {Bytes().byte('B').u(1, 4).data, Bytes().byte('I').u(1, 4).byte('N').u(2, 2).value('b', "x").data,
        Bytes().byte('I').u(1, 4).byte('N').u(1, 2).byte('b').u(10, 4).data + "abc",
        Bytes().byte('D').u(1, 4).byte('N').data, Bytes().byte('R').u(1, 4).str("public").data, std::string("Z"),
        std::string()}) {
    auto parsed = parse_pgoutput(bad);
    EXPECT_FALSE(parsed.ok()) << "message of " << bad.size() << " bytes";
    if (!parsed.ok()) {
      EXPECT_NE(parsed.error().message().find("malformed pgoutput"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace strata::pg

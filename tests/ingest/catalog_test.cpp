// Unit tests of ingest/catalog.h: stream names as users write them, with double quotes around a
// part that holds a dot, and the quoted form discovery prints for such names.

#include "ingest/catalog.h"

#include <gtest/gtest.h>

namespace strata::ingest {
namespace {

struct Parsed {
  std::string schema, table;
  bool quoted;
  bool operator==(const Parsed&) const = default;
};

std::optional<Parsed> parse(const std::string& text) {
  std::string why;
  auto name = parse_stream_name(text, why);
  if (!name) return std::nullopt;
  return Parsed{name->schema, name->table, name->quoted};
}

TEST(StreamNames, PlainQuotedAndBroken) {
  EXPECT_EQ(parse("public.orders"), (Parsed{"public", "orders", false}));
  EXPECT_EQ(parse("orders"), (Parsed{"public", "orders", false}));
  // Unquoted, the first dot splits (validation then tries the others against the catalog).
  EXPECT_EQ(parse("x.y.z"), (Parsed{"x", "y.z", false}));
  EXPECT_EQ(parse("\"x.y\".z"), (Parsed{"x.y", "z", true}));
  EXPECT_EQ(parse("x.\"y.z\""), (Parsed{"x", "y.z", true}));
  EXPECT_EQ(parse("\"say \"\"hi\"\"\".\"t\""), (Parsed{"say \"hi\"", "t", true}));
  EXPECT_EQ(parse("\"Orders\""), (Parsed{"public", "Orders", true}));
  // A double quote that does not start a part is part of the name.
  EXPECT_EQ(parse("we\"ird; sch.tab le;\"x\""), (Parsed{"we\"ird; sch", "tab le;\"x\"", false}));
  std::string why;
  EXPECT_FALSE(parse_stream_name("\"x.y.z", why));
  EXPECT_EQ(why, "the double quote at character 1 is never closed");
  EXPECT_FALSE(parse_stream_name("\"a\".\"b\".\"c\"", why));
  EXPECT_NE(why.find("two parts"), std::string::npos) << why;
  EXPECT_FALSE(parse_stream_name(".orders", why));
  EXPECT_FALSE(parse_stream_name("\"\".orders", why));
  EXPECT_FALSE(parse_stream_name("\"x\"y.z", why));
  EXPECT_EQ(why, "a dot must follow the closing double quote at character 3");
}

TEST(StreamNames, TheQuotedFormReadsBackExactly) {
  EXPECT_EQ(quoted_stream_name("public", "orders"), "public.orders");
  EXPECT_EQ(quoted_stream_name("x", "y.z"), "\"x\".\"y.z\"");
  EXPECT_EQ(quoted_stream_name("x.y", "z"), "\"x.y\".\"z\"");
  for (const auto& [schema, table] : std::vector<std::pair<std::string, std::string>>{
           {"x", "y.z"}, {"x.y", "z"}, {"we\"ird", "t"}, {"a", "b\"."}, {"public", "orders"}}) {
    std::string why;
    auto back = parse_stream_name(quoted_stream_name(schema, table), why);
    ASSERT_TRUE(back) << why;
    EXPECT_EQ(back->schema, schema);
    EXPECT_EQ(back->table, table);
  }
}

}  // namespace
}  // namespace strata::ingest

#include "sql/statements.h"

#include <gtest/gtest.h>

#include <string>

namespace strata::sql {
namespace {

std::pair<std::string, std::string> split(std::string_view sql) {
  auto [before, last] = split_last_statement(sql);
  return {std::string(before), std::string(last)};
}

TEST(SplitLastStatement, OneStatementWithOrWithoutItsSemicolon) {
  EXPECT_EQ(split("SELECT 1"), (std::pair<std::string, std::string>{"", "SELECT 1"}));
  EXPECT_EQ(split("SELECT 1;"), (std::pair<std::string, std::string>{"", "SELECT 1"}));
  EXPECT_EQ(split("SELECT 1;  -- done\n /* really */ "), (std::pair<std::string, std::string>{"", "SELECT 1"}));
  EXPECT_EQ(split(""), (std::pair<std::string, std::string>{"", ""}));
}

TEST(SplitLastStatement, SeveralStatements) {
  EXPECT_EQ(split("SET x = 1; SELECT 2"), (std::pair<std::string, std::string>{"SET x = 1;", " SELECT 2"}));
  EXPECT_EQ(split("a; b; c;\n"), (std::pair<std::string, std::string>{"a; b;", " c"}));
}

TEST(SplitLastStatement, SemicolonsInsideStringsIdentifiersCommentsAndDollarQuotesDoNotSplit) {
  EXPECT_EQ(split("SELECT 'a;b', 'it''s;'").second, "SELECT 'a;b', 'it''s;'");
  EXPECT_EQ(split("SELECT E'x\\';y'").second, "SELECT E'x\\';y'");
  EXPECT_EQ(split("SELECT \"we;ird\"\"x\" FROM t").second, "SELECT \"we;ird\"\"x\" FROM t");
  EXPECT_EQ(split("SELECT 1 -- a; b\n + 2").second, "SELECT 1 -- a; b\n + 2");
  EXPECT_EQ(split("SELECT /* a /* nested; */ ; */ 3").second, "SELECT /* a /* nested; */ ; */ 3");
  EXPECT_EQ(split("DO $body$ BEGIN PERFORM 1; END $body$; SELECT $$;$$").first,
            "DO $body$ BEGIN PERFORM 1; END $body$;");
  EXPECT_EQ(split("DO $body$ BEGIN PERFORM 1; END $body$; SELECT $$;$$").second, " SELECT $$;$$");
  // A parameter is no dollar quote, and an identifier's E is no escape-string prefix.
  EXPECT_EQ(split("SELECT $1; SELECT 2").first, "SELECT $1;");
  EXPECT_EQ(split("SELECT name'x'; SELECT 2").first, "SELECT name'x';");
}

}  // namespace
}  // namespace strata::sql

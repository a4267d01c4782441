// Unit tests: conninfo / URL parsing, password candidates and scrubbing, quoting. No server.

#include "pg/conninfo.h"

#include <gtest/gtest.h>

#include "pg/connection.h"

namespace strata::pg {
namespace {

TEST(ConnParamsTest, ParsesKeyValueConninfo) {
  auto params = ConnParams::parse("host=db.internal port=6543 dbname='my db' user=app sslmode=require");
  ASSERT_TRUE(params.ok()) << params.error().message();
  EXPECT_EQ(params->get("host"), "db.internal");
  EXPECT_EQ(params->get("port"), "6543");
  EXPECT_EQ(params->get("dbname"), "my db");
  EXPECT_EQ(params->get("user"), "app");
  EXPECT_EQ(params->get("sslmode"), "require");
  EXPECT_FALSE(params->has("password"));
  EXPECT_EQ(params->get("password", "none"), "none");
  EXPECT_EQ(params->describe(), "host db.internal, port 6543, database my db, user app");
}

TEST(ConnParamsTest, ParsesUrlWithPercentEncodingAndQuery) {
  auto params = ConnParams::parse("postgresql://app:p%40ss%2Fword@db.example.com:5433/shop%20eu?sslmode=verify-full"
                                  "&application_name=nightly");
  ASSERT_TRUE(params.ok()) << params.error().message();
  EXPECT_EQ(params->get("user"), "app");
  EXPECT_EQ(params->get("password"), "p@ss/word");
  EXPECT_EQ(params->get("host"), "db.example.com");
  EXPECT_EQ(params->get("port"), "5433");
  EXPECT_EQ(params->get("dbname"), "shop eu");
  EXPECT_EQ(params->get("sslmode"), "verify-full");
  EXPECT_EQ(params->get("application_name"), "nightly");
  EXPECT_EQ(params->describe().find("p@ss"), std::string::npos);
}

TEST(ConnParamsTest, ShortSchemeAndIpv6Host) {
  auto params = ConnParams::parse("postgres://[::1]:5432/db");
  ASSERT_TRUE(params.ok()) << params.error().message();
  EXPECT_EQ(params->get("host"), "::1");
  EXPECT_EQ(params->get("dbname"), "db");
}

TEST(ConnParamsTest, RoundTripsThroughQuotedConninfo) {
  ConnParams params;
  params.set("host", "h");
  params.set("password", "it's a \\ secret");
  params.set("dbname", "d b");
  params.set("host", "h2");  // replaces
  EXPECT_EQ(params.entries().size(), 3u);
  auto again = ConnParams::parse(params.to_conninfo());
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->get("host"), "h2");
  EXPECT_EQ(again->get("password"), "it's a \\ secret");
  EXPECT_EQ(again->get("dbname"), "d b");
  EXPECT_EQ(params.to_redacted_conninfo(), "host='h2' password=**** dbname='d b'");
  params.erase("password");
  EXPECT_FALSE(params.has("password"));
}

TEST(ConnParamsTest, BadConninfoIsAConfigErrorWithoutThePassword) {
  auto bad_key = ConnParams::parse("host=h password=Sup3rSecret nonsense_key=1");
  ASSERT_FALSE(bad_key.ok());
  EXPECT_EQ(bad_key.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(bad_key.error().exit_code(), 2);
  EXPECT_NE(bad_key.error().message().find("nonsense_key"), std::string::npos) << bad_key.error().message();
  EXPECT_EQ(bad_key.error().message().find("Sup3rSecret"), std::string::npos);

  // libpq quotes the offending text; the password must still be masked.
  auto missing_equals = ConnParams::parse("host=h Sup3rSecret");
  ASSERT_FALSE(missing_equals.ok());
  auto unterminated = ConnParams::parse("host=h password='Sup3rSecret");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_EQ(unterminated.error().message().find("Sup3rSecret"), std::string::npos)
      << unterminated.error().message();

  auto bad_url = ConnParams::parse("postgresql://u:Sup3rSecret@h:notaport/db?bogus=1");
  ASSERT_FALSE(bad_url.ok());
  EXPECT_EQ(bad_url.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(bad_url.error().message().find("Sup3rSecret"), std::string::npos) << bad_url.error().message();
  EXPECT_NE(bad_url.error().message().find("URL"), std::string::npos);
}

TEST(PasswordCandidatesTest, FindsPasswordsInEveryForm) {
  using V = std::vector<std::string>;
  EXPECT_EQ(password_candidates("host=h password=abc123 user=u"), V{"abc123"});
  EXPECT_EQ(password_candidates("host=h password = 'a b\\'c' user=u"), V{"a b'c"});
  EXPECT_EQ(password_candidates("PASSWORD=Upper"), V{"Upper"});
  EXPECT_EQ(password_candidates("postgresql://u:p%40ss@h/db"), (V{"p%40ss", "p@ss"}));
  EXPECT_EQ(password_candidates("postgresql://u@h/db?password=qp%21x&sslmode=disable"), (V{"qp%21x", "qp!x"}));
  EXPECT_TRUE(password_candidates("postgresql://u@h/db").empty());
  EXPECT_TRUE(password_candidates("host=h user=u").empty());
  // A path with ':' after the host is not a password.
  EXPECT_TRUE(password_candidates("postgresql://h/db:x@y").empty());
}

TEST(ScrubTest, ReplacesEverySecretLongestFirst) {
  EXPECT_EQ(scrub("pw=hunter2 and hunter2!", {"hunter2"}), "pw=**** and ****!");
  EXPECT_EQ(scrub("abcdef abc", {"abc", "abcdef"}), "**** ****");
  EXPECT_EQ(scrub("a b ab", {"a", "ab"}), "a b ab");  // too short to mask
  EXPECT_EQ(scrub("nothing here", {}), "nothing here");
}

TEST(PercentDecodeTest, DecodesValidEscapesOnly) {
  EXPECT_EQ(percent_decode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
}

TEST(QuoteTest, ConninfoValuesAndSql) {
  EXPECT_EQ(quote_conninfo_value("a'b\\c"), "'a\\'b\\\\c'");
  EXPECT_EQ(Connection::quote_identifier("we\"ird; drop table x; --"), "\"we\"\"ird; drop table x; --\"");
  EXPECT_EQ(Connection::quote_literal("it's"), "'it''s'");
}

TEST(ConnectTest, UnparsableConninfoFailsBeforeConnecting) {
  auto conn = Connection::connect("host=127.0.0.1 password=Sup3rSecret port=");
  ASSERT_FALSE(conn.ok());
  auto conn2 = Connection::connect("postgresql://u:Sup3rSecret@127.0.0.1:99999999999/db");
  ASSERT_FALSE(conn2.ok());
  EXPECT_EQ(conn2.error().message().find("Sup3rSecret"), std::string::npos) << conn2.error().message();
  auto conn3 = Connection::connect("host=127.0.0.1 password=Sup3rSecret wrongkey=1");
  ASSERT_FALSE(conn3.ok());
  EXPECT_EQ(conn3.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(conn3.error().message().find("Sup3rSecret"), std::string::npos);
}

TEST(ConnectTest, LibraryVersionIsAtLeast10) { EXPECT_GE(Connection::library_version(), 100000); }

}  // namespace
}  // namespace strata::pg

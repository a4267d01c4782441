#include "transform/static_parser.h"

#include <gtest/gtest.h>

namespace strata::transform {
namespace {

TEST(StaticScan, FindsRefsSourcesAndConfig) {
  auto scan = static_scan(
      "{{ config(materialized='incremental', unique_key=['a', \"b\"], tags=['x'], enabled=True) }}\n"
      "select * from {{ ref('orders') }} join {{ ref(\"pkg\", 'customers') }}\n"
      "join {{ source('raw', 'events') }} on 1=1");
  EXPECT_TRUE(scan.exact);
  ASSERT_EQ(scan.refs.size(), 2u);
  EXPECT_EQ(scan.refs[0].name, "orders");
  EXPECT_EQ(scan.refs[1].package, "pkg");
  EXPECT_EQ(scan.refs[1].name, "customers");
  ASSERT_EQ(scan.sources.size(), 1u);
  EXPECT_EQ(scan.sources[0].source_name, "raw");
  EXPECT_EQ(scan.sources[0].table_name, "events");
  EXPECT_EQ(scan.config["materialized"], "incremental");
  EXPECT_EQ(scan.config["unique_key"], Json::array({"a", "b"}));
  EXPECT_EQ(scan.config["enabled"], true);
}

TEST(StaticScan, IgnoresRefsInsideIfExecuteButKeepsDependsOnComments) {
  auto scan = static_scan(
      "-- depends_on: {{ ref('upstream') }}\n"
      "{% if execute %}{% set x = run_query('select 1 from ' ~ ref('hidden')) %}{% endif %}\n"
      "select 1");
  ASSERT_EQ(scan.refs.size(), 1u);
  EXPECT_EQ(scan.refs[0].name, "upstream");
  EXPECT_FALSE(scan.exact);
}

TEST(StaticScan, StringsInsideExpressionsDoNotCloseThem) {
  auto scan = static_scan("{{ config(post_hook=\"insert into {{ this }} values (1)\") }} select 1");
  EXPECT_EQ(scan.config["post_hook"], "insert into {{ this }} values (1)");
}

TEST(StaticScan, ReportsMalformedRefWithPosition) {
  auto scan = static_scan("select 1\nfrom {{ ref('a', 'b', 'c') }}");
  EXPECT_FALSE(scan.error.empty());
  EXPECT_EQ(scan.error_line, 2);
  EXPECT_EQ(scan.error_column, 9);
}

TEST(StaticScan, CommentsAreSkipped) {
  auto scan = static_scan("{# {{ ref('commented') }} #} select * from {{ ref('real') }}");
  ASSERT_EQ(scan.refs.size(), 1u);
  EXPECT_EQ(scan.refs[0].name, "real");
}

TEST(ParseLiteral, Values) {
  size_t pos = 0;
  auto v = parse_literal("{'a': [1, 2.5, None, false], 'b': 'x' 'y'}", pos);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ((*v)["a"][0], 1);
  EXPECT_DOUBLE_EQ((*v)["a"][1].get<double>(), 2.5);
  EXPECT_TRUE((*v)["a"][2].is_null());
  EXPECT_EQ((*v)["a"][3], false);
  EXPECT_EQ((*v)["b"], "xy");
}

}  // namespace
}  // namespace strata::transform

// Node selection against the fixed graph of the shop project.
#include "transform/selection.h"

#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "test_util.h"

namespace strata::transform {
namespace {

class Selection : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto g = testing::load_graph(testing::shop_project_dir());
    ASSERT_TRUE(g.ok()) << g.error().to_string();
    graph_ = new Graph(std::move(*g));
  }
  static void TearDownTestSuite() {
    delete graph_;
    graph_ = nullptr;
  }

  // Names of the selected nodes of the given types (models only by default), without indirect tests.
  std::set<std::string> names(std::vector<std::string> select, std::vector<std::string> exclude = {},
                              std::vector<ResourceType> types = {ResourceType::kModel}, std::string selector = {},
                              IndirectSelection indirect = IndirectSelection::kEmpty) {
    SelectionRequest request;
    request.select = std::move(select);
    request.exclude = std::move(exclude);
    request.resource_types = std::move(types);
    request.selector = std::move(selector);
    request.indirect = indirect;
    auto r = select_nodes(*graph_, request);
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    std::set<std::string> out;
    if (r.ok())
      for (size_t i : *r) out.insert(graph_->node(i).name);
    return out;
  }
  using Names = std::set<std::string>;

  static Graph* graph_;
};

Graph* Selection::graph_ = nullptr;

TEST_F(Selection, PlainNameAndGraphOperators) {
  EXPECT_EQ(names({"orders"}), Names({"orders"}));
  EXPECT_EQ(names({"+orders"}), Names({"orders", "stg_orders", "int_order_payments", "stg_payments"}));
  EXPECT_EQ(names({"+orders"}, {}, {ResourceType::kSeed}), Names({"raw_orders", "raw_payments"}));
  EXPECT_EQ(names({"orders+"}), Names({"orders", "customers", "daily_revenue"}));
  EXPECT_EQ(names({"1+orders"}), Names({"orders", "stg_orders", "int_order_payments"}));
  EXPECT_EQ(names({"2+customers"}), Names({"customers", "orders", "stg_customers", "stg_orders", "int_order_payments"}));
  EXPECT_EQ(names({"stg_orders+1"}), Names({"stg_orders", "orders", "daily_revenue"}));
  EXPECT_EQ(names({"@int_order_payments"}),
            Names({"int_order_payments", "orders", "customers", "daily_revenue", "stg_payments", "stg_orders",
                   "stg_customers"}));
}

TEST_F(Selection, Methods) {
  EXPECT_EQ(names({"tag:finance"}), Names({"daily_revenue", "order_status_history"}));
  EXPECT_EQ(names({"tag:fin*"}), Names({"daily_revenue", "order_status_history"}));
  EXPECT_EQ(names({"path:models/staging"}), Names({"stg_customers", "stg_orders", "stg_payments"}));
  EXPECT_EQ(names({"models/marts/finance/"}), Names({"daily_revenue", "order_status_history"}));
  EXPECT_EQ(names({"path:models/*/orders.sql"}), Names({"orders"}));
  EXPECT_EQ(names({"file:orders.sql"}), Names({"orders"}));
  EXPECT_EQ(names({"file:stg_orders"}), Names({"stg_orders"}));
  EXPECT_EQ(names({"customers.sql"}), Names({"customers"}));
  EXPECT_EQ(names({"fqn:shop.marts.finance.*"}), Names({"daily_revenue", "order_status_history"}));
  EXPECT_EQ(names({"shop.staging"}), Names({"stg_customers", "stg_orders", "stg_payments"}));
  EXPECT_EQ(names({"config.materialized:table"}), Names({"customers", "orders", "daily_revenue"}));
  EXPECT_EQ(names({"config.unique_key:order_id"}), Names({"order_status_history"}));
  EXPECT_EQ(names({"config.schema:staging"}), Names({"stg_customers", "stg_orders", "stg_payments"}));
  EXPECT_EQ(names({"resource_type:seed"}, {}, {}), Names({"raw_customers", "raw_orders", "raw_payments"}));
  EXPECT_EQ(names({"resource_type:snapshot"}, {}, {}), Names({"customers_snapshot"}));
  EXPECT_EQ(names({"resource_type:analysis"}, {}, {}), Names({"payment_methods"}));
  EXPECT_EQ(names({"source:bronze"}, {}, {}), Names({"order_events", "customer_updates"}));
  EXPECT_EQ(names({"source:bronze.order_events+"}), Names({"order_status_history"}));
  EXPECT_EQ(names({"source:shop.bronze.customer_updates+"}, {}, {ResourceType::kSnapshot}),
            Names({"customers_snapshot"}));
  EXPECT_EQ(names({"test_type:singular"}, {}, {}), Names({"assert_order_amounts_match_payments"}));
  EXPECT_EQ(names({"test_name:accepted_values"}, {}, {}),
            Names({"accepted_values_stg_orders_" +
                       md5_hex("accepted_values_stg_orders_status__placed__shipped__completed__returned"),
                   "status_is_final"}));
  EXPECT_EQ(names({"test_name:is_positive"}, {}, {}).size(), 2u);
  EXPECT_EQ(names({"test_type:generic,test_name:unique"}, {}, {}).size(), 5u);
  EXPECT_EQ(names({"package:shop"}).size(), 8u);
  EXPECT_EQ(names({"package:other"}).size(), 0u);
  EXPECT_EQ(names({"stg_*"}), Names({"stg_customers", "stg_orders", "stg_payments"}));
  EXPECT_EQ(names({"stg_[co]*"}), Names({"stg_customers", "stg_orders"}));
}

TEST_F(Selection, UnionIntersectionExclude) {
  EXPECT_EQ(names({"orders customers"}), Names({"orders", "customers"}));
  EXPECT_EQ(names({"orders", "customers"}), Names({"orders", "customers"}));
  EXPECT_EQ(names({"tag:marts,config.materialized:table"}), Names({"customers", "orders", "daily_revenue"}));
  EXPECT_EQ(names({"+customers,tag:staging"}), Names({"stg_customers", "stg_orders", "stg_payments"}));
  EXPECT_EQ(names({"tag:marts"}, {"tag:finance"}), Names({"customers", "orders"}));
  EXPECT_EQ(names({"+orders"}, {"stg_payments+"}), Names({"stg_orders"}));
}

TEST_F(Selection, PlainNameDoesNotSelectASourceOfThatName) {
  // As dbt's fqn method: `order_events` names a source table, not a model, so `order_events+`
  // selects nothing; the source is reached only through `source:`.
  EXPECT_EQ(names({"order_events+"}, {}, {}), Names());
  EXPECT_EQ(names({"source:bronze.order_events+"}), Names({"order_status_history"}));
}

TEST_F(Selection, IntersectionKeepsTheTestsOfItsTerms) {
  // dbt intersects each term's nodes plus their tests: the generic tests of stg_orders.
  Names tests = names({"stg_orders,test_type:generic"}, {}, {}, {}, IndirectSelection::kEager);
  EXPECT_TRUE(tests.count("unique_stg_orders_order_id"));
  EXPECT_TRUE(tests.count("not_null_stg_orders_order_id"));
  EXPECT_FALSE(tests.count("stg_orders"));
  EXPECT_FALSE(tests.count("unique_customers_customer_id"));
  EXPECT_FALSE(tests.count("assert_order_amounts_match_payments"));
}

TEST_F(Selection, YamlSelectors) {
  EXPECT_EQ(names({}, {}, {}, "staging_only"), Names({"stg_customers", "stg_orders", "stg_payments"}));
  Names nightly = names({}, {}, {ResourceType::kModel, ResourceType::kAnalysis, ResourceType::kSeed}, "nightly");
  EXPECT_TRUE(nightly.count("customers"));
  EXPECT_TRUE(nightly.count("raw_payments"));
  EXPECT_TRUE(nightly.count("order_status_history"));
  EXPECT_FALSE(nightly.count("payment_methods"));
}

TEST_F(Selection, IndirectTestsAreSelectedEagerly) {
  Names tests = names({"stg_orders"}, {}, {ResourceType::kTest}, {}, IndirectSelection::kEager);
  EXPECT_TRUE(tests.count("unique_stg_orders_order_id"));
  EXPECT_TRUE(tests.count("relationships_stg_orders_" +
                          md5_hex("relationships_stg_orders_customer_id__customer_id__ref_stg_customers_")));
  EXPECT_TRUE(tests.count("status_is_final"));
  EXPECT_FALSE(tests.count("unique_customers_customer_id"));
  // Excluding a model excludes its tests.
  Names none = names({"stg_orders"}, {"stg_orders"}, {}, {}, IndirectSelection::kEager);
  EXPECT_TRUE(none.empty());
}

// dbt's --indirect-selection modes, on a test with two parents (relationships: stg_orders and
// stg_customers) and a singular test of orders and stg_payments (an ancestor of orders).
TEST_F(Selection, IndirectSelectionModes) {
  const std::string relationships =
      "relationships_stg_orders_" + md5_hex("relationships_stg_orders_customer_id__customer_id__ref_stg_customers_");
  auto tests = [&](std::vector<std::string> select, IndirectSelection mode) {
    return names(std::move(select), {}, {ResourceType::kTest}, {}, mode);
  };
  Names cautious = tests({"stg_orders"}, IndirectSelection::kCautious);
  EXPECT_TRUE(cautious.count("unique_stg_orders_order_id"));
  EXPECT_FALSE(cautious.count(relationships));  // stg_customers is not selected
  EXPECT_TRUE(tests({"stg_orders stg_customers"}, IndirectSelection::kCautious).count(relationships));
  EXPECT_FALSE(tests({"orders"}, IndirectSelection::kCautious).count("assert_order_amounts_match_payments"));
  EXPECT_TRUE(tests({"orders"}, IndirectSelection::kBuildable).count("assert_order_amounts_match_payments"));
  EXPECT_FALSE(tests({"stg_orders"}, IndirectSelection::kBuildable).count(relationships));
  EXPECT_TRUE(tests({"orders"}, IndirectSelection::kEager).count("assert_order_amounts_match_payments"));
  EXPECT_TRUE(tests({"stg_orders"}, IndirectSelection::kEmpty).empty());
  EXPECT_EQ(tests({"unique_stg_orders_order_id"}, IndirectSelection::kEmpty), Names({"unique_stg_orders_order_id"}));
  EXPECT_EQ(parse_indirect_selection("buildable"), IndirectSelection::kBuildable);
  EXPECT_FALSE(parse_indirect_selection("lazy"));
}

TEST_F(Selection, EverythingByDefaultInTopologicalOrder) {
  SelectionRequest request;
  auto all = select_nodes(*graph_, request);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), graph_->size());
  auto pos = [&](const std::string& name) {
    for (size_t k = 0; k < all->size(); ++k)
      if (graph_->node((*all)[k]).name == name) return k;
    return all->size();
  };
  EXPECT_LT(pos("stg_orders"), pos("orders"));
  EXPECT_LT(pos("orders"), pos("customers"));
}

TEST_F(Selection, Errors) {
  SelectionRequest request;
  request.select = {"colour:red"};
  auto r = select_nodes(*graph_, request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().exit_code(), 2);
  EXPECT_NE(r.error().message().find("unknown selection method 'colour'"), std::string::npos);
  request.select = {};
  request.selector = "weekly";
  r = select_nodes(*graph_, request);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().hint().find("nightly, staging_only"), std::string::npos);
}

TEST(Glob, Match) {
  EXPECT_TRUE(glob_match("a*c", "abbbc"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "abbc"));
  EXPECT_TRUE(glob_match("[ab]x", "bx"));
  EXPECT_FALSE(glob_match("[!ab]x", "bx"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_FALSE(glob_match("abc", "abcd"));
}

}  // namespace
}  // namespace strata::transform

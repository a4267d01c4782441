// Loading and parsing the shop project, and located errors for bad projects.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include <gtest/gtest.h>

#include "support/temp_dir.h"
#include "test_util.h"

namespace strata::transform {
namespace {

using testing::find_node;
using testing::load_graph;
using testing::shop_project_dir;
using testing::write_files;

TEST(Project, LoadsShopProjectFile) {
  auto project = load_project(shop_project_dir(), map_env({}));
  ASSERT_TRUE(project.ok()) << project.error().to_string();
  EXPECT_EQ(project->name, "shop");
  EXPECT_EQ(project->profile, "shop");
  EXPECT_EQ(project->target_path, "target");
  EXPECT_EQ(project->clean_targets, (std::vector<std::string>{"target", "dbt_packages"}));
  EXPECT_EQ(project->vars["min_order_amount"], 0);
  EXPECT_EQ(project->vars["shop"]["currency"], "EUR");
  ASSERT_EQ(project->on_run_start.size(), 2u);
  ASSERT_EQ(project->on_run_end.size(), 1u);
  ASSERT_TRUE(project->config_trees.count("models"));
  const auto& models = project->config_trees.at("models");
  EXPECT_EQ(models.children.at("shop").configs["materialized"], "view");
  EXPECT_EQ(models.children.at("shop").children.at("staging").configs["schema"], "staging");
}

TEST(Project, ResolvesNodeConfigsFromTreePropertiesAndFile) {
  auto g = load_graph(shop_project_dir());
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  const Node* stg = find_node(*g, "model.shop.stg_orders");
  ASSERT_NE(stg, nullptr);
  EXPECT_EQ(stg->materialized(), "view");
  EXPECT_EQ(stg->config["schema"], "staging");
  EXPECT_EQ(stg->config["alias"], "stg_orders_v");
  EXPECT_EQ(stg->tags, std::vector<std::string>{"staging"});
  EXPECT_EQ(stg->fqn, (std::vector<std::string>{"shop", "staging", "stg_orders"}));
  EXPECT_EQ(stg->original_file_path, "models/staging/stg_orders.sql");
  EXPECT_EQ(stg->path, "staging/stg_orders.sql");

  const Node* hist = find_node(*g, "model.shop.order_status_history");
  ASSERT_NE(hist, nullptr);
  EXPECT_EQ(hist->materialized(), "incremental");
  EXPECT_EQ(hist->config["unique_key"], Json::array({"order_id", "status"}));
  EXPECT_EQ(hist->config["on_schema_change"], "append_new_columns");
  EXPECT_EQ(hist->config["schema"], "finance");
  EXPECT_EQ(hist->tags, (std::vector<std::string>{"marts", "finance"}));

  const Node* orders = find_node(*g, "model.shop.orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ(orders->materialized(), "table");
  EXPECT_EQ(orders->tags, (std::vector<std::string>{"marts", "core"}));
  ASSERT_EQ(orders->config["post-hook"].size(), 1u);
  EXPECT_EQ(find_node(*g, "model.shop.int_order_payments")->materialized(), "ephemeral");

  const Node* seed = find_node(*g, "seed.shop.raw_payments");
  ASSERT_NE(seed, nullptr);
  EXPECT_EQ(seed->config["column_types"]["amount"], "integer");
  EXPECT_EQ(seed->config["quote_columns"], false);

  const Node* snap = find_node(*g, "snapshot.shop.customers_snapshot");
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->config["strategy"], "timestamp");
  EXPECT_EQ(snap->config["target_schema"], "snapshots");
  EXPECT_EQ(snap->config["invalidate_hard_deletes"], true);
  EXPECT_NE(snap->raw_code.find("source('bronze', 'customer_updates')"), std::string::npos);
}

TEST(Project, CreatesGenericTestsWithDbtNames) {
  auto g = load_graph(shop_project_dir());
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  // Names of 64+ characters are shortened as dbt does: the first 30 characters + md5 of the full name.
  const std::string av_full = "accepted_values_stg_orders_status__placed__shipped__completed__returned";
  EXPECT_EQ(generic_test_name("accepted_values", "stg_orders",
                              Json{{"column_name", "status"}, {"values", {"placed", "shipped", "completed", "returned"}}}),
            "accepted_values_stg_orders_" + md5_hex(av_full));
  const Node* av = find_node(*g, "test.shop.accepted_values_stg_orders_" + md5_hex(av_full) + ".");
  ASSERT_NE(av, nullptr);
  EXPECT_EQ(av->test_metadata->name, "accepted_values");
  EXPECT_EQ(av->test_metadata->kwargs["values"].size(), 4u);
  EXPECT_EQ(av->column_name, "status");
  EXPECT_EQ(av->attached_node, "model.shop.stg_orders");
  EXPECT_EQ(av->depends_on, std::vector<std::string>{"model.shop.stg_orders"});

  const Node* warn = find_node(*g, "test.shop.status_is_final.");
  ASSERT_NE(warn, nullptr);
  EXPECT_EQ(warn->config["severity"], "warn");

  const Node* rel = find_node(
      *g, "test.shop.relationships_stg_orders_" + md5_hex("relationships_stg_orders_customer_id__customer_id__ref_stg_customers_") + ".");
  ASSERT_NE(rel, nullptr);
  EXPECT_EQ(rel->depends_on, (std::vector<std::string>{"model.shop.stg_orders", "model.shop.stg_customers"}));

  const Node* nn = find_node(*g, "test.shop.not_null_stg_payments_amount.");
  ASSERT_NE(nn, nullptr);
  EXPECT_EQ(nn->config["where"], "payment_method <> 'gift_card'");

  const Node* custom = find_node(*g, "test.shop.is_positive_customers_lifetime_value.");
  ASSERT_NE(custom, nullptr);
  EXPECT_EQ(custom->config["where"], "order_count > 0");

  const Node* src_test = find_node(*g, "test.shop.source_not_null_bronze_order_events_event_id.");
  ASSERT_NE(src_test, nullptr);
  EXPECT_EQ(src_test->depends_on, std::vector<std::string>{"source.shop.bronze.order_events"});

  const Node* singular = find_node(*g, "test.shop.assert_order_amounts_match_payments");
  ASSERT_NE(singular, nullptr);
  EXPECT_FALSE(singular->test_metadata.has_value());
  EXPECT_EQ(singular->depends_on, (std::vector<std::string>{"model.shop.orders", "model.shop.stg_payments"}));
}

TEST(Project, SourcesMacrosDocsAndSelectors) {
  auto g = load_graph(shop_project_dir());
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  const Node* src = find_node(*g, "source.shop.bronze.order_events");
  ASSERT_NE(src, nullptr);
  EXPECT_EQ(src->schema, "bronze");
  EXPECT_EQ(src->loaded_at_field, "_loaded_at");
  EXPECT_EQ(src->freshness["warn_after"]["count"], 12);
  const Node* updates = find_node(*g, "source.shop.bronze.customer_updates");
  ASSERT_NE(updates, nullptr);
  EXPECT_TRUE(updates->freshness.is_null());

  const auto& p = g->project();
  bool found_override = false, found_test_macro = false;
  for (const auto& m : p.macros) {
    found_override |= m.name == "generate_schema_name" && m.arguments.size() == 2;
    found_test_macro |= m.name == "test_is_positive";
    if (m.name == "cents_to_currency") {
      EXPECT_EQ(m.description, "Converts an amount in cents to the currency unit.");
    }
  }
  EXPECT_TRUE(found_override);
  EXPECT_TRUE(found_test_macro);
  ASSERT_EQ(p.docs.size(), 1u);
  EXPECT_EQ(p.docs[0].name, "customer_id");
  EXPECT_EQ(p.docs[0].contents, "The customer's id in the shop database.");
  ASSERT_EQ(p.selectors.size(), 2u);
  EXPECT_EQ(p.selectors[1].name, "staging_only");

  // depends_on comments add edges; refs inside Jinja loops are still seen.
  const Node* rev = find_node(*g, "model.shop.daily_revenue");
  ASSERT_NE(rev, nullptr);
  EXPECT_EQ(rev->depends_on,
            (std::vector<std::string>{"model.shop.orders", "model.shop.stg_orders", "model.shop.stg_payments"}));
  // Documented columns that do not exist are accepted.
  const Node* cust = find_node(*g, "model.shop.stg_customers");
  ASSERT_EQ(cust->columns.size(), 2u);
  EXPECT_EQ(cust->columns[1].name, "nickname");
}

TEST(Project, TopologicalOrderPutsParentsFirst) {
  auto g = load_graph(shop_project_dir());
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  std::vector<size_t> position(g->size());
  const auto& order = g->topological_order();
  ASSERT_EQ(order.size(), g->size());
  for (size_t k = 0; k < order.size(); ++k) position[order[k]] = k;
  for (size_t i = 0; i < g->size(); ++i)
    for (size_t p : g->parents(i)) EXPECT_LT(position[p], position[i]) << g->node(i).unique_id;
}

// A minimal valid project plus overrides, written to a temp folder.
Result<Graph> broken_project(const strata::testing::TempDir& dir, std::map<std::string, std::string> files) {
  std::map<std::string, std::string> base = {
      {"dbt_project.yml", "name: bad\nconfig-version: 2\nprofile: bad\n"},
      {"models/a.sql", "select 1 as id\n"},
  };
  for (auto& [k, v] : files) base[k] = v;
  write_files(dir.path(), base);
  return load_graph(dir.path());
}

void expect_located(const Result<Graph>& r, const std::string& file_suffix, int line, const std::string& message_part) {
  ASSERT_FALSE(r.ok());
  const Error& e = r.error();
  EXPECT_EQ(e.exit_code(), 2) << e.to_string();
  EXPECT_TRUE(e.where().file.size() >= file_suffix.size() &&
              e.where().file.compare(e.where().file.size() - file_suffix.size(), file_suffix.size(), file_suffix) == 0)
      << e.to_string();
  EXPECT_EQ(e.where().line, line) << e.to_string();
  EXPECT_NE(e.message().find(message_part), std::string::npos) << e.to_string();
}

TEST(BadProject, Cycle) {
  strata::testing::TempDir dir;
  auto r = broken_project(dir, {{"models/a.sql", "select * from {{ ref('b') }}"},
                                {"models/b.sql", "select * from {{ ref('a') }}"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().exit_code(), 2);
  EXPECT_EQ(r.error().where().line, 1);
  const std::string& m = r.error().message();
  EXPECT_TRUE(m.find("found a cycle: model.bad.a --> model.bad.b --> model.bad.a") != std::string::npos ||
              m.find("found a cycle: model.bad.b --> model.bad.a --> model.bad.b") != std::string::npos)
      << m;
}

TEST(BadProject, RefToMissingModel) {
  strata::testing::TempDir dir;
  auto r = broken_project(dir, {{"models/b.sql", "select 1\nfrom {{ ref('nope') }}"}});
  expect_located(r, "models/b.sql", 2, "depends on a node named 'nope' which was not found");
  EXPECT_EQ(r.error().where().column, 13);
}

TEST(BadProject, InvalidYaml) {
  strata::testing::TempDir dir;
  auto r = broken_project(dir, {{"models/schema.yml", "version: 2\nmodels:\n  - name: a\n   columns: [\n"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().exit_code(), 2);
  EXPECT_NE(r.error().where().file.find("models/schema.yml"), std::string::npos) << r.error().to_string();
  EXPECT_GT(r.error().where().line, 0);
}

TEST(BadProject, UnknownConfigKeyInProjectFile) {
  strata::testing::TempDir dir;
  auto r = broken_project(
      dir, {{"dbt_project.yml", "name: bad\nprofile: bad\nmodels:\n  bad:\n    +materialised: table\n"}});
  expect_located(r, "dbt_project.yml", 5, "unknown config key '+materialised'");
  EXPECT_EQ(r.error().hint(), "did you mean '+materialized'?");
}

TEST(BadProject, UnknownConfigKeyInModelAndPropertyFile) {
  strata::testing::TempDir dir;
  auto r = broken_project(dir, {{"models/b.sql", "\n{{ config(materialzed='table') }} select 1"}});
  expect_located(r, "models/b.sql", 2, "unknown config key 'materialzed'");
  strata::testing::TempDir dir2;
  auto r2 = broken_project(dir2, {{"models/schema.yml", "version: 2\nmodels:\n  - name: a\n    config:\n      shema: x\n"}});
  expect_located(r2, "models/schema.yml", 5, "unknown config key 'shema'");
}

// Errors about a config's value point at where the winning value is written: an in-file
// config() call beats a property file, which beats dbt_project.yml.
TEST(Project, EachConfigKnowsWhereItsValueIsWritten) {
  strata::testing::TempDir dir;
  auto g = broken_project(
      dir, {{"dbt_project.yml",
             "name: bad\nconfig-version: 2\nprofile: bad\nmodels:\n  bad:\n    +materialized: table\n"
             "    +incremental_strategy: merge\n    +on_schema_change: fail\n"},
            {"models/b.sql", "-- b\n{{ config(\n    incremental_strategy='append') }}\nselect 1 as id\n"},
            {"models/schema.yml",
             "version: 2\nmodels:\n  - name: b\n    config:\n      materialized: incremental\n"
             "      incremental_strategy: delete+insert\n    columns:\n      - name: id\n        tests:\n"
             "          - unique:\n              config:\n                severity: warn\n"},
            {"models/c.sql",
             "-- c\n{{ config(persist_docs={'relation': true},\n  docs={'show': false}) }}\nselect 1 as id\n"},
            {"snapshots/s.sql",
             "-- one\n\n{% snapshot s %}\n{{ config(unique_key='id', strategy='check', check_cols='all') }}\n"
             "select 1 as id\n{% endsnapshot %}\n"}});
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  auto at = [&](const std::string& id, const std::string& key) {
    const Node* n = find_node(*g, id);
    if (n == nullptr) return std::string("no node ") + id;
    const SourceLocation& where = n->config_location(key);
    return where.file.substr(dir.path().size() + 1) + ":" + std::to_string(where.line) + ":" +
           std::to_string(where.column);
  };
  EXPECT_EQ(at("model.bad.a", "materialized"), "dbt_project.yml:6:20");
  EXPECT_EQ(at("model.bad.a", "unique_key"), "models/a.sql:1:1");  // never set: the node itself
  EXPECT_EQ(at("model.bad.b", "materialized"), "models/schema.yml:5:21");
  EXPECT_EQ(at("model.bad.b", "incremental_strategy"), "models/b.sql:3:5");
  EXPECT_EQ(at("model.bad.b", "on_schema_change"), "dbt_project.yml:8:24");
  EXPECT_EQ(at("snapshot.bad.s", "strategy"), "snapshots/s.sql:4:28");
  // A whole keyword, not part of another (persist_docs).
  EXPECT_EQ(at("model.bad.c", "docs"), "models/c.sql:3:3");
  EXPECT_EQ(at("test.bad.unique_b_id", "severity"), "models/schema.yml:12:27");
}

TEST(BadProject, AColumnsQuoteMustBeABoolean) {
  strata::testing::TempDir dir;
  auto r = broken_project(dir, {{"models/schema.yml", "version: 2\nmodels:\n  - name: a\n    columns:\n"
                                                      "      - name: id\n        quote: maybe\n        tests: [unique]\n"}});
  expect_located(r, "models/schema.yml", 6, "quote");
}

TEST(BadProject, MissingProjectFileAndName) {
  strata::testing::TempDir dir;
  auto r = load_project(dir.path(), map_env({}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().exit_code(), 2);
  auto r2 = broken_project(dir, {{"dbt_project.yml", "profile: x\nversion: 1\n"}});
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message().find("no `name`"), std::string::npos);
}

TEST(BadProject, DisabledModelsAndTheirTests) {
  strata::testing::TempDir dir;
  auto r = broken_project(dir, {{"models/b.sql", "{{ config(enabled=false) }} select 1 as id"},
                                {"models/schema.yml", "version: 2\nmodels:\n  - name: b\n    columns:\n"
                                                      "      - name: id\n        tests: [unique]\n"}});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(find_node(*r, "model.bad.b"), nullptr);
  EXPECT_EQ(find_node(*r, "test.bad.unique_b_id"), nullptr);
  strata::testing::TempDir dir2;
  auto r2 = broken_project(dir2, {{"models/b.sql", "{{ config(enabled=false) }} select 1 as id"},
                                  {"models/c.sql", "select * from {{ ref('b') }}"}});
  expect_located(r2, "models/c.sql", 1, "which is disabled");
}

// A project large enough for the parser, linker and name resolution to use several threads:
// `models` models in 4 folders, model k refers to model k-1, each with two column tests.
std::map<std::string, std::string> large_project(int models) {
  std::map<std::string, std::string> files = {{"dbt_project.yml", "name: big\nconfig-version: 2\nprofile: big\n"}};
  std::string schema = "version: 2\nmodels:\n";
  char name[16], prev[16];
  for (int k = 0; k < models; ++k) {
    std::snprintf(name, sizeof name, "m%04d", k);
    std::snprintf(prev, sizeof prev, "m%04d", k - 1);
    std::string sql = k == 0 ? "select 1 as id\n" : "select id from {{ ref('" + std::string(prev) + "') }}\n";
    files["models/f" + std::to_string(k % 4) + "/" + name + ".sql"] = sql;
    schema += std::string("  - name: ") + name + "\n    columns:\n      - name: id\n        tests: [unique, not_null]\n";
  }
  files["models/schema.yml"] = schema;
  return files;
}

TEST(LargeProject, ParsesInPathOrderAndLinksEveryNode) {
  strata::testing::TempDir dir;
  const int models = 2000;
  write_files(dir.path(), large_project(models));
  auto g = load_graph(dir.path());
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  ASSERT_EQ(g->size(), size_t{3 * models});
  // Models first, in sorted path order (folder f0 first), then the tests in declaration order.
  std::vector<std::string> paths;
  for (int i = 0; i < models; ++i) {
    const Node& n = g->node(static_cast<size_t>(i));
    ASSERT_EQ(n.resource_type, ResourceType::kModel) << i;
    paths.push_back(n.original_file_path);
  }
  EXPECT_TRUE(std::is_sorted(paths.begin(), paths.end()));
  EXPECT_EQ(paths.front(), "models/f0/m0000.sql");
  EXPECT_EQ(paths.back(), "models/f3/m1999.sql");
  for (int k = 0; k < models; ++k) {
    const Node& unique = g->node(static_cast<size_t>(models + 2 * k));
    const Node& not_null = g->node(static_cast<size_t>(models + 2 * k + 1));
    char name[16];
    std::snprintf(name, sizeof name, "m%04d", k);
    ASSERT_EQ(unique.name, std::string("unique_") + name + "_id");
    ASSERT_EQ(not_null.name, std::string("not_null_") + name + "_id");
    ASSERT_EQ(unique.depends_on, std::vector<std::string>{std::string("model.big.") + name});
  }
  for (int i = 0; i < models; ++i) {
    const Node& n = g->node(static_cast<size_t>(i));
    const int k = std::stoi(n.name.substr(1));
    if (k == 0) {
      EXPECT_TRUE(n.depends_on.empty());
      continue;
    }
    char prev[32];
    std::snprintf(prev, sizeof prev, "model.big.m%04d", k - 1);
    ASSERT_EQ(n.depends_on, std::vector<std::string>{prev}) << n.unique_id;
    ASSERT_EQ(g->parents(static_cast<size_t>(i)).size(), 1u);
  }
  // Every model's children: the next model and its two tests (the last model: only its tests).
  size_t edges = 0;
  for (size_t i = 0; i < g->size(); ++i) edges += g->children(i).size();
  EXPECT_EQ(edges, size_t{(models - 1) + 2 * models});
  EXPECT_EQ(g->topological_order().size(), g->size());
}

TEST(LargeProject, ReportsTheFirstErrorInFileOrder) {
  const int models = 1200;
  {
    strata::testing::TempDir dir;
    auto files = large_project(models);
    files["models/f1/m0901.sql"] = "{{ config(materialzed='table') }} select 1 as id";
    files["models/f2/m0302.sql"] = "select 1 as id\n{{ config(materialzed='table') }}";
    files["models/f3/m0003.sql"] = "select 1\n\n{{ config(matrialized='table') }}";
    write_files(dir.path(), files);
    auto r = load_graph(dir.path());
    expect_located(r, "models/f1/m0901.sql", 1, "unknown config key 'materialzed'");
  }
  {
    strata::testing::TempDir dir;
    auto files = large_project(models);
    std::string& schema = files["models/schema.yml"];
    // Entries 700 and 1100 declare a test that is neither a name nor a one-key mapping.
    for (int k : {1100, 700}) {
      char entry[64];
      std::snprintf(entry, sizeof entry, "  - name: m%04d\n", k);
      const size_t at = schema.find(entry);
      ASSERT_NE(at, std::string::npos);
      const std::string tests = "tests: [unique, not_null]";
      const size_t list = schema.find(tests, at);
      schema.replace(list, tests.size(), "tests: [[x], not_null]");
    }
    write_files(dir.path(), files);
    auto r = load_graph(dir.path());
    const int line_of_700 = 2 + 4 * 700 + 4;  // "version", "models:", 4 lines per entry; its tests line
    expect_located(r, "models/schema.yml", line_of_700, "a test must be a name");
  }
  {
    strata::testing::TempDir dir;
    auto files = large_project(models);
    files["models/f2/m0502.sql"] = "select 1 as id from {{ ref('nope_a') }}";
    files["models/f0/m0800.sql"] = "select 1 as id from {{ ref('nope_b') }}";
    write_files(dir.path(), files);
    auto r = load_graph(dir.path());
    // Nodes link in path order: folder f0 comes before f2.
    expect_located(r, "models/f0/m0800.sql", 1, "'nope_b' which was not found");
  }
}

}  // namespace
}  // namespace strata::transform

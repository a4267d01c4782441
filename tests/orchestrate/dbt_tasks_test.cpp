// build/test/freshness tasks through the runtime on a real DuckDB file, with the tiny shop project
// of tests/e2e/projects/orchestrate (bronze created by a sql task instead of a sync): build
// expansion (ids, groups, wiring), models seeing the run's vars, test results in the store,
// a failing test stopping downstream models, Jinja task templates.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/strings.h"
#include "common/time.h"
#include "orchestrate/runtime.h"
#include "orchestrate/task_template.h"
#include "support/temp_dir.h"

namespace strata::orchestrate {
namespace {

namespace fs = std::filesystem;

const char* kBronze =
    "create schema if not exists bronze; "
    "create or replace table bronze.customers as select * from (values (1, 'Ada', 'PT'), (2, 'Bob', 'BR')) t(id, name, country); "
    "create or replace table bronze.orders as select * from (values (10, 1, 5.5, timestamp '2026-01-01 00:00:00'), "
    "(11, 1, 4.5, timestamp '2026-01-01 00:00:00'), (12, 2, 1.0, timestamp '2026-01-01 00:00:00')) t(id, customer_id, amount, updated_at)";

struct ShopProject {
  strata::testing::TempDir temp;
  std::string dir = temp.file("shop");
  ShopProject(const std::string& pipeline_yaml, const std::string& bronze_sql = kBronze) {
    fs::copy(std::string(STRATA_SOURCE_DIR) + "/tests/e2e/projects/orchestrate", dir, fs::copy_options::recursive);
    fs::remove_all(dir + "/pipelines");
    fs::create_directories(dir + "/pipelines");
    std::string yaml = pipeline_yaml;
    for (size_t at = yaml.find("@BRONZE@"); at != std::string::npos; at = yaml.find("@BRONZE@"))
      yaml.replace(at, 8, bronze_sql);
    std::ofstream(dir + "/pipelines/p.yml") << yaml;
  }
};

const char* kPipeline = R"(
params: {owner: data-team}
tasks:
  - id: bronze
    sql: "@BRONZE@"
  - id: silver
    build: "path:models/silver"
    depends_on: [bronze]
  - id: gold
    build: "path:models/gold"
    group: marts
    depends_on: [silver]
    outlets: [warehouse://gold/marts]
  - id: fresh
    freshness: "source:bronze"
    depends_on: [bronze]
  - id: after
    shell: "echo '{{ ds }} {{ params.owner | upper }} {% if params.owner == 'data-team' %}yes{% endif %}' > after.txt"
    depends_on: [marts]
)";

std::map<std::string, const TaskSpec*> by_id(const PipelineSpec& spec) {
  std::map<std::string, const TaskSpec*> out;
  for (const auto& t : spec.tasks) out[t.id] = &t;
  return out;
}

std::set<std::string> upstream_ids(const PipelineSpec& spec, const TaskSpec& t) {
  std::set<std::string> out;
  for (size_t up : t.upstream) out.insert(spec.tasks[up].id);
  return out;
}

TEST(DbtTasksTest, BuildExpandsIntoOneTaskPerNodeThenItsTests) {
  ShopProject project(kPipeline);
  RuntimeOptions options;
  options.project_dir = project.dir;
  auto rt = Runtime::open(options);
  ASSERT_TRUE(rt.ok()) << rt.error().to_string();
  const PipelineSpec* spec = (*rt)->pipeline("p").get();  // the runtime keeps it
  ASSERT_NE(spec, nullptr);
  auto tasks = by_id(*spec);
  std::set<std::string> ids;
  for (const auto& [id, t] : tasks) ids.insert(id);
  EXPECT_EQ(ids, (std::set<std::string>{"bronze", "fresh", "after", "model.stg_customers", "model.stg_customers.test",
                                        "model.stg_orders", "model.stg_orders.test", "model.customer_revenue",
                                        "model.customer_revenue.test"}));
  EXPECT_EQ(tasks["model.stg_orders"]->group, "silver");
  EXPECT_EQ(tasks["model.customer_revenue.test"]->group, "marts");
  EXPECT_EQ(tasks["model.stg_orders"]->kind, TaskKind::kBuild);
  EXPECT_EQ(tasks["model.stg_orders.test"]->kind, TaskKind::kTest);
  EXPECT_EQ(tasks["model.stg_orders"]->dbt_node, "model.orch_shop.stg_orders");
  // The gold build's outlets go with every task it expands into, announced once in its name.
  for (const char* id : {"model.customer_revenue", "model.customer_revenue.test"}) {
    EXPECT_EQ(tasks[id]->outlets, std::vector<std::string>{"warehouse://gold/marts"}) << id;
    EXPECT_EQ(tasks[id]->outlets_build, "gold") << id;
  }
  EXPECT_TRUE(tasks["model.stg_orders"]->outlets.empty());
  EXPECT_TRUE(tasks["model.stg_orders"]->outlets_build.empty());
  // Roots of the silver expansion wait for bronze; the relationships test goes with stg_orders.
  EXPECT_EQ(upstream_ids(*spec, *tasks["model.stg_customers"]), std::set<std::string>{"bronze"});
  EXPECT_EQ(upstream_ids(*spec, *tasks["model.stg_orders"]), std::set<std::string>{"bronze"});
  EXPECT_EQ(upstream_ids(*spec, *tasks["model.stg_orders.test"]),
            (std::set<std::string>{"model.stg_orders", "model.stg_customers"}));
  EXPECT_EQ(tasks["model.stg_orders.test"]->dbt_tests.size(), 3u);
  // Gold waits for the tests of its parents (dbt graph) — the leaves of the silver group.
  EXPECT_EQ(upstream_ids(*spec, *tasks["model.customer_revenue"]),
            (std::set<std::string>{"model.stg_customers.test", "model.stg_orders.test"}));
  // A dependency on a group means its leaves.
  EXPECT_EQ(upstream_ids(*spec, *tasks["after"]), std::set<std::string>{"model.customer_revenue.test"});
  // Topological order holds.
  for (size_t i = 0; i < spec->tasks.size(); ++i)
    for (size_t up : spec->tasks[i].upstream) EXPECT_LT(up, i) << spec->tasks[i].id;
}

// serve's reload (Runtime::reload_pipelines) notices an edited dbt project, as Cosmos re-renders
// a DAG: a model added or removed changes the pipeline's build tasks; an edit that leaves the
// graph alone keeps the pipeline as it was; a model that breaks the project keeps the previous
// version and reports the located error; a pipeline without build tasks is not touched.
TEST(DbtTasksTest, ReloadExpandsBuildTasksAgainWhenTheProjectChanges) {
  ShopProject project(kPipeline);
  std::ofstream(project.dir + "/pipelines/plain.yml") << "tasks:\n  - {id: hello, shell: \"echo hi\"}\n";
  RuntimeOptions options;
  options.project_dir = project.dir;
  auto opened = Runtime::open(options);
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  Runtime& rt = **opened;
  const auto plain = rt.pipeline("plain");
  auto reload = [&] {
    PipelineReload r = rt.reload_pipelines();
    std::string out = "added:" + join(r.added, ",") + " updated:" + join(r.updated, ",") +
                      " reexpanded:" + join(r.reexpanded, ",") + " removed:" + join(r.removed, ",");
    for (const auto& e : r.errors) out += " error:" + e.to_string();
    return out;
  };
  const std::string nothing = "added: updated: reexpanded: removed:";
  EXPECT_EQ(reload(), nothing);

  const std::string added = project.dir + "/models/gold/customer_count.sql";
  std::ofstream(added) << "select count(*) as customers from {{ ref('stg_customers') }}\n";
  EXPECT_EQ(reload(), "added: updated: reexpanded:p removed:");
  auto tasks = by_id(*rt.pipeline("p"));
  ASSERT_TRUE(tasks.count("model.customer_count"));
  EXPECT_EQ(tasks["model.customer_count"]->group, "marts");
  // A root of the gold build: it waits for the silver group (the build's depends_on).
  EXPECT_EQ(upstream_ids(*rt.pipeline("p"), *tasks["model.customer_count"]),
            (std::set<std::string>{"model.stg_customers.test", "model.stg_orders.test"}));
  EXPECT_EQ(rt.pipeline("plain"), plain);  // no build tasks: the same object
  EXPECT_EQ(reload(), nothing);

  // The SQL changes, the graph does not: the pipeline stays the same object.
  const auto before_edit = rt.pipeline("p");
  std::ofstream(added) << "select count(*) as n from {{ ref('stg_customers') }} -- renamed column\n";
  EXPECT_EQ(reload(), nothing);
  EXPECT_EQ(rt.pipeline("p"), before_edit);

  // A broken project keeps the previous version; its error is located and reported once.
  std::ofstream(added) << "select {{ ref('stg_customers' }}\n";
  const std::string broken = reload();
  EXPECT_NE(broken.find("error:"), std::string::npos) << broken;
  EXPECT_NE(broken.find("customer_count.sql:1:"), std::string::npos) << broken;
  EXPECT_EQ(rt.pipeline("p"), before_edit);
  EXPECT_EQ(reload(), nothing);

  fs::remove(added);
  EXPECT_EQ(reload(), "added: updated: reexpanded:p removed:");
  EXPECT_FALSE(by_id(*rt.pipeline("p")).count("model.customer_count"));
  EXPECT_TRUE(by_id(*rt.pipeline("p")).count("model.customer_revenue"));
}

TEST(DbtTasksTest, RunsModelsWithRunVarsAndStoresTestResults) {
  ShopProject project(kPipeline);
  RuntimeOptions options;
  options.project_dir = project.dir;
  options.workers = 4;
  auto rt = Runtime::open(options);
  ASSERT_TRUE(rt.ok()) << rt.error().to_string();
  ASSERT_TRUE((*rt)->start().ok());
  auto run = (*rt)->scheduler().trigger("p", "{}");
  ASSERT_TRUE(run.ok()) << run.error().to_string();
  ASSERT_TRUE((*rt)->scheduler().start_now(run->pipeline, run->run_id).ok());
  EXPECT_EQ((*rt)->executor().wait(run->pipeline, run->run_id), RunState::kSuccess);
  auto tis = (*rt)->store().task_instances(run->pipeline, run->run_id);
  ASSERT_TRUE(tis.ok());
  EXPECT_EQ(tis->size(), 9u);
  for (const auto& ti : *tis) EXPECT_EQ(ti.state, TaskState::kSuccess) << ti.task_id;
  auto results = (*rt)->store().test_results(run->pipeline, run->run_id);
  ASSERT_TRUE(results.ok());
  std::map<std::string, std::string> status;
  for (const auto& r : *results) status[r.test_name] = r.status;
  EXPECT_EQ(status.size(), 8u);  // 7 data tests + 1 source freshness
  for (const auto& [name, s] : status) EXPECT_EQ(s, "pass") << name;
  EXPECT_EQ(status.count("source.orch_shop.bronze.orders"), 1u);
  auto events = (*rt)->store().dataset_events("", 0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);  // the gold build's, once for its two tasks
  EXPECT_EQ((*events)[0].uri, "warehouse://gold/marts");
  EXPECT_EQ((*events)[0].source_task_id, "gold");

  // The model saw the run's data interval as a dbt var; the shell task rendered Jinja.
  const std::string expected_ds = format_iso8601(run->logical_date).substr(0, 10);
  std::ifstream after(project.dir + "/after.txt");
  std::string line;
  std::getline(after, line);
  EXPECT_EQ(line, expected_ds + " DATA-TEAM yes");
  (*rt).reset();  // closes the warehouse file
  auto wh = warehouse::open_duckdb(project.dir + "/.strata/warehouse.duckdb");
  ASSERT_TRUE(wh.ok()) << wh.error().to_string();
  auto session = (*wh)->connect();
  ASSERT_TRUE(session.ok());
  auto q = (*session)->query("select distinct interval_start, ds from main_silver.stg_orders");
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  ASSERT_EQ(q->num_rows(), 1u);
  EXPECT_EQ(q->cell_text(0, 0), format_iso8601(run->interval_start));
  EXPECT_EQ(q->cell_text(0, 1), expected_ds);
  auto gold = (*session)->query("select customer_id, orders, revenue from main_gold.customer_revenue order by 1");
  ASSERT_TRUE(gold.ok()) << gold.error().to_string();
  ASSERT_EQ(gold->num_rows(), 2u);
  EXPECT_EQ(gold->cell_text(0, 1), "2");
  EXPECT_EQ(gold->cell_text(1, 2), "1.0");
}

TEST(DbtTasksTest, AGoldTestReferringToSilverRunsWithTheGoldModel) {
  // A relationships test from the gold model to a silver one is selected by both build tasks (dbt's
  // eager selection): it goes with the gold model, the last of its parents, not with stg_customers
  // (which would make silver wait for gold: a cycle).
  ShopProject project(kPipeline);
  std::ofstream(project.dir + "/models/gold/schema.yml") << R"yml(version: 2
models:
  - name: customer_revenue
    columns:
      - name: customer_id
        tests:
          - unique
          - relationships: {to: "ref('stg_customers')", field: id}
)yml";
  RuntimeOptions options;
  options.project_dir = project.dir;
  options.workers = 4;
  auto rt = Runtime::open(options);
  ASSERT_TRUE(rt.ok()) << rt.error().to_string();
  const PipelineSpec* spec = (*rt)->pipeline("p").get();  // the runtime keeps it
  ASSERT_NE(spec, nullptr);
  auto tasks = by_id(*spec);
  ASSERT_TRUE(tasks.count("model.customer_revenue.test"));
  const auto& gold_tests = tasks["model.customer_revenue.test"]->dbt_tests;
  EXPECT_EQ(gold_tests.size(), 2u);
  EXPECT_TRUE(std::any_of(gold_tests.begin(), gold_tests.end(),
                          [](const std::string& id) { return id.find("relationships") != std::string::npos; }));
  for (const auto& id : tasks["model.stg_customers.test"]->dbt_tests)
    EXPECT_EQ(id.find("relationships_customer_revenue"), std::string::npos) << id;
  EXPECT_EQ(tasks["model.customer_revenue.test"]->group, "marts");
  EXPECT_EQ(upstream_ids(*spec, *tasks["model.customer_revenue.test"]),
            (std::set<std::string>{"model.customer_revenue", "model.stg_customers"}));

  ASSERT_TRUE((*rt)->start().ok());
  auto run = (*rt)->scheduler().trigger("p", "{}");
  ASSERT_TRUE(run.ok()) << run.error().to_string();
  ASSERT_TRUE((*rt)->scheduler().start_now(run->pipeline, run->run_id).ok());
  EXPECT_EQ((*rt)->executor().wait(run->pipeline, run->run_id), RunState::kSuccess);
  auto results = (*rt)->store().test_results(run->pipeline, run->run_id);
  ASSERT_TRUE(results.ok());
  int relationships = 0;
  for (const auto& r : *results)
    if (r.test_name.find("relationships_customer_revenue") != std::string::npos) {
      ++relationships;
      EXPECT_EQ(r.status, "pass");
    }
  EXPECT_EQ(relationships, 1);
}

TEST(DbtTasksTest, FailingTestStopsDownstreamModels) {
  // Order 13 points at customer 9, who does not exist: the relationships test fails.
  std::string bronze = std::string(kBronze) +
                       "; insert into bronze.orders values (13, 9, 2.0, timestamp '2026-01-01 00:00:00')";
  ShopProject project(kPipeline, bronze);
  RuntimeOptions options;
  options.project_dir = project.dir;
  auto rt = Runtime::open(options);
  ASSERT_TRUE(rt.ok()) << rt.error().to_string();
  ASSERT_TRUE((*rt)->start().ok());
  auto run = (*rt)->scheduler().trigger("p", "{}");
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE((*rt)->scheduler().start_now(run->pipeline, run->run_id).ok());
  EXPECT_EQ((*rt)->executor().wait(run->pipeline, run->run_id), RunState::kFailed);
  std::map<std::string, TaskState> st;
  auto tis = (*rt)->store().task_instances(run->pipeline, run->run_id);
  ASSERT_TRUE(tis.ok());
  for (const auto& ti : *tis) st[ti.task_id] = ti.state;
  EXPECT_EQ(st["model.stg_orders"], TaskState::kSuccess);
  EXPECT_EQ(st["model.stg_orders.test"], TaskState::kFailed);
  EXPECT_EQ(st["model.stg_customers.test"], TaskState::kSuccess);
  EXPECT_EQ(st["model.customer_revenue"], TaskState::kUpstreamFailed);
  EXPECT_EQ(st["after"], TaskState::kUpstreamFailed);
  bool saw_fail = false;
  auto results = (*rt)->store().test_results(run->pipeline, run->run_id);
  ASSERT_TRUE(results.ok());
  for (const auto& r : *results)
    if (r.status == "fail") {
      saw_fail = true;
      EXPECT_NE(r.test_name.find("relationships"), std::string::npos);
      EXPECT_EQ(r.failures, 1);
    }
  EXPECT_TRUE(saw_fail);
}

// Test tasks run concurrently; those storing their failures write to one audit schema, which the
// run creates before any task (two tasks creating it at once conflict in DuckDB).
TEST(DbtTasksTest, TheAuditSchemaOfTestsStoringFailuresIsCreatedWithTheRun) {
  ShopProject project(kPipeline);
  std::ofstream(project.dir + "/dbt_project.yml", std::ios::app) << "data_tests:\n  +store_failures: true\n";
  Databases databases(project.dir, std::make_shared<SecretMasker>());
  DbtProjects projects(project.dir, databases, Logger());
  RunRecord run;
  run.pipeline = "p";
  run.run_id = "r";
  auto loaded = projects.for_run(run, nlohmann::json::object());
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  auto db = projects.database(**loaded);
  ASSERT_TRUE(db.ok()) << db.error().to_string();
  auto session = (*db)->connect();
  ASSERT_TRUE(session.ok());
  auto schemas = (*session)->query("select schema_name from information_schema.schemata where schema_name like "
                                   "'%audit%' or schema_name like 'main_%' order by 1");
  ASSERT_TRUE(schemas.ok()) << schemas.error().to_string();
  std::vector<std::string> names;
  for (size_t r = 0; r < schemas->num_rows(); ++r) names.push_back(schemas->cell_text(r, 0));
  EXPECT_EQ(names, (std::vector<std::string>{"main_dbt_test__audit", "main_gold", "main_silver"}));
}

TEST(DbtTasksTest, BadBuildSelectorAndMissingProjectAreLocatedErrors) {
  ShopProject project("tasks:\n  - id: b\n    build: \"nosuchmethod:x\"\n");
  RuntimeOptions options;
  options.project_dir = project.dir;
  auto rt = Runtime::open(options);
  ASSERT_FALSE(rt.ok());
  EXPECT_EQ(rt.error().code(), ErrorCode::kConfig);
  EXPECT_NE(rt.error().to_string().find("p.yml:2"), std::string::npos) << rt.error().to_string();

  strata::testing::TempDir bare;
  fs::create_directories(bare.file("pipelines"));
  std::ofstream(bare.file("pipelines/q.yml")) << "tasks:\n  - id: b\n    build: \"path:models\"\n";
  options.project_dir = bare.path();
  auto none = Runtime::open(options);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), ErrorCode::kConfig);
  EXPECT_NE(none.error().message().find("has build tasks"), std::string::npos) << none.error().to_string();
}

TEST(TaskTemplateTest, JinjaFiltersLogicAndStrictUndefined) {
  RunRecord run;
  run.run_id = "manual__x";
  run.logical_date = run.interval_start = 1767225600000000;  // 2026-01-01T00:00:00Z
  run.interval_end = run.interval_start + 3600'000'000LL;
  run.params_json = R"({"n": 3})";
  auto ctx = run_template_context(run, nlohmann::json{{"env", "prod"}, {"n", 1}, {"nested", {{"a", "b"}}}});
  auto r = render_task_template(
      "{{ ds }} {{ ds_nodash }} {{ data_interval_end }} {{ params.env | upper }} {{ params.n * 2 }} "
      "{{ params.nested.a }}{% for i in range(params.n) %}-{{ i }}{% endfor %}",
      ctx);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, "2026-01-01 20260101 2026-01-01T01:00:00Z PROD 6 b-0-1-2");
  EXPECT_EQ(*render_task_template("plain $HOME }}", ctx), "plain $HOME }}");
  SourceLocation where{"pipelines/p.yml", 7, 5};
  auto bad = render_task_template("{{ params.missing }}", ctx, where);
  ASSERT_FALSE(bad.ok()) << *bad;
  EXPECT_EQ(bad.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(bad.error().where().line, 7);
  EXPECT_NE(bad.error().message().find("missing"), std::string::npos) << bad.error().to_string();
  auto syntax = render_task_template("{{ ds ", ctx, where);
  ASSERT_FALSE(syntax.ok());
}

}  // namespace
}  // namespace strata::orchestrate

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "orchestrate/pipeline.h"

namespace strata::orchestrate {
namespace {

Result<PipelineSpec> parse(const std::string& text) {
  auto doc = load_yaml_string(text, "pipelines/p.yml");
  if (!doc.ok()) return doc.error();
  return parse_pipeline(*doc, "p");
}

TEST(PipelineTest, ParsesEveryKey) {
  auto spec = parse(R"(
schedule: "0 * * * *"
timezone: Europe/Berlin
start_date: 2026-01-01
end_date: 2026-12-31T00:00:00Z
catchup: false
max_active_runs: 2
default_args:
  retries: 3
  retry_delay: 30s
  retry_exponential_backoff: true
  max_retry_delay: 5m
  execution_timeout: 1h
params: {region: eu, limit: 10}
tasks:
  - id: extract
    sync: novadrive_pg
    streams: [users, orders]
  - id: silver_a
    build: "tag:silver"
    group: silver
    depends_on: extract
  - id: silver_b
    sql: "select 1"
    target: dev
    group: silver.inner
    depends_on: silver_a
    pool: warehouse
    priority: 5
  - id: report
    shell: "echo {{ params.region }}"
    env: {MODE: full}
    cwd: scripts
    depends_on: [silver]
    trigger_rule: all_done
    retries: 0
    retry_delay: 10
)");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  EXPECT_EQ(spec->schedule, "0 * * * *");
  EXPECT_EQ(spec->timezone, "Europe/Berlin");
  // 2026-01-01 00:00 in Berlin is 2025-12-31T23:00Z.
  EXPECT_EQ(*spec->start_date, 1767222000LL * 1000000);
  EXPECT_FALSE(spec->catchup);
  EXPECT_EQ(spec->max_active_runs, 2);
  EXPECT_EQ(spec->params["region"], "eu");
  EXPECT_EQ(spec->params["limit"], 10);
  ASSERT_EQ(spec->tasks.size(), 4u);
  const TaskSpec& report = spec->tasks[*spec->find_task("report")];
  EXPECT_EQ(report.trigger_rule, TriggerRule::kAllDone);
  EXPECT_EQ(report.retry.retries, 0);
  EXPECT_EQ(report.retry.retry_delay, 10'000'000);
  EXPECT_EQ(report.retry.max_retry_delay, 300'000'000);  // from default_args
  EXPECT_EQ(report.env.at("MODE"), "full");
  // A dependency on group `silver` is one on its leaves: silver_b only (silver_a feeds silver_b).
  ASSERT_EQ(report.upstream.size(), 1u);
  EXPECT_EQ(spec->tasks[report.upstream[0]].id, "silver_b");
  const TaskSpec& b = spec->tasks[*spec->find_task("silver_b")];
  EXPECT_EQ(b.pool, "warehouse");
  EXPECT_EQ(b.priority, 5);
  EXPECT_EQ(b.kind, TaskKind::kSql);
  EXPECT_EQ(spec->tasks[*spec->find_task("extract")].streams.size(), 2u);
  // Topological order.
  for (size_t i = 0; i < spec->tasks.size(); ++i)
    for (size_t up : spec->tasks[i].upstream) EXPECT_LT(up, i);
}

TEST(PipelineTest, GroupWithSeveralLeaves) {
  auto spec = parse(R"(
tasks:
  - {id: a, shell: "true", group: g}
  - {id: b, shell: "true", group: g.sub}
  - {id: c, shell: "true", group: g.sub, depends_on: b}
  - {id: end, shell: "true", depends_on: g}
)");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  const auto& end = spec->tasks[*spec->find_task("end")];
  std::vector<std::string> ids;
  for (size_t up : end.upstream) ids.push_back(spec->tasks[up].id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "c"}));
}

struct BadCase {
  const char* yaml;
  const char* message;
  int line;
};

TEST(PipelineTest, LocatedErrors) {
  const BadCase cases[] = {
      {"tasks:\n  - {id: a, shell: x, depends_on: b}\n  - {id: b, shell: x, depends_on: a}\n", "dependency cycle", 2},
      {"tasks:\n  - id: a\n    shell: x\n    depends_on: nope\n", "no task or group", 4},
      {"tasks:\n  - id: a\n    shell: x\n    retry_delay: soon\n", "bad duration", 4},
      {"tasks:\n  - id: a\n    shell: x\n    trigger_rule: sometimes\n", "unknown trigger_rule", 4},
      {"schedule: \"0 25 * * *\"\ntasks:\n  - {id: a, shell: x}\n", "hour", 1},
      {"timezone: Mars/Olympus\nschedule: \"@daily\"\ntasks:\n  - {id: a, shell: x}\n", "Mars/Olympus", 1},
      {"tasks:\n  - {id: a, shell: x}\n  - {id: a, shell: y}\n", "duplicate task id", 3},
      {"tasks:\n  - {id: a, shell: x, sql: y}\n", "exactly one of", 2},
      {"tasks:\n  - {id: a, shell: x, colour: red}\n", "unknown key 'colour'", 2},
      {"tasks:\n  - {id: a, shell: x, full_refresh: true}\n", "full_refresh is for sync tasks", 2},
      {"tasks:\n  - {id: a, shell: x}\nmax_active_runs: 0\n", "max_active_runs", 3},
      {"schedul: x\ntasks:\n  - {id: a, shell: x}\n", "unknown key 'schedul'", 1},
      {"tasks: []\n", "non-empty list", 1},
      {"tasks:\n  - {id: a, shell: x, group: g, depends_on: g}\n", "its own group", 2},
      {"start_date: yesterday\ntasks:\n  - {id: a, shell: x}\n", "bad start_date", 1},
  };
  for (const auto& c : cases) {
    auto spec = parse(c.yaml);
    ASSERT_FALSE(spec.ok()) << c.yaml;
    EXPECT_NE(spec.error().message().find(c.message), std::string::npos)
        << c.yaml << " -> " << spec.error().to_string();
    EXPECT_EQ(spec.error().where().file, "pipelines/p.yml");
    EXPECT_EQ(spec.error().where().line, c.line) << spec.error().to_string();
    EXPECT_GT(spec.error().where().column, 0) << spec.error().to_string();
    EXPECT_EQ(spec.error().exit_code(), 2);
  }
}

TEST(PipelineTest, AKeyRepeatedInAPipelineFileIsALocatedError) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("strata_dup_" + std::to_string(::getpid()) + ".yml")).string();
  std::ofstream(path) << "schedule: \"@daily\"\ntasks:\n  - id: a\n    shell: x\n    retries: 1\n    retries: 3\n";
  auto spec = load_pipeline_file(path);
  std::filesystem::remove(path);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.error().exit_code(), 2);
  EXPECT_EQ(spec.error().where().line, 6) << spec.error().to_string();
  EXPECT_NE(spec.error().message().find("key 'retries' appears twice in this mapping (first at line 5)"),
            std::string::npos)
      << spec.error().to_string();
}

// `queue:` (executor mode workers) as Airflow's: per task or in default_args, default "default".
TEST(PipelineTest, QueuesPerTaskAndInDefaultArgs) {
  auto spec = parse(R"(
default_args: {queue: etl}
tasks:
  - {id: a, shell: "true"}
  - {id: b, shell: "true", queue: gpu.large}
)");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  EXPECT_EQ(spec->tasks[0].queue, "etl");
  EXPECT_EQ(spec->tasks[1].queue, "gpu.large");
  auto plain = parse("tasks:\n  - {id: a, shell: \"true\"}\n");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->tasks[0].queue, "default");
  auto bad = parse("tasks:\n  - {id: a, shell: \"true\", queue: \"a b\"}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().to_string().find("bad queue 'a b'"), std::string::npos) << bad.error().to_string();
  EXPECT_EQ(bad.error().where().line, 2);
}

TEST(PipelineTest, RetryDelayBackoff) {
  RetryPolicy p;
  p.retry_delay = 10;
  EXPECT_EQ(retry_delay_after(p, 1), 10);
  EXPECT_EQ(retry_delay_after(p, 4), 10);
  p.exponential_backoff = true;
  EXPECT_EQ(retry_delay_after(p, 1), 10);
  EXPECT_EQ(retry_delay_after(p, 2), 20);
  EXPECT_EQ(retry_delay_after(p, 3), 40);
  p.max_retry_delay = 25;
  EXPECT_EQ(retry_delay_after(p, 3), 25);
  EXPECT_EQ(retry_delay_after(p, 60), 25);
}

}  // namespace
}  // namespace strata::orchestrate

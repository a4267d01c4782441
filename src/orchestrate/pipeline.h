#pragma once
// Pipeline files `pipelines/<name>.yml`: a DAG of tasks with a schedule, retry defaults, params and
// task groups. Parsing validates everything it can (unknown keys, ids, cycles, durations, trigger
// rules, cron expressions) and reports located errors (file:line:col + hint). The result is an
// immutable value; thread-safe to share once built.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/result.h"
#include "common/yaml.h"
#include "orchestrate/datasets.h"
#include "orchestrate/notifications.h"
#include "orchestrate/states.h"

namespace strata::orchestrate {

// Retry and timeout settings of a task; times in microseconds.
struct RetryPolicy {
  int retries = 0;
  int64_t retry_delay = 300'000'000;  // Airflow's default: 5 minutes
  bool exponential_backoff = false;
  int64_t max_retry_delay = 0;        // 0: no cap
  int64_t execution_timeout = 0;      // 0: none
};

// The delay after failed try `failed_try` (1-based) before the next one: retry_delay, or
// retry_delay × 2^(failed_try-1) with exponential backoff, capped by max_retry_delay when set.
int64_t retry_delay_after(const RetryPolicy& policy, int failed_try);

// A `sensor:` task, as Airflow's SqlSensor, FileSensor and ExternalTaskSensor in poke mode: the
// task's `command` holds the SQL (met when the first column of its first row is truthy), the path
// to wait for (a glob pattern, relative to the project), or the other pipeline's name. It checks
// every poke_interval until met; at `timeout` it fails without retries, or is skipped with
// soft_fail.
struct SensorSpec {
  enum class Kind : std::uint8_t { kSql, kFile, kExternal };
  Kind kind = Kind::kSql;
  // kExternal: the task `external_task` (empty: the run itself) of the other pipeline's run whose
  // logical date is this run's less execution_delta; met in one of allowed_states, failed in one
  // of failed_states (task or run state names).
  std::string external_task;
  int64_t execution_delta = 0;
  std::vector<std::string> allowed_states{"success"};
  std::vector<std::string> failed_states;
  int64_t poke_interval = 60'000'000;      // Airflow's default: 60 s
  int64_t timeout = 7 * 86'400'000'000LL;  // Airflow's default: 7 days
  bool soft_fail = false;
  // mode: reschedule (Airflow's): one poke per run of the task; between pokes the task instance is
  // up_for_reschedule and holds no executor slot or pool slot. The timeout counts from the first poke.
  bool reschedule = false;
};

// One task of a pipeline. `command` holds the kind's argument: the connection (sync), the selector
// (build/test/freshness), the SQL text (sql, sql sensor), the shell command (shell) or the path (file
// sensor); it may contain templates.
struct TaskSpec {
  std::string id;
  TaskKind kind = TaskKind::kShell;
  std::string command;
  std::vector<std::string> streams;          // sync: the streams to copy; empty = all
  bool full_refresh = false;                 // sync: ignore cursors, rebuild (strata sync --full-refresh)
  std::string target;                        // sql, sync: the profile target; empty = the default
                                             // (sync: the connection's destination)
  SensorSpec sensor;                         // sensor: what it waits for and how
  std::map<std::string, std::string> env;    // shell: extra environment
  std::string cwd;                           // shell: working folder, relative to the project
  // Set on the tasks a `build:` expands into (build_expansion.h): the dbt node a build task runs
  // ("model.shop.orders"), or, on its test task, the node whose tests it runs; `dbt_tests` lists
  // those tests' unique ids. Empty on tasks written in the file.
  std::string dbt_node;
  std::vector<std::string> dbt_tests;
  std::vector<std::string> outlets;          // datasets a success of the task updates (datasets.h)
  // Set on the tasks a `build:` with outlets expands into: that build task's id. Its outlets are
  // announced once, when all of them succeeded.
  std::string outlets_build;
  std::vector<std::string> depends_on;       // as written: task ids or group paths
  std::vector<size_t> upstream;              // resolved: indexes into PipelineSpec::tasks
  std::string group;                         // "outer.inner" (dot-separated path) or empty
  TriggerRule trigger_rule = TriggerRule::kAllSuccess;
  RetryPolicy retry;
  std::string pool = "default_pool";
  int priority = 1;
  // Airflow's depends_on_past: the task starts only once the same task of the pipeline's previous
  // run (by logical date) succeeded or was skipped; it waits meanwhile (a first run, or a previous
  // run without the task, does not wait).
  bool depends_on_past = false;
  // The work queue a `strata worker` must serve to run it (executor mode workers, as Airflow's
  // Celery queue); ignored by the local executor.
  std::string queue = "default";
  SourceLocation where;
};

// A parsed pipeline file. Tasks are in a topological order (every task after its upstream tasks).
struct PipelineSpec {
  std::string name;
  std::string file;
  std::optional<std::string> schedule;      // cron expression or preset; nullopt = manual only
  std::optional<DatasetCondition> datasets; // a data-aware schedule (datasets.h); with `schedule`
                                            // too, runs come from both (Airflow's DatasetOrTimeSchedule)
  std::string timezone = "UTC";
  std::optional<int64_t> start_date;        // micros since epoch (UTC)
  std::optional<int64_t> end_date;
  bool catchup = true;                      // Airflow 2's default
  int max_active_runs = 16;
  // Airflow's max_active_tasks: at most this many of the pipeline's task instances run at once,
  // across its runs (0: no limit), in each executor.
  int max_active_tasks = 0;
  // Airflow's dagrun_timeout: a run still going this long after it started is cancelled (its
  // running tasks stopped and failed, the rest skipped, the run failed); 0: none.
  int64_t dagrun_timeout = 0;
  RetryPolicy default_retry;
  nlohmann::json params = nlohmann::json::object();
  std::vector<NotificationSpec> notifications;  // `notifications:` (notifications.h)
  std::vector<TaskSpec> tasks;
  SourceLocation schedule_where;

  // Index of a task by id; nullopt when absent.
  std::optional<size_t> find_task(const std::string& id) const;
};

// Parses a pipeline from a loaded YAML document; `name` is the file's stem.
Result<PipelineSpec> parse_pipeline(const YamlDocument& doc, const std::string& name);
// Loads and parses one file. Errors: kNotFound, kConfig (located).
Result<PipelineSpec> load_pipeline_file(const std::string& path, const YamlOptions& options = {});
// Parses a pipeline file's text already read from `path` (which names it and locates errors).
// Errors: kConfig (located).
Result<PipelineSpec> load_pipeline_text(std::string_view text, const std::string& path, const YamlOptions& options = {});
// The paths of `<project>/pipelines/*.yml` (and .yaml), sorted. A missing folder gives none.
std::vector<std::string> pipeline_files(const std::string& project_dir);
// Every `<project>/pipelines/*.yml` (and .yaml), sorted by name. A missing folder gives none.
Result<std::vector<PipelineSpec>> load_pipelines(const std::string& project_dir, const YamlOptions& options = {});

}  // namespace strata::orchestrate

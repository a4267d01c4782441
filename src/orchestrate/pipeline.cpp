#include "orchestrate/pipeline.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <set>

#include <date/tz.h>

#include "common/strings.h"
#include "common/time.h"
#include "orchestrate/timetable.h"

namespace strata::orchestrate {
namespace {

const std::set<std::string> kTopKeys{"schedule", "timezone", "start_date", "end_date", "catchup", "max_active_runs",
                                     "max_active_tasks", "dagrun_timeout",
                                     "default_args", "params", "tasks", "description", "tags", "notifications"};
const std::set<std::string> kRetryKeys{"retries", "retry_delay", "retry_exponential_backoff", "max_retry_delay",
                                       "execution_timeout"};
const std::set<std::string> kDefaultArgKeys{"retries", "retry_delay", "retry_exponential_backoff", "max_retry_delay",
                                            "execution_timeout", "pool", "priority", "trigger_rule", "queue",
                                            "depends_on_past"};
const std::set<std::string> kSensorKeys{"sql",           "file",           "pipeline",      "task",
                                        "execution_delta", "allowed_states", "failed_states", "poke_interval",
                                        "timeout",       "soft_fail",      "mode"};
const std::set<std::string> kTaskKeys{"id", "sync", "build", "test", "freshness", "sql", "shell", "sensor", "streams",
                                      "full_refresh", "target",
                                      "env", "cwd", "depends_on", "group", "trigger_rule", "retries", "retry_delay",
                                      "retry_exponential_backoff", "max_retry_delay", "execution_timeout", "pool",
                                      "priority", "queue", "description", "outlets", "depends_on_past"};

std::string key_list(const std::set<std::string>& keys) {
  return join(std::vector<std::string>(keys.begin(), keys.end()), ", ");
}

Status check_keys(const YamlDocument& doc, const YamlNode& map, const std::set<std::string>& allowed,
                  const std::string& where) {
  for (const auto& kv : map) {
    const std::string key = kv.first.scalar();
    if (!allowed.count(key))
      return doc.error(kv.first, "unknown key '" + key + "' in " + where, "valid keys: " + key_list(allowed));
  }
  return ok_status();
}

bool valid_name(std::string_view s, bool allow_dot) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || (allow_dot && c == '.');
    if (!ok) return false;
  }
  return true;
}

Result<int64_t> yaml_duration(const YamlDocument& doc, const YamlNode& node, std::string_view what) {
  if (node.is_scalar()) {
    if (auto micros = parse_duration(node.scalar())) return *micros;
  }
  return doc.error(node, "bad duration for " + std::string(what),
                   "write a number of seconds or a duration such as 30s, 5m, 1h30m, 2d");
}

// Reads retry-related keys present in `map` into `policy` (keeping values not given).
Status read_retry(const YamlDocument& doc, const YamlNode& map, RetryPolicy& policy) {
  if (auto n = map["retries"]) {
    STRATA_ASSIGN(long long r, yaml_int(doc, n, "retries"));
    if (r < 0 || r > 1000) return doc.error(n, "retries must be between 0 and 1000");
    policy.retries = static_cast<int>(r);
  }
  if (auto n = map["retry_delay"]) { STRATA_ASSIGN(policy.retry_delay, yaml_duration(doc, n, "retry_delay")); }
  if (auto n = map["retry_exponential_backoff"]) {
    STRATA_ASSIGN(policy.exponential_backoff, yaml_bool(doc, n, "retry_exponential_backoff"));
  }
  if (auto n = map["max_retry_delay"]) {
    STRATA_ASSIGN(policy.max_retry_delay, yaml_duration(doc, n, "max_retry_delay"));
  }
  if (auto n = map["execution_timeout"]) {
    STRATA_ASSIGN(policy.execution_timeout, yaml_duration(doc, n, "execution_timeout"));
  }
  return ok_status();
}

Result<TriggerRule> read_trigger_rule(const YamlDocument& doc, const YamlNode& node) {
  STRATA_ASSIGN(std::string text, yaml_string(doc, node, "trigger_rule"));
  if (auto rule = parse_trigger_rule(text)) return *rule;
  return doc.error(node, "unknown trigger_rule '" + text + "'",
                   "use one of all_success, all_done, all_failed, one_success, one_failed, none_failed, "
                   "none_skipped, always");
}

// A task's `queue` (executor mode workers): a name a `strata worker --queues` can list.
Result<std::string> read_queue(const YamlDocument& doc, const YamlNode& node) {
  STRATA_ASSIGN(std::string queue, yaml_string(doc, node, "queue"));
  if (!valid_name(queue, true))
    return doc.error(node, "bad queue '" + queue + "'",
                     "a queue is a name of letters, digits, '_', '-' and '.', as `strata worker --queues` lists them");
  return queue;
}

Result<std::vector<std::string>> string_list(const YamlDocument& doc, const YamlNode& node, std::string_view what) {
  std::vector<std::string> out;
  if (node.is_scalar()) {
    out.push_back(node.scalar());
    return out;
  }
  if (!node.is_sequence())
    return doc.error(node, std::string(what) + " must be a name or a list of names", "e.g. [extract, load]");
  for (const auto& item : node) {
    STRATA_ASSIGN(std::string s, yaml_string(doc, item, what));
    out.push_back(std::move(s));
  }
  return out;
}

// Parses a date or timestamp; without an explicit offset it is local time in `zone`.
Result<int64_t> read_date(const YamlDocument& doc, const YamlNode& node, std::string_view what,
                          const date::time_zone* zone) {
  STRATA_ASSIGN(std::string text, yaml_string(doc, node, what));
  auto micros = parse_iso8601(text);
  if (!micros)
    return doc.error(node, "bad " + std::string(what) + " '" + text + "'",
                     "write an ISO 8601 date or timestamp, e.g. 2026-01-01 or 2026-01-01T06:00:00Z");
  const bool has_offset = text.size() > 10 && (text.back() == 'Z' || text.find('+', 10) != std::string::npos ||
                                                text.find('-', 10) != std::string::npos);
  if (has_offset || zone == nullptr) return *micros;
  auto local = date::local_time<std::chrono::microseconds>(std::chrono::microseconds(*micros));
  auto sys = zone->to_sys(local, date::choose::earliest);
  return static_cast<int64_t>(sys.time_since_epoch().count());
}

// A positive duration (poke_interval, timeout).
Result<int64_t> positive_duration(const YamlDocument& doc, const YamlNode& node, std::string_view what) {
  STRATA_ASSIGN(int64_t micros, yaml_duration(doc, node, what));
  if (micros <= 0) return doc.error(node, std::string(what) + " must be more than 0", "e.g. 30s");
  return micros;
}

// The states a `pipeline:` sensor names: task states with `task:`, else run states.
Result<std::vector<std::string>> sensor_states(const YamlDocument& doc, const YamlNode& node, bool of_task,
                                               std::string_view what) {
  STRATA_ASSIGN(std::vector<std::string> states, string_list(doc, node, what));
  for (const auto& s : states) {
    const bool known = of_task ? parse_task_state(s).has_value() : parse_run_state(s).has_value();
    if (!known)
      return doc.error(node, "unknown " + std::string(of_task ? "task" : "run") + " state '" + s + "' in " + std::string(what),
                       of_task ? "task states: success, failed, skipped, upstream_failed, up_for_retry, up_for_reschedule, running, queued"
                               : "run states: success, failed, running, queued");
  }
  return states;
}

// The keys of a `pipeline:` sensor (Airflow's ExternalTaskSensor); refused on other sensors.
Status read_external_sensor(const YamlDocument& doc, const YamlNode& node, TaskSpec& task) {
  SensorSpec& s = task.sensor;
  const bool external = s.kind == SensorSpec::Kind::kExternal;
  for (const char* key : {"task", "execution_delta", "allowed_states", "failed_states"})
    if (node[key] && !external)
      return doc.error(node[key], std::string(key) + " is for pipeline sensors", "remove it, or sense a pipeline:");
  if (!external) return ok_status();
  if (!valid_name(task.command, false))
    return doc.error(node["pipeline"], "bad pipeline name '" + task.command + "'", "name a file of pipelines/ by its stem");
  if (auto n = node["task"]) { STRATA_ASSIGN(s.external_task, yaml_string(doc, n, "task")); }
  if (auto n = node["execution_delta"]) {
    STRATA_ASSIGN(s.execution_delta, yaml_duration(doc, n, "execution_delta"));
    if (s.execution_delta < 0) return doc.error(n, "execution_delta must not be negative", "e.g. 1h: the run an hour earlier");
  }
  const bool of_task = !s.external_task.empty();
  if (auto n = node["allowed_states"]) { STRATA_ASSIGN(s.allowed_states, sensor_states(doc, n, of_task, "allowed_states")); }
  if (auto n = node["failed_states"]) { STRATA_ASSIGN(s.failed_states, sensor_states(doc, n, of_task, "failed_states")); }
  for (const auto& state : s.failed_states)
    if (std::find(s.allowed_states.begin(), s.allowed_states.end(), state) != s.allowed_states.end())
      return doc.error(node["failed_states"] ? node["failed_states"] : node, "state '" + state + "' is both allowed and failed",
                       "list each state in allowed_states or failed_states, not both");
  return ok_status();
}

Status read_sensor(const YamlDocument& doc, const YamlNode& node, TaskSpec& task) {
  if (!node.is_map())
    return doc.error(node, "sensor must be a mapping",
                     "e.g. sensor: {sql: \"select count(*) > 0 from bronze.orders\", poke_interval: 30s}");
  STRATA_TRY(check_keys(doc, node, kSensorKeys, "a sensor"));
  const int kinds = static_cast<int>(static_cast<bool>(node["sql"])) + static_cast<int>(static_cast<bool>(node["file"])) +
                    static_cast<int>(static_cast<bool>(node["pipeline"]));
  if (kinds != 1)
    return doc.error(node, "a sensor waits for exactly one of sql, file or pipeline",
                     "sql: a query whose first value turns true; file: a path or glob pattern to appear; pipeline: "
                     "another pipeline's run (or its task:) at the same logical date");
  task.sensor.kind = node["sql"]    ? SensorSpec::Kind::kSql
                     : node["file"] ? SensorSpec::Kind::kFile
                                    : SensorSpec::Kind::kExternal;
  const YamlNode what = node["sql"] ? node["sql"] : node["file"] ? node["file"] : node["pipeline"];
  STRATA_ASSIGN(task.command, yaml_string(doc, what, "sensor"));
  STRATA_TRY(read_external_sensor(doc, node, task));
  if (auto n = node["poke_interval"]) { STRATA_ASSIGN(task.sensor.poke_interval, positive_duration(doc, n, "poke_interval")); }
  if (auto n = node["timeout"]) { STRATA_ASSIGN(task.sensor.timeout, positive_duration(doc, n, "timeout")); }
  if (auto n = node["soft_fail"]) { STRATA_ASSIGN(task.sensor.soft_fail, yaml_bool(doc, n, "soft_fail")); }
  if (auto n = node["mode"]) {
    STRATA_ASSIGN(std::string mode, yaml_string(doc, n, "mode"));
    if (mode != "poke" && mode != "reschedule")
      return doc.error(n, "unknown sensor mode '" + mode + "'",
                       "poke (holds its slot while it waits) or reschedule (frees it between pokes)");
    task.sensor.reschedule = mode == "reschedule";
  }
  return ok_status();
}

Result<TaskSpec> parse_task(const YamlDocument& doc, const YamlNode& node, const TaskSpec& defaults) {
  if (!node.is_map()) return doc.error(node, "a task must be a mapping", "e.g. - id: load\n    shell: ./load.sh");
  STRATA_TRY(check_keys(doc, node, kTaskKeys, "a task"));
  TaskSpec task = defaults;
  task.where = doc.where(node);
  if (!node["id"]) return doc.error(node, "task without an id", "add `id: <name>` to the task");
  STRATA_ASSIGN(task.id, yaml_string(doc, node["id"], "id"));
  if (!valid_name(task.id, true))
    return doc.error(node["id"], "bad task id '" + task.id + "'", "use letters, digits, '_', '-' and '.'");
  int kinds = 0;
  if (auto n = node["sensor"]) {
    ++kinds;
    task.kind = TaskKind::kSensor;
    STRATA_TRY(read_sensor(doc, n, task));
  }
  for (TaskKind kind : {TaskKind::kSync, TaskKind::kBuild, TaskKind::kTest, TaskKind::kFreshness, TaskKind::kSql,
                        TaskKind::kShell}) {
    auto n = node[std::string(task_kind_name(kind))];
    if (!n) continue;
    ++kinds;
    task.kind = kind;
    STRATA_ASSIGN(task.command, yaml_string(doc, n, task_kind_name(kind)));
  }
  if (kinds != 1)
    return doc.error(node,
                     "task '" + task.id + "' must have exactly one of sync, build, test, freshness, sql, shell, sensor",
                     "e.g. shell: \"echo hello\" or sql: \"select 1\"");
  if (auto n = node["streams"]) { STRATA_ASSIGN(task.streams, string_list(doc, n, "streams")); }
  if (auto n = node["outlets"]) { STRATA_ASSIGN(task.outlets, parse_outlets(doc, n)); }
  if (auto n = node["full_refresh"]) {
    if (task.kind != TaskKind::kSync)
      return doc.error(n, "full_refresh is for sync tasks", "remove it, or make the task a sync: task");
    STRATA_ASSIGN(task.full_refresh, yaml_bool(doc, n, "full_refresh"));
  }
  if (auto n = node["target"]) {
    if (task.kind == TaskKind::kSensor && task.sensor.kind != SensorSpec::Kind::kSql)
      return doc.error(n, "target is for sql sensors", "remove it");
    STRATA_ASSIGN(task.target, yaml_string(doc, n, "target"));
  }
  if (auto n = node["cwd"]) { STRATA_ASSIGN(task.cwd, yaml_string(doc, n, "cwd")); }
  if (auto n = node["env"]) {
    if (!n.is_map()) return doc.error(n, "env must be a mapping of variable names to values", "e.g. env: {MODE: full}");
    for (const auto& kv : n) {
      STRATA_ASSIGN(std::string value, yaml_string(doc, kv.second, "env value"));
      task.env[kv.first.scalar()] = value;
    }
  }
  if (auto n = node["depends_on"]) { STRATA_ASSIGN(task.depends_on, string_list(doc, n, "depends_on")); }
  if (auto n = node["group"]) {
    STRATA_ASSIGN(task.group, yaml_string(doc, n, "group"));
    for (const auto& part : split(task.group, '.'))
      if (!valid_name(part, false))
        return doc.error(n, "bad group '" + task.group + "'",
                         "a group is a name, or a dot-separated path of names for nested groups (silver.core)");
  }
  if (auto n = node["trigger_rule"]) { STRATA_ASSIGN(task.trigger_rule, read_trigger_rule(doc, n)); }
  STRATA_TRY(read_retry(doc, node, task.retry));
  if (auto n = node["pool"]) { STRATA_ASSIGN(task.pool, yaml_string(doc, n, "pool")); }
  if (auto n = node["queue"]) { STRATA_ASSIGN(task.queue, read_queue(doc, n)); }
  if (auto n = node["priority"]) {
    STRATA_ASSIGN(long long p, yaml_int(doc, n, "priority"));
    task.priority = static_cast<int>(p);
  }
  if (auto n = node["depends_on_past"]) { STRATA_ASSIGN(task.depends_on_past, yaml_bool(doc, n, "depends_on_past")); }
  return task;
}

bool in_group(const TaskSpec& task, const std::string& group) {
  return task.group == group || starts_with(task.group, group + ".");
}

// Resolves depends_on names into upstream indexes; a group stands for its leaves.
Status resolve_dependencies(const YamlDocument& doc, const YamlNode& tasks_node, std::vector<TaskSpec>& tasks) {
  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < tasks.size(); ++i) by_id[tasks[i].id] = i;
  std::set<std::string> groups;
  for (const auto& t : tasks) {
    std::string path;
    for (const auto& part : split(t.group, '.')) {
      if (t.group.empty()) break;
      path = path.empty() ? part : path + "." + part;
      groups.insert(path);
    }
  }
  auto names_task = [&](const TaskSpec& from, size_t target) {
    for (const auto& name : from.depends_on) {
      if (name == tasks[target].id) return true;
      if (groups.count(name) && in_group(tasks[target], name)) return true;
    }
    return false;
  };
  for (size_t i = 0; i < tasks.size(); ++i) {
    auto& task = tasks[i];
    std::set<size_t> upstream;
    const YamlNode dep_node = tasks_node[i]["depends_on"];
    for (const auto& name : task.depends_on) {
      if (auto it = by_id.find(name); it != by_id.end()) {
        if (it->second == i) return doc.error(dep_node, "task '" + task.id + "' depends on itself", "remove it");
        upstream.insert(it->second);
        continue;
      }
      if (!groups.count(name))
        return doc.error(dep_node, "task '" + task.id + "' depends on '" + name + "', which is no task or group",
                         "check the spelling; known ids are the `id:` of tasks and the `group:` paths");
      if (in_group(task, name))
        return doc.error(dep_node, "task '" + task.id + "' depends on its own group '" + name + "'",
                         "depend on specific tasks of the group instead");
      for (size_t j = 0; j < tasks.size(); ++j) {
        if (!in_group(tasks[j], name)) continue;
        bool leaf = true;
        for (size_t k = 0; k < tasks.size() && leaf; ++k)
          if (k != j && in_group(tasks[k], name) && names_task(tasks[k], j)) leaf = false;
        if (leaf) upstream.insert(j);
      }
    }
    task.upstream.assign(upstream.begin(), upstream.end());
  }
  return ok_status();
}

// Orders tasks topologically (stable: file order among ready tasks); reports a cycle.
Status order_tasks(const YamlDocument& doc, const YamlNode& tasks_node, std::vector<TaskSpec>& tasks) {
  const size_t n = tasks.size();
  std::vector<int> state(n, 0);  // 0 new, 1 on stack, 2 done
  std::vector<size_t> order, stack;
  std::function<Status(size_t)> visit = [&](size_t i) -> Status {
    if (state[i] == 2) return ok_status();
    if (state[i] == 1) {
      std::string path;
      auto start = std::find(stack.begin(), stack.end(), i);
      for (auto it = start; it != stack.end(); ++it) path += tasks[*it].id + " -> ";
      path += tasks[i].id;
      return doc.error(tasks_node[i], "dependency cycle: " + path, "remove one of these depends_on entries");
    }
    state[i] = 1;
    stack.push_back(i);
    for (size_t up : tasks[i].upstream) STRATA_TRY(visit(up));
    stack.pop_back();
    state[i] = 2;
    order.push_back(i);
    return ok_status();
  };
  for (size_t i = 0; i < n; ++i) STRATA_TRY(visit(i));
  std::vector<size_t> new_index(n);
  for (size_t pos = 0; pos < n; ++pos) new_index[order[pos]] = pos;
  std::vector<TaskSpec> sorted;
  sorted.reserve(n);
  for (size_t pos = 0; pos < n; ++pos) {
    TaskSpec t = std::move(tasks[order[pos]]);
    for (auto& up : t.upstream) up = new_index[up];
    std::sort(t.upstream.begin(), t.upstream.end());
    sorted.push_back(std::move(t));
  }
  tasks = std::move(sorted);
  return ok_status();
}

// Checks the schedule and time zone through the cron module's timetable (located errors).
Status check_schedule(const std::string& text, const std::string& zone, const SourceLocation& where,
                      const SourceLocation& zone_where) {
  auto timetable = Timetable::create(text, zone, where, zone_where);
  if (!timetable.ok()) return timetable.error();
  return ok_status();
}

Status parse_top(const YamlDocument& doc, PipelineSpec& spec, const date::time_zone*& zone) {
  const YamlNode& root = doc.root;
  if (auto n = root["timezone"]) {
    STRATA_ASSIGN(spec.timezone, yaml_string(doc, n, "timezone"));
    try {
      zone = date::locate_zone(spec.timezone);
    } catch (const std::exception&) {
      return doc.error(n, "unknown time zone '" + spec.timezone + "'",
                       "use an IANA name such as UTC, Europe/Berlin or America/New_York");
    }
  } else {
    zone = date::locate_zone("UTC");
  }
  auto cron_schedule = [&](const YamlNode& n) -> Status {
    STRATA_ASSIGN(std::string text, yaml_string(doc, n, "schedule"));
    if (to_lower(text) == "none" || text.empty()) return ok_status();
    spec.schedule = text;
    spec.schedule_where = doc.where(n);
    SourceLocation zone_where = root["timezone"] ? doc.where(root["timezone"]) : SourceLocation{};
    return check_schedule(text, spec.timezone, spec.schedule_where, zone_where);
  };
  if (auto n = root["schedule"]; n && n.is_map() && (n["cron"] || n["datasets"])) {
    // Airflow's DatasetOrTimeSchedule: runs on the clock and on dataset updates.
    STRATA_TRY(check_keys(doc, n, {"cron", "datasets"}, "a schedule on the clock and on datasets"));
    if (!n["cron"] || !n["datasets"])
      return doc.error(n, "a schedule with `cron:` or `datasets:` needs both",
                       "e.g. schedule: {cron: \"@daily\", datasets: [s3://lake/orders]}, or write only one of them");
    STRATA_TRY(cron_schedule(n["cron"]));
    STRATA_ASSIGN(spec.datasets, parse_dataset_schedule(doc, n["datasets"]));
    if (!spec.schedule)
      return doc.error(n["cron"], "`cron:` must be a cron expression or preset", "e.g. cron: \"@daily\"");
  } else if (n && (n.is_sequence() || n.is_map())) {
    STRATA_ASSIGN(spec.datasets, parse_dataset_schedule(doc, n));
    spec.schedule_where = doc.where(n);
  } else if (n && !n.is_null()) {
    STRATA_TRY(cron_schedule(n));
  }
  if (auto n = root["start_date"]) { STRATA_ASSIGN(spec.start_date, read_date(doc, n, "start_date", zone)); }
  if (auto n = root["end_date"]) { STRATA_ASSIGN(spec.end_date, read_date(doc, n, "end_date", zone)); }
  if (spec.start_date && spec.end_date && *spec.end_date < *spec.start_date)
    return doc.error(root["end_date"], "end_date is before start_date", "swap them or remove end_date");
  if (auto n = root["catchup"]) { STRATA_ASSIGN(spec.catchup, yaml_bool(doc, n, "catchup")); }
  if (auto n = root["max_active_runs"]) {
    STRATA_ASSIGN(long long m, yaml_int(doc, n, "max_active_runs"));
    if (m < 1) return doc.error(n, "max_active_runs must be at least 1", "e.g. max_active_runs: 1");
    spec.max_active_runs = static_cast<int>(m);
  }
  if (auto n = root["max_active_tasks"]) {
    STRATA_ASSIGN(long long m, yaml_int(doc, n, "max_active_tasks"));
    if (m < 1) return doc.error(n, "max_active_tasks must be at least 1", "e.g. max_active_tasks: 4");
    spec.max_active_tasks = static_cast<int>(m);
  }
  if (auto n = root["dagrun_timeout"]) {
    STRATA_ASSIGN(spec.dagrun_timeout, positive_duration(doc, n, "dagrun_timeout"));
  }
  if (auto n = root["params"]) {
    if (!n.is_map()) return doc.error(n, "params must be a mapping", "e.g. params: {full_refresh: false}");
    spec.params = nlohmann::json(yaml_to_json(n));
  }
  if (auto n = root["notifications"]) { STRATA_ASSIGN(spec.notifications, parse_notifications(doc, n)); }
  return ok_status();
}

}  // namespace

int64_t retry_delay_after(const RetryPolicy& policy, int failed_try) {
  int64_t delay = policy.retry_delay;
  if (policy.exponential_backoff) {
    for (int i = 1; i < failed_try; ++i) {
      if (delay > (int64_t{1} << 52)) break;
      delay *= 2;
    }
  }
  if (policy.max_retry_delay > 0) delay = std::min(delay, policy.max_retry_delay);
  return delay;
}

std::optional<size_t> PipelineSpec::find_task(const std::string& id) const {
  for (size_t i = 0; i < tasks.size(); ++i)
    if (tasks[i].id == id) return i;
  return std::nullopt;
}

Result<PipelineSpec> parse_pipeline(const YamlDocument& doc, const std::string& name) {
  PipelineSpec spec;
  spec.name = name;
  spec.file = doc.file;
  if (!doc.root.is_map())
    return doc.error(doc.root, "a pipeline file must be a mapping", "start with `schedule:` and `tasks:`");
  STRATA_TRY(check_keys(doc, doc.root, kTopKeys, "a pipeline"));
  const date::time_zone* zone = nullptr;
  STRATA_TRY(parse_top(doc, spec, zone));
  TaskSpec defaults;
  if (auto n = doc.root["default_args"]) {
    if (!n.is_map()) return doc.error(n, "default_args must be a mapping", "e.g. default_args: {retries: 2}");
    STRATA_TRY(check_keys(doc, n, kDefaultArgKeys, "default_args"));
    STRATA_TRY(read_retry(doc, n, defaults.retry));
    if (auto p = n["pool"]) { STRATA_ASSIGN(defaults.pool, yaml_string(doc, p, "pool")); }
    if (auto p = n["queue"]) { STRATA_ASSIGN(defaults.queue, read_queue(doc, p)); }
    if (auto p = n["priority"]) {
      STRATA_ASSIGN(long long v, yaml_int(doc, p, "priority"));
      defaults.priority = static_cast<int>(v);
    }
    if (auto p = n["trigger_rule"]) { STRATA_ASSIGN(defaults.trigger_rule, read_trigger_rule(doc, p)); }
    if (auto p = n["depends_on_past"]) { STRATA_ASSIGN(defaults.depends_on_past, yaml_bool(doc, p, "depends_on_past")); }
  }
  spec.default_retry = defaults.retry;
  const YamlNode tasks = doc.root["tasks"];
  if (!tasks || !tasks.is_sequence() || tasks.size() == 0)
    return doc.error(tasks ? tasks : doc.root, "a pipeline needs a non-empty list `tasks:`",
                     "e.g. tasks:\n  - id: hello\n    shell: echo hello");
  std::set<std::string> ids;
  for (const auto& node : tasks) {
    STRATA_ASSIGN(TaskSpec task, parse_task(doc, node, defaults));
    if (!ids.insert(task.id).second)
      return doc.error(node["id"], "duplicate task id '" + task.id + "'", "every task id must be unique");
    spec.tasks.push_back(std::move(task));
  }
  STRATA_TRY(resolve_dependencies(doc, tasks, spec.tasks));
  STRATA_TRY(order_tasks(doc, tasks, spec.tasks));
  return spec;
}

Result<PipelineSpec> load_pipeline_text(std::string_view text, const std::string& path, const YamlOptions& options) {
  YamlOptions strict = options;
  strict.unique_keys = true;  // a pipeline is Strata's own file: a repeated key is a mistake
  STRATA_ASSIGN(YamlDocument doc, load_yaml_string(text, path, strict));
  return parse_pipeline(doc, std::filesystem::path(path).stem().string());
}

Result<PipelineSpec> load_pipeline_file(const std::string& path, const YamlOptions& options) {
  std::string text;
  if (!read_file(path, text))
    return Error(ErrorCode::kNotFound, "cannot read file '" + path + "'", {}, "check that the path exists and is readable");
  return load_pipeline_text(text, path, options);
}

std::vector<std::string> pipeline_files(const std::string& project_dir) {
  std::vector<std::string> files;
  std::filesystem::path dir = std::filesystem::path(project_dir) / "pipelines";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    auto ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".yml" || ext == ".yaml")) files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

Result<std::vector<PipelineSpec>> load_pipelines(const std::string& project_dir, const YamlOptions& options) {
  std::vector<PipelineSpec> out;
  for (const auto& f : pipeline_files(project_dir)) {
    STRATA_ASSIGN(PipelineSpec spec, load_pipeline_file(f, options));
    out.push_back(std::move(spec));
  }
  return out;
}

}  // namespace strata::orchestrate

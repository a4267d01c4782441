#include "orchestrate/runtime.h"

#include <filesystem>

#include "common/strings.h"
#include "common/yaml.h"
#include "orchestrate/build_expansion.h"
#include "orchestrate/connection_secrets.h"
#include "orchestrate/shell_runner.h"
#include "orchestrate/sensor_runner.h"
#include "orchestrate/sql_runner.h"
#include "orchestrate/sync_runner.h"

namespace strata::orchestrate {
namespace {

Result<std::map<std::string, int>> load_pools(const std::string& project_dir, const YamlOptions& yaml_options) {
  std::map<std::string, int> pools;
  const std::string path = project_dir + "/pools.yml";
  if (!std::filesystem::exists(path)) return pools;
  STRATA_ASSIGN(YamlDocument doc, load_yaml_file(path, yaml_options));
  const YamlNode node = doc.root["pools"];
  if (!node || !node.is_map())
    return doc.error(doc.root, "pools.yml needs a mapping `pools:` of pool names to slots", "pools: {warehouse: 4}");
  for (const auto& kv : node) {
    STRATA_ASSIGN(long long slots, yaml_int(doc, kv.second, "slots"));
    if (slots < 1) return doc.error(kv.second, "a pool needs at least 1 slot", "e.g. warehouse: 4");
    pools[kv.first.scalar()] = static_cast<int>(slots);
  }
  return pools;
}

// True when the pipeline's tasks come from the dbt project's graph (an expanded `build:`).
bool expands_builds(const PipelineSpec& spec) {
  for (const auto& t : spec.tasks)
    if (t.kind == TaskKind::kBuild || !t.dbt_node.empty()) return true;
  return false;
}

// The expanded task graph: ids, dbt nodes and tests, groups and upstream tasks.
std::string task_graph(const PipelineSpec& spec) {
  std::string out;
  for (const auto& t : spec.tasks) {
    out += t.id + "|" + t.dbt_node + "|" + join(t.dbt_tests, ",") + "|" + t.group + "|";
    for (size_t up : t.upstream) out += std::to_string(up) + ",";
    out += "\n";
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Runtime>> Runtime::open(const RuntimeOptions& options) {
  std::unique_ptr<Runtime> rt(new Runtime(options));
  // Before anything renders or logs: the connections' passwords are secrets from the start.
  register_connection_secrets(options.project_dir, *options.masker);
  YamlOptions yaml_options;
  yaml_options.masker = options.masker.get();
  rt->databases_ = std::make_unique<Databases>(options.project_dir, options.masker);
  rt->dbt_ = std::make_unique<DbtProjects>(options.project_dir, *rt->databases_, Logger(options.masker));
  std::vector<PipelineSpec> specs;
  std::vector<std::string> texts;
  for (const auto& file : pipeline_files(options.project_dir)) {
    std::string text;
    if (!read_file(file, text))
      return Error(ErrorCode::kNotFound, "cannot read file '" + file + "'", {}, "check that it is readable");
    STRATA_ASSIGN(PipelineSpec spec, load_pipeline_text(text, file, yaml_options));
    rt->texts_[file] = std::move(text);
    specs.push_back(std::move(spec));
  }
  rt->dbt_stamp_ = rt->dbt_->stamp();  // before the expansion reads the project: a later edit shows
  STRATA_TRY(rt->expand_pipelines(specs));
  for (auto& spec : specs) rt->pipelines_.push_back(std::make_shared<const PipelineSpec>(std::move(spec)));
  STRATA_ASSIGN(rt->pools_, load_pools(options.project_dir, yaml_options));
  STRATA_ASSIGN(rt->store_config_, metadata_store_config(options.project_dir, options.env));
  STRATA_ASSIGN(rt->store_, open_metadata_store(rt->store_config_, options.masker.get()));
  // A dataset-scheduled pipeline waits for its datasets from the first process that reads its file
  // on: an event of `strata pipeline run --wait` before any `strata serve` still counts.
  for (const auto& spec : rt->pipelines_)
    if (spec->datasets) STRATA_TRY(rt->store_->start_dataset_queues(spec->name, spec->datasets->uris()));
  Databases* databases = rt->databases_.get();
  rt->runners_[TaskKind::kShell] = std::make_shared<ShellRunner>();
  // sql and sensor tasks reach a target alike: DuckDB's database, or PostgreSQL's conninfo.
  TargetResolver duckdb = [databases](const std::string& target) -> Result<warehouse::Database*> {
    STRATA_ASSIGN(ResolvedTarget resolved, databases->target(target));
    if (resolved.database == nullptr) return Error(ErrorCode::kInternal, "target '" + target + "' is not a DuckDB target");
    return resolved.database;
  };
  PostgresResolver postgres = [databases](const std::string& target) -> Result<std::optional<std::string>> {
    STRATA_ASSIGN(ResolvedTarget resolved, databases->target(target));
    if (resolved.postgres_conninfo.empty()) return std::optional<std::string>();
    return std::optional<std::string>(resolved.postgres_conninfo);
  };
  rt->runners_[TaskKind::kSql] = std::make_shared<SqlRunner>(duckdb, postgres, options.masker);
  rt->runners_[TaskKind::kSensor] = std::make_shared<SensorRunner>(duckdb, postgres, options.masker);
  rt->runners_[TaskKind::kSync] = std::make_shared<SyncRunner>(*databases, options.masker);
  auto dbt = std::make_shared<DbtRunner>(*rt->dbt_);
  for (TaskKind kind : {TaskKind::kBuild, TaskKind::kTest, TaskKind::kFreshness}) rt->runners_[kind] = dbt;
  return rt;
}

// Expands the build tasks of every pipeline; the dbt project is loaded once, with placeholder
// vars (each run compiles it again with its own).
Status Runtime::expand_pipelines(std::vector<PipelineSpec>& specs) {
  const PipelineSpec* first = nullptr;
  for (const auto& spec : specs)
    if (!first && has_unexpanded_builds(spec)) first = &spec;
  if (!first) return ok_status();
  RunRecord placeholder;
  placeholder.run_id = "expansion";
  auto project = dbt_->load(run_dbt_vars(placeholder, first->params));
  if (!project.ok()) {
    Error e = std::move(project).error();
    if (e.code() != ErrorCode::kNotFound) return e;
    const TaskSpec* build = nullptr;
    for (const auto& t : first->tasks)
      if (!build && t.kind == TaskKind::kBuild) build = &t;
    return Error(ErrorCode::kConfig, "pipeline " + first->name + " has build tasks, but " + e.message(),
                 build ? build->where : SourceLocation{first->file, 0, 0},
                 "put the pipeline in a dbt project (dbt_project.yml and profiles.yml next to pipelines/)");
  }
  for (auto& spec : specs) STRATA_TRY(expand_builds(spec, **project));
  return ok_status();
}

Runtime::~Runtime() {
  scheduler_.reset();
  if (executor_) executor_->shutdown();
  executor_.reset();
  notifier_.reset();
  runners_.clear();
  dbt_.reset();
  databases_.reset();
}

std::vector<std::shared_ptr<const PipelineSpec>> Runtime::pipelines() const {
  std::lock_guard lock(pipelines_mutex_);
  return pipelines_;
}

std::shared_ptr<const PipelineSpec> Runtime::pipeline(const std::string& name) const {
  std::lock_guard lock(pipelines_mutex_);
  for (const auto& p : pipelines_)
    if (p->name == name) return p;
  return nullptr;
}

Result<PipelineSpec> Runtime::load_pipeline(const std::string& path, std::string& text) {
  if (!read_file(path, text))
    return Error(ErrorCode::kNotFound, "cannot read file '" + path + "'", {}, "check that it is readable");
  YamlOptions yaml_options;
  yaml_options.masker = options_.masker.get();
  STRATA_ASSIGN(PipelineSpec spec, load_pipeline_text(text, path, yaml_options));
  std::vector<PipelineSpec> one;
  one.push_back(std::move(spec));
  STRATA_TRY(expand_pipelines(one));
  return std::move(one.front());
}

PipelineReload Runtime::reload_pipelines() {
  PipelineReload report;
  std::map<std::string, std::shared_ptr<const PipelineSpec>> before;
  for (const auto& p : pipelines()) before[p->file] = p;
  std::vector<std::shared_ptr<const PipelineSpec>> after;
  std::map<std::string, std::string> texts;
  // An edited dbt project changes what `build:` tasks expand into, as Cosmos re-renders a DAG.
  const uint64_t stamp = dbt_->stamp();
  const bool project_changed = stamp != dbt_stamp_;
  dbt_stamp_ = stamp;
  for (const auto& file : pipeline_files(options_.project_dir)) {
    auto old = before.find(file);
    std::string text;
    const bool unchanged = read_file(file, text) && texts_.count(file) && texts_[file] == text;
    // A file that failed last time is retried too: the project may have been what failed it.
    const bool reexpand = unchanged && project_changed && (old == before.end() || expands_builds(*old->second));
    if (unchanged && !reexpand) {
      // The same text as last time: its pipeline, or (it failed then) still none, without a log.
      if (old != before.end()) after.push_back(old->second);
      texts[file] = std::move(text);
      continue;
    }
    auto loaded = load_pipeline(file, text);
    texts[file] = text;
    if (!loaded.ok()) {
      report.errors.push_back(std::move(loaded).error());
      if (old != before.end()) after.push_back(old->second);
      continue;
    }
    if (reexpand && old != before.end() && task_graph(*loaded) == task_graph(*old->second)) {
      after.push_back(old->second);
      continue;
    }
    (old == before.end() ? report.added : reexpand ? report.reexpanded : report.updated).push_back(loaded->name);
    after.push_back(std::make_shared<const PipelineSpec>(std::move(loaded).value()));
  }
  for (const auto& [file, spec] : before)
    if (!texts.count(file)) report.removed.push_back(spec->name);
  texts_ = std::move(texts);
  {
    std::lock_guard lock(pipelines_mutex_);
    pipelines_ = after;
  }
  if (scheduler_) scheduler_->set_pipelines(after);
  return report;
}

void Runtime::notify_task(const TaskEvent& event) {
  NotifyEvent what;
  switch (event.state) {
    case TaskState::kFailed: what = NotifyEvent::kTaskFailed; break;
    case TaskState::kUpForRetry: what = NotifyEvent::kTaskRetry; break;
    case TaskState::kSuccess: what = NotifyEvent::kTaskSucceeded; break;
    default: return;
  }
  auto spec = pipeline(event.pipeline);
  if (!spec || !wants(spec->notifications, what)) return;
  Notification n{what, event.pipeline, event.run_id, event.task_id, event.try_number, 0, ""};
  if (auto run = store_->run(event.pipeline, event.run_id); run.ok() && *run) n.logical_date = (*run)->logical_date;
  if (auto tries = store_->attempts(event.pipeline, event.run_id, event.task_id); tries.ok()) {
    for (const AttemptRecord& a : *tries)
      if (a.try_number == event.try_number) n.error = a.error;
  }
  notifier_->notify(spec->notifications, n);
}

void Runtime::notify_run(const RunRecord& run) {
  if (run.state != RunState::kFailed && run.state != RunState::kSuccess) return;
  const NotifyEvent what = run.state == RunState::kFailed ? NotifyEvent::kRunFailed : NotifyEvent::kRunSucceeded;
  auto spec = pipeline(run.pipeline);
  if (!spec || !wants(spec->notifications, what)) return;
  notifier_->notify(spec->notifications,
                    Notification{what, run.pipeline, run.run_id, "", 0, run.logical_date, run.note});
}

Status Runtime::start() {
  RunnerMap runners = runners_;
  if (options_.executor == ExecutorMode::kWorkers) {
    if (store_config_.kind != MetadataStoreConfig::Kind::kPostgres)
      return Error(ErrorCode::kUsage, "executor mode workers needs a PostgreSQL metadata store shared with the workers",
                   {}, "set STRATA_METADATA_URL for the scheduler and every `strata worker`, or use --executor local");
    RemoteRunnerOptions remote;
    remote.worker_timeout = options_.worker_timeout;
    remote.queued_timeout = options_.queued_timeout;
    auto runner = std::make_shared<RemoteRunner>(remote);
    for (auto& [kind, local] : runners) local = runner;
  }
  ExecutorOptions eo;
  eo.workers = options_.workers;
  eo.pools = pools_;
  eo.log_root = options_.project_dir + "/.strata/logs";
  eo.project_dir = options_.project_dir;
  SchedulerOptions so;
  so.owner = default_owner();
  so.max_runs = options_.max_runs;
  so.poll_interval = options_.poll_interval >= 0 ? options_.poll_interval
                     : store_config_.kind == MetadataStoreConfig::Kind::kPostgres ? 1'000'000
                                                                                  : 0;
  eo.owner = so.owner;
  eo.masker = options_.masker;
  Logger notifier_logger(options_.masker);
  notifier_logger.add_sink(Logger::file_sink(stderr));
  notifier_ = std::make_unique<Notifier>(options_.masker, notifier_logger);
  eo.on_task_event = [this, forward = options_.on_task_event](const TaskEvent& event) {
    if (forward) forward(event);
    notify_task(event);
  };
  eo.on_run_finished = [this](const RunRecord& run) {
    if (scheduler_) scheduler_->notify();
    notify_run(run);
  };
  eo.on_dataset_event = [this] {
    if (scheduler_) scheduler_->notify();
  };
  auto reload = [this] {
    Logger logger(options_.masker);
    logger.add_sink(Logger::file_sink(stderr));
    const PipelineReload changes = reload_pipelines();
    for (const auto& name : changes.added) logger.info("pipeline {} added (pipelines/ reloaded)", name);
    for (const auto& name : changes.updated) logger.info("pipeline {} updated; runs from now on use the new file", name);
    for (const auto& name : changes.reexpanded)
      logger.info("pipeline {} updated: the dbt project changed what its build tasks expand into", name);
    for (const auto& name : changes.removed) logger.info("pipeline {} removed: its file is gone", name);
    for (const auto& error : changes.errors)
      logger.error("pipelines/ reloaded; this file keeps its previous version, if any: {}", error.to_string());
  };
  executor_ = std::make_unique<Executor>(*store_, std::move(runners), clock_, eo);
  scheduler_ = std::make_unique<Scheduler>(*store_, *executor_, clock_, pipelines(), so);
  scheduler_->set_reloader(std::move(reload), options_.pipeline_reload_interval);
  return ok_status();
}

}  // namespace strata::orchestrate

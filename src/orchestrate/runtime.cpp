#include "orchestrate/runtime.h"

#include <filesystem>

#include "common/yaml.h"
#include "orchestrate/build_expansion.h"
#include "orchestrate/connection_secrets.h"
#include "orchestrate/shell_runner.h"
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

}  // namespace

Result<std::unique_ptr<Runtime>> Runtime::open(const RuntimeOptions& options) {
  std::unique_ptr<Runtime> rt(new Runtime(options));
  // Before anything renders or logs: the connections' passwords are secrets from the start.
  register_connection_secrets(options.project_dir, *options.masker);
  YamlOptions yaml_options;
  yaml_options.masker = options.masker.get();
  rt->databases_ = std::make_unique<Databases>(options.project_dir, options.masker);
  rt->dbt_ = std::make_unique<DbtProjects>(options.project_dir, *rt->databases_, Logger(options.masker));
  STRATA_ASSIGN(auto specs, load_pipelines(options.project_dir, yaml_options));
  STRATA_TRY(rt->expand_pipelines(specs));
  for (auto& spec : specs) rt->pipelines_.push_back(std::make_shared<const PipelineSpec>(std::move(spec)));
  STRATA_ASSIGN(rt->pools_, load_pools(options.project_dir, yaml_options));
  STRATA_ASSIGN(rt->store_, SqliteStore::open(options.project_dir + "/.strata/strata.db"));
  Databases* databases = rt->databases_.get();
  rt->runners_[TaskKind::kShell] = std::make_shared<ShellRunner>();
  rt->runners_[TaskKind::kSql] = std::make_shared<SqlRunner>(
      [databases](const std::string& target) -> Result<warehouse::Database*> {
        STRATA_ASSIGN(ResolvedTarget resolved, databases->target(target));
        if (resolved.database == nullptr)
          return Error(ErrorCode::kInternal, "target '" + target + "' is not a DuckDB target");
        return resolved.database;
      },
      [databases](const std::string& target) -> Result<std::optional<std::string>> {
        STRATA_ASSIGN(ResolvedTarget resolved, databases->target(target));
        if (resolved.postgres_conninfo.empty()) return std::optional<std::string>();
        return std::optional<std::string>(resolved.postgres_conninfo);
      },
      options.masker);
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
  runners_.clear();
  dbt_.reset();
  databases_.reset();
}

const PipelineSpec* Runtime::pipeline(const std::string& name) const {
  for (const auto& p : pipelines_)
    if (p->name == name) return p.get();
  return nullptr;
}

Status Runtime::start() {
  ExecutorOptions eo;
  eo.workers = options_.workers;
  eo.pools = pools_;
  eo.log_root = options_.project_dir + "/.strata/logs";
  eo.project_dir = options_.project_dir;
  SchedulerOptions so;
  so.owner = default_owner();
  eo.owner = so.owner;
  eo.masker = options_.masker;
  eo.on_task_event = options_.on_task_event;
  eo.on_run_finished = [this](const RunRecord&) {
    if (scheduler_) scheduler_->notify();
  };
  executor_ = std::make_unique<Executor>(*store_, runners_, clock_, eo);
  scheduler_ = std::make_unique<Scheduler>(*store_, *executor_, clock_, pipelines_, so);
  return ok_status();
}

}  // namespace strata::orchestrate

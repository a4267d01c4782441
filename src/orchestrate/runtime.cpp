#include "orchestrate/runtime.h"

#include <filesystem>

#include "common/yaml.h"
#include "orchestrate/shell_runner.h"
#include "orchestrate/sql_runner.h"

namespace strata::orchestrate {
namespace {

Result<std::map<std::string, int>> load_pools(const std::string& project_dir, const YamlOptions& yaml_options) {
  std::map<std::string, int> pools;
  const std::string path = project_dir + "/pools.yml";
  if (!std::filesystem::exists(path)) return pools;
  STRATA_ASSIGN(YamlDocument doc, load_yaml_file(path, yaml_options));
  const YAML::Node node = doc.root["pools"];
  if (!node || !node.IsMap())
    return doc.error(doc.root, "pools.yml needs a mapping `pools:` of pool names to slots", "pools: {warehouse: 4}");
  for (const auto& kv : node) {
    STRATA_ASSIGN(long long slots, yaml_int(doc, kv.second, "slots"));
    if (slots < 1) return doc.error(kv.second, "a pool needs at least 1 slot", "e.g. warehouse: 4");
    pools[kv.first.Scalar()] = static_cast<int>(slots);
  }
  return pools;
}

}  // namespace

Result<std::unique_ptr<Runtime>> Runtime::open(const RuntimeOptions& options) {
  std::unique_ptr<Runtime> rt(new Runtime(options));
  YamlOptions yaml_options;
  yaml_options.masker = options.masker.get();
  STRATA_ASSIGN(auto specs, load_pipelines(options.project_dir, yaml_options));
  for (auto& spec : specs) rt->pipelines_.push_back(std::make_shared<const PipelineSpec>(std::move(spec)));
  STRATA_ASSIGN(rt->pools_, load_pools(options.project_dir, yaml_options));
  STRATA_ASSIGN(rt->store_, SqliteStore::open(options.project_dir + "/.strata/strata.db"));
  rt->runners_[TaskKind::kShell] = std::make_shared<ShellRunner>();
  Runtime* raw = rt.get();
  rt->runners_[TaskKind::kSql] =
      std::make_shared<SqlRunner>([raw](const std::string& target) { return raw->database(target); });
  return rt;
}

Runtime::~Runtime() {
  scheduler_.reset();
  if (executor_) executor_->shutdown();
  executor_.reset();
  databases_.clear();
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

// The warehouse of a profiles.yml target (DuckDB only for now; PostgreSQL targets come with the
// warehouse module's adapter). Empty target = the profile's `target:`.
Result<warehouse::Database*> Runtime::database(const std::string& target) {
  std::lock_guard lock(databases_mutex_);
  if (auto it = databases_.find(target); it != databases_.end()) return it->second.get();
  YamlOptions yaml_options;
  yaml_options.masker = options_.masker.get();
  const std::string path = options_.project_dir + "/profiles.yml";
  std::string db_path = options_.project_dir + "/.strata/warehouse.duckdb";
  if (std::filesystem::exists(path)) {
    STRATA_ASSIGN(YamlDocument doc, load_yaml_file(path, yaml_options));
    for (const auto& profile : doc.root) {
      const YAML::Node outputs = profile.second["outputs"];
      if (!outputs) continue;
      std::string name = target;
      if (name.empty() && profile.second["target"]) name = profile.second["target"].Scalar();
      const YAML::Node output = outputs[name];
      if (!output)
        return Error(ErrorCode::kConfig, "profiles.yml has no target '" + name + "'", doc.where(outputs),
                     "add it under outputs: or set `target:` on the task");
      const std::string type = output["type"] ? output["type"].Scalar() : "";
      if (type != "duckdb")
        return Error(ErrorCode::kConfig, "sql tasks on '" + type + "' targets are not supported yet",
                     doc.where(output), "use a duckdb target");
      if (output["path"]) {
        db_path = output["path"].Scalar();
        if (!db_path.empty() && db_path[0] != '/' && db_path != ":memory:")
          db_path = options_.project_dir + "/" + db_path;
      }
      break;
    }
  }
  STRATA_ASSIGN(auto db, warehouse::open_duckdb(db_path));
  auto* raw = db.get();
  databases_[target] = std::move(db);
  return raw;
}

}  // namespace strata::orchestrate

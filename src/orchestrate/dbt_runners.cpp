#include "orchestrate/dbt_runners.h"

#include <ostream>
#include <set>
#include <sstream>

#include "common/time.h"
#include "orchestrate/cancellable_database.h"
#include "orchestrate/task_template.h"
#include "transform/project_files.h"
#include "transform/runner.h"

namespace strata::orchestrate {

namespace {

constexpr size_t kCachedRuns = 4;

using transform::LoadedProject;
using transform::ResourceType;
using transform::RunCommand;

// An ostream buffer that hands every flushed piece of text to the task log (streamed live).
class LogBuffer final : public std::stringbuf {
 public:
  explicit LogBuffer(TaskLog& log) : log_(log) {}
  ~LogBuffer() override { flush_to_log(); }

 protected:
  int sync() override {
    flush_to_log();
    return 0;
  }

 private:
  void flush_to_log() {
    std::string text = str();
    if (text.empty()) return;
    log_.write(text);
    str("");
  }
  TaskLog& log_;
};

Result<size_t> node_index(const LoadedProject& project, const std::string& unique_id, const TaskSpec& task) {
  if (auto i = project.graph().find(unique_id)) return *i;
  return Error(ErrorCode::kConfig, "the dbt project has no node '" + unique_id + "' any more", task.where,
               "the project changed since the pipeline was loaded; restart strata serve or run the pipeline again");
}

// The graph nodes a task runs, and how.
Result<std::vector<size_t>> task_nodes(const LoadedProject& project, const TaskSpec& task, const std::string& selector) {
  std::vector<size_t> nodes;
  if (task.kind == TaskKind::kBuild && !task.dbt_node.empty()) {
    STRATA_ASSIGN(size_t i, node_index(project, task.dbt_node, task));
    nodes.push_back(i);
    return nodes;
  }
  if (task.kind == TaskKind::kTest && !task.dbt_node.empty()) {
    for (const auto& id : task.dbt_tests) {
      STRATA_ASSIGN(size_t i, node_index(project, id, task));
      nodes.push_back(i);
    }
    return nodes;
  }
  std::vector<ResourceType> types;
  if (task.kind == TaskKind::kTest) types = {ResourceType::kTest};
  if (task.kind == TaskKind::kFreshness) types = {ResourceType::kSource};
  auto selected = project.select(selector, types, task.kind != TaskKind::kFreshness);
  if (!selected.ok()) return Error(ErrorCode::kConfig, selected.error().message(), task.where, selected.error().hint());
  return std::move(selected).value();
}

std::string first_failure(const transform::RunSummary& summary) {
  for (const auto& r : summary.results)
    if (r.status == "error" || r.status == "fail" || r.status == "partial success")
      return r.unique_id + ": " + (r.message.empty() ? r.status : r.message);
  return "a node failed";
}

Result<TaskOutcome> run_freshness(TaskContext& ctx, const LoadedProject& project, const std::vector<size_t>& sources,
                                  warehouse::Database& db) {
  STRATA_ASSIGN(auto results, project.freshness(sources, db, now_micros()));
  int errors = 0;
  for (const auto& r : results) {
    std::string message = r.status == "runtime error"
                              ? r.message
                              : "max loaded at " + r.max_loaded_at + ", " + std::to_string(r.age_seconds) + " s ago";
    ctx.log.line("freshness of " + r.unique_id + ": " + r.status + " (" + message + ")");
    TestResultRecord record{ctx.run.run_id, ctx.task.id, r.unique_id, r.status, message, 0, now_micros(),
                            ctx.run.pipeline};
    STRATA_TRY(ctx.store.add_test_result(record));
    if (r.status == "error" || r.status == "runtime error") ++errors;
  }
  ctx.log.line(std::to_string(results.size()) + " source(s) checked");
  if (errors > 0)
    return Error(ErrorCode::kFailed, std::to_string(errors) + " of " + std::to_string(results.size()) +
                                         " sources are stale or could not be checked");
  return TaskOutcome::kSuccess;
}

}  // namespace

nlohmann::json run_dbt_vars(const RunRecord& run, const nlohmann::json& pipeline_params) {
  TemplateContext context = run_template_context(run, pipeline_params);
  nlohmann::json vars = nlohmann::json::object();
  for (const auto& [name, value] : context.vars) vars[name] = value;
  vars["params"] = context.params;
  return vars;
}

DbtProjects::DbtProjects(std::string project_dir, Databases& databases, Logger logger, EnvLookup env)
    : project_dir_(std::move(project_dir)), databases_(databases), logger_(std::move(logger)),
      env_(env ? env : process_env()) {}

Result<std::unique_ptr<LoadedProject>> DbtProjects::load(const nlohmann::json& vars) const {
  transform::ProjectLoadOptions options;
  options.project_dir = project_dir_;
  options.vars = transform::Json::parse(vars.dump());
  options.env = env_;
  options.logger = logger_;
  return LoadedProject::load(options);
}

uint64_t DbtProjects::stamp() const { return transform::project_stamp(project_dir_, env_); }

Result<warehouse::Database*> DbtProjects::database(const LoadedProject& project) {
  const auto& target = project.target();
  switch (target.type) {
    case warehouse::TargetType::kDuckDb: return databases_.duckdb_at(target.duckdb_path());
    case warehouse::TargetType::kPostgres: return databases_.postgres_at(target);
    case warehouse::TargetType::kBigQuery: return databases_.bigquery_at(target);
  }
  return Error(ErrorCode::kConfig, "build tasks on " + target.type_name + " targets are not supported",
               target.where, "use a duckdb, postgres or bigquery target for the dbt profile");
}

Result<std::shared_ptr<const LoadedProject>> DbtProjects::for_run(const RunRecord& run,
                                                                   const nlohmann::json& pipeline_params) {
  std::lock_guard lock(mutex_);
  for (auto it = cache_.begin(); it != cache_.end(); ++it)
    if (it->first == std::make_pair(run.pipeline, run.run_id)) return it->second;
  STRATA_ASSIGN(std::unique_ptr<LoadedProject> loaded, load(run_dbt_vars(run, pipeline_params)));
  std::shared_ptr<const LoadedProject> project = std::move(loaded);
  // Create the schemas up front (those of the tests storing their failures too): concurrent
  // `create schema` of one schema can conflict in DuckDB.
  STRATA_ASSIGN(warehouse::Database * db, database(*project));
  STRATA_ASSIGN(auto session, db->connect());
  std::set<std::string> schemas;
  for (size_t i = 0; i < project->graph().size(); ++i) {
    const auto& n = project->graph().node(i);
    const bool built = n.resource_type == ResourceType::kModel || n.resource_type == ResourceType::kSeed ||
                       n.resource_type == ResourceType::kSnapshot;
    // A test task runs with LoadedProject::run's options: store_failures only from its config.
    const bool stores = n.is_test() && transform::stores_failures(n, transform::RunOptions{});
    if (((built && n.materialized() != "ephemeral") || stores) && !n.schema.empty()) schemas.insert(n.schema);
  }
  for (const auto& schema : schemas)
    STRATA_TRY(session->execute("create schema if not exists " + session->dialect().quote_identifier(schema)));
  cache_.emplace_front(std::make_pair(run.pipeline, run.run_id), project);
  if (cache_.size() > kCachedRuns) cache_.pop_back();
  return project;
}

Result<TaskOutcome> DbtRunner::run(TaskContext& ctx) {
  STRATA_ASSIGN(auto project, projects_.for_run(ctx.run, ctx.pipeline.params));
  STRATA_ASSIGN(warehouse::Database * db, projects_.database(*project));
  CancellableDatabase cancellable(*db, ctx.cancel);
  STRATA_ASSIGN(std::vector<size_t> nodes, task_nodes(*project, ctx.task, ctx.command));
  if (ctx.task.kind == TaskKind::kFreshness) return run_freshness(ctx, *project, nodes, cancellable);
  const RunCommand command = ctx.task.kind == TaskKind::kTest ? RunCommand::kTest : RunCommand::kBuild;
  transform::RunSummary summary;
  {
    LogBuffer buffer(ctx.log);
    std::ostream out(&buffer);
    auto result = project->run(nodes, command, cancellable, out);
    out.flush();
    if (!result.ok()) {
      if (ctx.cancel.cancelled()) return Error(ErrorCode::kCancelled, "stopped: " + ctx.cancel.reason());
      return result.error();
    }
    summary = std::move(result).value();
  }
  for (const auto& r : summary.results) {
    auto i = project->graph().find(r.unique_id);
    if (!i || !project->graph().node(*i).is_test()) continue;
    TestResultRecord record{ctx.run.run_id, ctx.task.id, r.unique_id, r.status, r.message,
                            std::max<long long>(0, r.failures), now_micros(), ctx.run.pipeline};
    STRATA_TRY(ctx.store.add_test_result(record));
  }
  if (ctx.cancel.cancelled()) return Error(ErrorCode::kCancelled, "stopped: " + ctx.cancel.reason());
  if (summary.failed()) return Error(ErrorCode::kFailed, first_failure(summary));
  return TaskOutcome::kSuccess;
}

}  // namespace strata::orchestrate

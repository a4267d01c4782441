#include "transform/node_api.h"

#include <filesystem>
#include <ostream>

#include "common/strings.h"
#include "common/time.h"
#include "transform/parser.h"
#include "transform/project.h"
#include "transform/relations.h"
#include "transform/selection.h"

namespace strata::transform {

namespace {

// A dbt freshness criterion ({count, period}) in microseconds; -1 when not set.
int64_t criterion_micros(const Json& spec) {
  if (!spec.is_object() || !spec.contains("count") || !spec["count"].is_number()) return -1;
  const std::string period = spec.value("period", std::string("hour"));
  const int64_t unit = period == "minute" ? 60 : period == "day" ? 86400 : 3600;
  return spec["count"].get<int64_t>() * unit * 1'000'000;
}

}  // namespace

LoadedProject::~LoadedProject() = default;

Result<std::unique_ptr<LoadedProject>> LoadedProject::load(const ProjectLoadOptions& o) {
  EnvLookup env = o.env ? o.env : process_env();
  STRATA_ASSIGN(ProjectConfig project, load_project(o.project_dir, env));
  std::unique_ptr<LoadedProject> self(new LoadedProject());
  self->target_dir_ = transform::target_dir(project);
  warehouse::ProfileOptions popts;
  popts.project_dir = project.root;
  popts.profiles_dir = o.profiles_dir;
  popts.profile_name = project.profile;
  popts.target = o.target;
  popts.env = env;
  popts.masker = o.logger.masker().get();
  STRATA_ASSIGN(self->target_, warehouse::load_target(popts));
  const warehouse::TargetConfig& t = self->target_;
  TargetInfo target;
  target.name = t.name;
  target.type = t.type_name;
  target.profile_name = t.profile;
  target.schema = t.schema.empty() ? "main" : t.schema;
  target.threads = 1;
  if (t.type == warehouse::TargetType::kDuckDb) {
    const std::string path = t.duckdb_path();
    target.database = path == ":memory:" || path.empty() ? "memory" : std::filesystem::path(path).stem().string();
  } else {
    target.database = t.type == warehouse::TargetType::kBigQuery ? t.project : t.dbname;
  }
  STRATA_ASSIGN(ParsedProject parsed, parse_project(std::move(project), env));
  STRATA_ASSIGN(self->graph_, Graph::build(std::move(parsed)));
  self->run_started_at_ = format_iso8601(now_micros());
  const std::string invocation_id = md5_hex(self->run_started_at_ + o.project_dir).substr(0, 32);
  CompilerOptions copts{target, o.vars, env, invocation_id, self->run_started_at_, o.logger, Json::object(), false};
  STRATA_ASSIGN(self->compiler_, Compiler::create(self->graph_, copts));
  STRATA_TRY(self->compiler_->parse_render(self->graph_));
  for (const auto& w : self->graph_.project().warnings) o.logger.warn("{}", w);
  const sql::Dialect& dialect = target.type == "postgres" ? sql::postgres_dialect() : sql::duckdb_dialect();
  STRATA_TRY(resolve_relations(self->graph_, target, dialect, self->compiler_->name_macro()));
  return self;
}

Result<std::vector<size_t>> LoadedProject::select(const std::string& selector, const std::vector<ResourceType>& types,
                                                  bool indirect_tests) const {
  SelectionRequest request;
  if (!trim(selector).empty()) request.select.push_back(selector);
  request.resource_types = types;
  request.indirect = indirect_tests ? IndirectSelection::kEager : IndirectSelection::kEmpty;
  return select_nodes(graph_, request);
}

std::vector<size_t> LoadedProject::tests_of(size_t i) const {
  std::vector<size_t> out;
  for (size_t c : graph_.children(i))
    if (graph_.node(c).is_test()) out.push_back(c);
  return out;
}

Result<RunSummary> LoadedProject::run(const std::vector<size_t>& nodes, RunCommand command,
                                      warehouse::Database& database, std::ostream& out) const {
  RunOptions options;
  options.command = command;
  options.threads = 1;
  options.target_dir = target_dir_;
  options.run_started_at = run_started_at_;
  return run_nodes(graph_, *compiler_, database, nodes, options, out);
}

Result<std::vector<FreshnessResult>> LoadedProject::freshness(const std::vector<size_t>& sources,
                                                              warehouse::Database& database, int64_t now) const {
  STRATA_ASSIGN(auto session, database.connect());
  std::vector<FreshnessResult> results;
  for (size_t i : sources) {
    const Node& n = graph_.node(i);
    if (n.resource_type != ResourceType::kSource || n.freshness.is_null() || n.loaded_at_field.empty()) continue;
    FreshnessResult r;
    r.unique_id = n.unique_id;
    auto q = session->query("select cast(max(" + n.loaded_at_field + ") as varchar) from " + n.relation_name);
    if (!q.ok() || q->num_rows() == 0 || q->is_null(0, 0)) {
      r.status = "runtime error";
      r.message = q.ok() ? "the source has no rows" : q.error().message();
      results.push_back(std::move(r));
      continue;
    }
    r.max_loaded_at = q->cell_text(0, 0);
    std::string iso = r.max_loaded_at;
    if (iso.size() > 10) iso[10] = 'T';
    auto loaded = parse_iso8601(iso);
    if (!loaded) {
      r.status = "runtime error";
      r.message = "cannot read '" + r.max_loaded_at + "' as a timestamp";
      results.push_back(std::move(r));
      continue;
    }
    const int64_t age = now - *loaded;
    r.age_seconds = static_cast<double>(age) / 1e6;
    const int64_t warn = criterion_micros(n.freshness.value("warn_after", Json()));
    const int64_t error = criterion_micros(n.freshness.value("error_after", Json()));
    r.status = error >= 0 && age > error ? "error" : warn >= 0 && age > warn ? "warn" : "pass";
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace strata::transform

#include "transform/invocation.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fmt/format.h>
#include <ostream>
#include <random>
#include <set>


#include "common/strings.h"
#include "common/time.h"
#include "transform/artifacts.h"
#include "transform/compiler.h"
#include "transform/packages.h"
#include "transform/parser.h"
#include "transform/project.h"
#include "transform/runner.h"
#include "transform/selection.h"
#include "warehouse/profile.h"

namespace strata::transform {

namespace fs = std::filesystem;

namespace {

std::string new_invocation_id() {
  std::random_device rd;
  std::mt19937_64 rng(rd());
  std::string hex = md5_hex(std::to_string(rng()) + std::to_string(now_micros()));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-4" + hex.substr(13, 3) + "-a" + hex.substr(17, 3) + "-" +
         hex.substr(20, 12);
}

// A flag's YAML/JSON mapping (--vars, run-operation's --args).
Result<Json> parse_mapping(const std::string& text, const std::string& flag) {
  if (trim(text).empty()) return Json::object();
  YamlOptions options;
  options.substitute_env = false;
  auto doc = load_yaml_string(text, flag, options);
  if (!doc.ok())
    return Error(ErrorCode::kUsage, flag + " is not valid YAML/JSON: " + doc.error().message(), {},
                 "e.g. " + flag + " '{\"key\": \"value\"}'");
  Json j = yaml_to_json(doc->root);
  if (!j.is_object())
    return Error(ErrorCode::kUsage, flag + " must be a YAML or JSON mapping", {}, "e.g. " + flag + " '{key: value}'");
  return j;
}

RunCommand run_command(const std::string& c) {
  if (c == "run") return RunCommand::kRun;
  if (c == "test") return RunCommand::kTest;
  if (c == "seed") return RunCommand::kSeed;
  if (c == "snapshot") return RunCommand::kSnapshot;
  if (c == "compile") return RunCommand::kCompile;
  return RunCommand::kBuild;
}

std::vector<ResourceType> types_for(const std::string& c) {
  if (c == "run") return {ResourceType::kModel};
  if (c == "test") return {ResourceType::kTest};
  if (c == "seed") return {ResourceType::kSeed};
  if (c == "snapshot") return {ResourceType::kSnapshot};
  if (c == "freshness") return {ResourceType::kSource};
  if (c == "show") return {ResourceType::kModel, ResourceType::kAnalysis, ResourceType::kTest, ResourceType::kSnapshot};
  return {};
}

Status source_freshness(const Graph& g, const std::vector<size_t>& selected, warehouse::Database& db,
                        const InvocationInfo& info, const std::string& target_dir, std::ostream& out, int& failures) {
  STRATA_ASSIGN(auto wh, db.connect());
  Json results = Json::array();
  int64_t now = now_micros();
  auto period_micros = [](const Json& spec) -> int64_t {
    if (!spec.is_object() || !spec.contains("count") || !spec["count"].is_number()) return -1;
    std::string p = spec.value("period", std::string("hour"));
    int64_t unit = p == "minute" ? 60 : p == "day" ? 86400 : 3600;
    return spec["count"].get<int64_t>() * unit * 1000000;
  };
  for (size_t i : selected) {
    const Node& n = g.node(i);
    if (n.resource_type != ResourceType::kSource || n.freshness.is_null() || n.loaded_at_field.empty()) continue;
    std::string sql = "select cast(max(" + n.loaded_at_field + ") as varchar) from " + n.relation_name;
    auto r = wh->query(sql);
    Json item{{"unique_id", n.unique_id}};
    std::string status;
    if (!r.ok() || r->num_rows() == 0 || r->is_null(0, 0)) {
      status = "runtime error";
      item["error"] = r.ok() ? "no rows" : r.error().message();
    } else {
      std::string text = r->cell_text(0, 0);
      std::string iso = text;
      if (iso.size() > 10) iso[10] = 'T';
      auto loaded = parse_iso8601(iso);
      double age = loaded ? static_cast<double>(now - *loaded) / 1e6 : 0;
      int64_t warn = period_micros(n.freshness.value("warn_after", Json()));
      int64_t err = period_micros(n.freshness.value("error_after", Json()));
      status = (err >= 0 && age * 1e6 > static_cast<double>(err)) ? "error"
               : (warn >= 0 && age * 1e6 > static_cast<double>(warn)) ? "warn"
                                                                      : "pass";
      item["max_loaded_at"] = text;
      item["snapshotted_at"] = format_iso8601(now);
      item["max_loaded_at_time_ago_in_s"] = age;
      item["criteria"] = n.freshness;
    }
    item["status"] = status;
    if (status == "error" || status == "runtime error") ++failures;  // warn exits 0, as in dbt
    out << fmt::format("{} freshness of {}.{} [{}]\n", status == "pass" ? "PASS" : to_upper(status), n.source_name,
                       n.name, to_upper(status));
    results.push_back(item);
  }
  Json doc{{"metadata", {{"dbt_schema_version", "https://schemas.getdbt.com/dbt/sources/v3.json"},
                         {"generated_at", info.generated_at},
                         {"invocation_id", info.invocation_id}}},
           {"results", results},
           {"elapsed_time", static_cast<double>(now_micros() - now) / 1e6}};
  return write_artifact(target_dir, "sources.json", doc);
}

// catalog.json: every built relation's columns as the warehouse reports them (none when `empty`).
Status docs_generate(const Graph& g, warehouse::Database& db, const InvocationInfo& info,
                     const std::string& target_dir, bool empty) {
  STRATA_ASSIGN(auto wh, db.connect());
  Json nodes = object_with_capacity(g.size()), sources = object_with_capacity(g.size());
  for (size_t i = 0; !empty && i < g.size(); ++i) {
    const Node& n = g.node(i);
    if (n.is_test() || n.resource_type == ResourceType::kAnalysis || n.materialized() == "ephemeral") continue;
    std::string name = n.resource_type == ResourceType::kSource ? n.identifier : n.alias;
    auto cols = wh->columns({"", n.schema, name});
    if (!cols.ok() || cols->empty()) continue;
    Json columns = Json::object();
    int index = 1;
    for (const auto& c : *cols)
      columns[c.name] = Json{{"type", c.native_type}, {"index", index++}, {"name", c.name}, {"comment", nullptr}};
    Json entry{{"metadata", {{"type", n.materialized() == "view" ? "VIEW" : "BASE TABLE"},
                             {"schema", n.schema},
                             {"name", name},
                             {"database", n.database},
                             {"comment", nullptr},
                             {"owner", nullptr}}},
               {"columns", columns},
               {"stats", {{"has_stats", {{"id", "has_stats"}, {"label", "Has Stats?"}, {"value", false},
                                         {"include", false}, {"description", ""}}}}},
               {"unique_id", n.unique_id}};
    append_member(n.resource_type == ResourceType::kSource ? sources : nodes, n.unique_id, std::move(entry));
  }
  Json doc{{"metadata", {{"dbt_schema_version", "https://schemas.getdbt.com/dbt/catalog/v1.json"},
                         {"dbt_version", kDbtVersion},
                         {"generated_at", info.generated_at},
                         {"invocation_id", info.invocation_id},
                         {"env", Json::object()}}},
           {"nodes", nodes},
           {"sources", sources},
           {"errors", nullptr}};
  return write_artifact(target_dir, "catalog.json", doc);
}

// Configs Strata accepts but does not act on: persist_docs (relation/column comments).
void warn_ignored_configs(const Graph& g, const Logger& logger) {
  for (size_t i = 0; i < g.size(); ++i) {
    const Json& pd = g.node(i).config.value("persist_docs", Json::object());
    if (!pd.is_object()) continue;
    for (auto it = pd.begin(); it != pd.end(); ++it)
      if (it.value() == true) {
        logger.warn("{}: persist_docs is ignored by Strata ({} comments are not written)", g.node(i).unique_id,
                    it.key());
        break;
      }
  }
}

// One line of `ls --output json`: the manifest entry cut to `keys` (dbt's --output-keys, given
// as several words or one space/comma-separated word) or, by default, to the keys dbt prints —
// the ones tools such as Cosmos read (depends_on, config, tags).
Json ls_json(const Graph& graph, size_t i, const std::vector<std::string>& keys) {
  std::vector<std::string> wanted;
  for (const auto& k : keys)
    for (const auto& word : split(replace_all(k, ",", " "), ' '))
      if (!trim(word).empty()) wanted.emplace_back(trim(word));
  if (wanted.empty())
    wanted = {"alias",       "name", "package_name", "depends_on", "tags", "config", "resource_type", "source_name",
              "original_file_path", "unique_id"};
  Json full = manifest_node_json(graph, i);
  Json out = Json::object();
  for (auto it = full.begin(); it != full.end(); ++it)
    if (std::find(wanted.begin(), wanted.end(), it.key()) != wanted.end()) out[it.key()] = it.value();
  return out;
}

// `run-operation MACRO --args '{...}'`: calls a project macro with execute=True on one session.
// What the macro runs through run_query()/statement() takes effect; its rendered text is not run,
// as in dbt. A failing macro makes exit code 1.
Result<int> run_operation(Compiler& compiler, warehouse::Database& database, const InvocationOptions& o,
                          std::ostream& out) {
  const std::string& name = o.operation;
  auto is_identifier = [](std::string_view part) {
    return !part.empty() && !std::isdigit(static_cast<unsigned char>(part[0])) &&
           std::all_of(part.begin(), part.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
  };
  const size_t dot = name.find('.');
  const bool identifier = dot == std::string::npos
                              ? is_identifier(name)
                              : is_identifier(std::string_view(name).substr(0, dot)) &&
                                    is_identifier(std::string_view(name).substr(dot + 1));
  if (!identifier)
    return Error(ErrorCode::kUsage, "run-operation needs a macro name, got '" + name + "'", {},
                 "e.g. strata run-operation grant_select --args '{role: reporter}'");
  STRATA_ASSIGN(Json args, parse_mapping(o.operation_args, "--args"));
  const std::optional<std::string> call = compiler.macro_call(name);
  if (!call)
    return Error(ErrorCode::kUsage, "no macro named '" + name + "' in the project or its packages", {},
                 "define it with {% macro " + name.substr(dot == std::string::npos ? 0 : dot + 1) +
                     "(...) %} in a file under macro-paths, or give it as package.macro");
  STRATA_ASSIGN(auto session, database.connect());
  Json variables{{"__strata_operation_args", args}};
  RenderOptions ro;
  ro.warehouse = session.get();
  ro.variables = &variables;
  auto rendered =
      compiler.render("{{ " + *call + "(**__strata_operation_args) }}", static_cast<size_t>(-1), ro, "<run-operation>");
  if (!rendered.ok()) {
    out << "Encountered an error while running operation: " << rendered.error().to_string() << "\n";
    return 1;
  }
  return 0;
}

// dbt names each --select criterion that matches nothing (a typo runs nothing, silently, otherwise).
void warn_unmatched_criteria(const Graph& graph, const std::vector<std::string>& select, const Logger& logger) {
  for (const auto& item : select)
    for (const auto& term : split(item, ' ')) {
      if (trim(term).empty()) continue;
      auto mask = evaluate_selection(graph, std::string(trim(term)));
      if (mask.ok() && std::none_of(mask->begin(), mask->end(), [](bool b) { return b; }))
        logger.warn("The selection criterion '{}' does not match any enabled nodes", trim(term));
    }
}

// Rows as dbt's show prints them: a markdown-like table, one column per result column.
void print_preview(const warehouse::QueryResult& r, std::ostream& out) {
  std::vector<size_t> width;
  for (const auto& f : r.schema) width.push_back(f.name.size());
  for (size_t row = 0; row < r.num_rows(); ++row)
    for (size_t c = 0; c < r.schema.size(); ++c) width[c] = std::max(width[c], r.cell_text(row, c).size());
  auto line = [&](auto cell) {
    out << "|";
    for (size_t c = 0; c < r.schema.size(); ++c) {
      std::string text = cell(c);
      out << " " << text << std::string(width[c] - text.size(), ' ') << " |";
    }
    out << "\n";
  };
  line([&](size_t c) { return r.schema[c].name; });
  line([&](size_t c) { return std::string(width[c], '-'); });
  for (size_t row = 0; row < r.num_rows(); ++row) line([&](size_t c) { return r.cell_text(row, c); });
}

// `show`: runs a node's compiled SQL (or --inline SQL) and prints its first --limit rows; nothing
// is built, as in dbt.
Result<int> show(Compiler& compiler, warehouse::Database& database, const std::vector<size_t>& selected,
                 const InvocationOptions& o, std::ostream& out) {
  if (o.inline_sql.empty() && selected.empty())
    return Error(ErrorCode::kUsage, "show needs --select NODE or --inline SQL", {},
                 "e.g. strata show --select orders --limit 10");
  STRATA_ASSIGN(auto session, database.connect());
  RenderOptions ro;
  ro.warehouse = session.get();
  auto preview = [&](const std::string& sql, const std::string& title) -> Status {
    std::string query = "select * from (\n" + sql + "\n) dbt_show";
    if (o.limit >= 0) query += " limit " + std::to_string(o.limit);
    STRATA_ASSIGN(auto result, session->query(query));
    out << title << ":\n";
    print_preview(result, out);
    return ok_status();
  };
  if (!o.inline_sql.empty()) {
    STRATA_ASSIGN(std::string sql, compiler.render(o.inline_sql, static_cast<size_t>(-1), ro, "<inline>"));
    STRATA_TRY(preview(sql, "Previewing inline node"));
    return 0;
  }
  for (size_t i : selected) {
    STRATA_ASSIGN(std::string sql, compiler.compile(i, ro));
    STRATA_TRY(preview(sql, "Previewing node '" + compiler.graph().node(i).name + "'"));
  }
  return 0;
}

// The artifacts --state and --defer-state name (or DBT_STATE / DBT_DEFER_STATE): `compare` for the
// state: and result: methods, `defer` for --defer (the --defer-state folder, else --state's).
struct States {
  std::optional<PreviousState> compare, defer_only;
  bool defer = false, favor_state = false;
  const PreviousState* defer_to() const {
    if (!defer) return nullptr;
    return defer_only ? &*defer_only : compare ? &*compare : nullptr;
  }
};

Result<States> load_states(const InvocationOptions& o, const EnvLookup& env) {
  auto setting = [&](const std::string& flag, const char* name) {
    if (!flag.empty()) return flag;
    auto v = env(name);
    return v ? *v : std::string();
  };
  auto enabled = [&](bool flag, const char* name) {
    if (flag) return true;
    auto v = env(name);
    return v && (to_lower(*v) == "true" || *v == "1");
  };
  States states;
  states.defer = enabled(o.defer, "DBT_DEFER");
  states.favor_state = enabled(o.favor_state, "DBT_FAVOR_STATE");
  const std::string state_dir = setting(o.state_dir, "DBT_STATE");
  const std::string defer_dir = setting(o.defer_state_dir, "DBT_DEFER_STATE");
  if (!state_dir.empty()) {
    STRATA_ASSIGN(states.compare, PreviousState::load(state_dir));
  }
  if (!defer_dir.empty()) {
    STRATA_ASSIGN(states.defer_only, PreviousState::load(defer_dir));
  }
  if (states.defer && !states.defer_to())
    return Error(ErrorCode::kUsage, "--defer needs the artifacts to defer to", {},
                 "add --state DIR (or --defer-state DIR): the target folder of a production run");
  return states;
}

// --indirect-selection, else DBT_INDIRECT_SELECTION, else eager; show previews the nodes named,
// never their tests. Errors (kUsage): an unknown mode.
Result<IndirectSelection> indirect_selection(const InvocationOptions& o, const EnvLookup& env) {
  if (o.command == "show") return IndirectSelection::kEmpty;
  std::string mode = o.indirect_selection;
  if (mode.empty()) {
    auto v = env("DBT_INDIRECT_SELECTION");
    mode = v ? to_lower(*v) : "eager";
  }
  auto parsed = parse_indirect_selection(mode);
  if (!parsed) {
    return Error(ErrorCode::kUsage, "unknown indirect selection '" + mode + "'", {},
                 "use eager (the default), cautious, buildable or empty");
  }
  return *parsed;
}

// The flags of `o` as run_results.json's `args` (dbt's keys), which `retry` reads back.
Json invocation_args(const InvocationOptions& o, const Json& cli_vars, int threads) {
  auto strings = [](const std::vector<std::string>& v) {
    Json a = Json::array();
    for (const auto& s : v) a.push_back(s);
    return a;
  };
  return Json{{"which", o.command},         {"select", strings(o.select)},   {"exclude", strings(o.exclude)},
              {"selector", o.selector},     {"full_refresh", o.full_refresh}, {"fail_fast", o.fail_fast},
              {"indirect_selection", o.indirect_selection.empty() ? std::string("eager") : o.indirect_selection},
              {"store_failures", o.store_failures}, {"warn_error", o.warn_error}, {"empty", o.empty},
              {"vars", cli_vars},           {"target", o.target},             {"threads", threads},
              {"event_time_start", o.event_time_start.empty() ? Json(nullptr) : Json(o.event_time_start)},
              {"event_time_end", o.event_time_end.empty() ? Json(nullptr) : Json(o.event_time_end)},
              {"state", o.state_dir.empty() ? Json(nullptr) : Json(o.state_dir)},
              {"defer_state", o.defer_state_dir.empty() ? Json(nullptr) : Json(o.defer_state_dir)},
              {"defer", o.defer},
              {"favor_state", o.favor_state}};
}

Result<int> retry(const InvocationOptions& o, const ProjectConfig& project, std::ostream& out) {
  const std::string path = target_dir(project) + "/run_results.json";
  std::string text;
  if (!read_file(path, text))
    return Error(ErrorCode::kUsage, "Could not find previous run in '" + project.target_path + "' target directory",
                 {}, "run build, run, test, seed, snapshot or compile first; retry repeats its failed nodes");
  const Json previous = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  const Json args = previous.is_object() ? previous.value("args", Json::object()) : Json();
  const std::string which = args.is_object() ? args.value("which", std::string()) : std::string();
  static const std::set<std::string> kRepeatable = {"build", "run", "test", "seed", "snapshot", "compile"};
  if (!kRepeatable.count(which))
    return Error(ErrorCode::kUsage,
                 which.empty() ? path + " does not say which command ran"
                               : "the previous run was `" + which + "`, which retry does not repeat",
                 {}, "retry repeats build, run, test, seed, snapshot and compile");
  auto strings = [&](const char* key) {
    std::vector<std::string> v;
    for (const auto& s : args.value(key, Json::array()))
      if (s.is_string()) v.push_back(s.get<std::string>());
    return v;
  };
  auto flag = [&](const char* key) { return args.value(key, Json(false)) == true; };
  InvocationOptions next = o;
  next.command = which;
  next.select = strings("select");
  next.exclude = strings("exclude");
  next.selector = args.value("selector", std::string());
  next.full_refresh = flag("full_refresh");
  next.fail_fast = flag("fail_fast");
  next.store_failures = flag("store_failures");
  next.warn_error = flag("warn_error");
  next.empty = flag("empty");
  if (next.target.empty()) next.target = args.value("target", std::string());
  if (next.vars.empty() && args.value("vars", Json::object()).is_object()) next.vars = args["vars"].dump();
  if (next.threads <= 0 && args.value("threads", Json(0)).is_number_integer()) next.threads = args["threads"].get<int>();
  auto string_arg = [&](const char* key) {
    return args.contains(key) && args[key].is_string() ? args[key].get<std::string>() : std::string();
  };
  if (next.state_dir.empty()) next.state_dir = string_arg("state");
  if (next.defer_state_dir.empty()) next.defer_state_dir = string_arg("defer_state");
  next.defer = next.defer || flag("defer");
  next.favor_state = next.favor_state || flag("favor_state");
  next.event_time_start = string_arg("event_time_start");
  next.event_time_end = string_arg("event_time_end");
  static const std::set<std::string> kRetried = {"error", "fail", "skipped", "runtime error", "partial success"};
  next.only_unique_ids.emplace();
  for (const auto& r : previous.value("results", Json::array())) {
    if (!r.is_object() || !kRetried.count(r.value("status", std::string()))) continue;
    const std::string id = r.value("unique_id", std::string());
    next.only_unique_ids->push_back(id);
    BatchResults batches = batch_results_from_json(r.value("batch_results", Json(nullptr)));
    if (!batches.failed.empty()) next.retry_batches[id] = std::move(batches);
  }
  if (next.only_unique_ids->empty()) {
    out << "Nothing to do. Try checking your model configs and model specification args\n";
    return 0;
  }
  return run_invocation(next, out);
}

// `docs generate`: compiles the selected nodes (unless --no-compile), then writes manifest.json
// (with their compiled code), catalog.json and, through the options' hook, the docs site. A node
// that fails to compile fails the invocation (exit 1) after manifest.json and run_results.json.
Result<int> generate_docs(Graph& graph, Compiler& compiler, warehouse::Database& database,
                          const std::vector<size_t>& selected, const std::vector<Deferral>& deferred, RunOptions ropts,
                          const InvocationOptions& o, const InvocationInfo& info, const Json& args, std::ostream& out) {
  std::vector<std::string> compiled;
  if (o.compile_docs) {
    ropts.command = RunCommand::kCompile;
    STRATA_ASSIGN(RunSummary summary, run_nodes(graph, compiler, database, selected, ropts, out));
    restore_relations(graph, deferred);  // the manifest names this target's relations
    STRATA_TRY(write_artifact(ropts.target_dir, "run_results.json",
                              run_results_json(info, summary.results, summary.elapsed_seconds, args)));
    if (summary.failed()) {
      STRATA_TRY(write_artifact(ropts.target_dir, "manifest.json", manifest_json(graph, info, summary.compiled)));
      return 1;
    }
    compiled = std::move(summary.compiled);
  } else {
    restore_relations(graph, deferred);
  }
  STRATA_TRY(write_artifact(ropts.target_dir, "manifest.json", manifest_json(graph, info, compiled)));
  STRATA_TRY(docs_generate(graph, database, info, ropts.target_dir, o.empty_catalog));
  out << "Catalog written to " << ropts.target_dir << "/catalog.json\n";
  if (o.docs_site) STRATA_TRY(o.docs_site(ropts.target_dir));
  return 0;
}

}  // namespace

Result<int> run_invocation(const InvocationOptions& o, std::ostream& out) {
  EnvLookup env = o.env ? o.env : process_env();
  STRATA_ASSIGN(ProjectConfig project, load_project(o.project_dir, env));
  const std::string root = project.root;
  // --target-path, else DBT_TARGET_PATH, else dbt_project.yml's target-path.
  if (!o.target_path.empty()) {
    project.target_path = o.target_path;
  } else if (auto v = env("DBT_TARGET_PATH"); v && !v->empty()) {
    project.target_path = *v;
  }
  const std::string target_dir = transform::target_dir(project);
  if (o.command == "deps") {
    STRATA_ASSIGN(std::vector<std::string> lines, install_packages(project, env));
    for (const auto& line : lines) out << line << "\n";
    return 0;
  }
  if (o.command == "retry") return retry(o, project, out);
  if (o.command == "clean") {
    for (const auto& t : project.clean_targets) {
      fs::path p = fs::weakly_canonical(fs::path(root) / t);
      if (p.string().rfind(root + "/", 0) != 0)
        return Error(ErrorCode::kConfig, "clean-target '" + t + "' is outside the project", {project.file},
                     "list only folders inside the project in clean-targets");
      std::error_code ec;
      fs::remove_all(p, ec);
      out << "Cleaned " << p.string() << "\n";
    }
    return 0;
  }
  STRATA_ASSIGN(Json cli_vars, parse_mapping(o.vars, "--vars"));
  warehouse::ProfileOptions popts;
  popts.project_dir = root;
  popts.profiles_dir = o.profiles_dir;
  popts.profile_name = project.profile;
  popts.target = o.target;
  popts.env = env;
  popts.masker = o.logger.masker().get();
  STRATA_ASSIGN(warehouse::TargetConfig tcfg, warehouse::load_target(popts));
  TargetInfo target;
  target.name = tcfg.name;
  target.type = tcfg.type_name;
  target.profile_name = tcfg.profile;
  target.schema = tcfg.schema.empty() ? "main" : tcfg.schema;
  target.threads = o.threads > 0 ? o.threads : std::max(1, tcfg.threads);
  if (tcfg.type == warehouse::TargetType::kDuckDb) {
    std::string path = tcfg.duckdb_path();
    target.database = path == ":memory:" || path.empty() ? "memory" : fs::path(path).stem().string();
  } else {
    target.database = tcfg.type == warehouse::TargetType::kBigQuery ? tcfg.project : tcfg.dbname;
  }

  STRATA_ASSIGN(ParsedProject parsed, parse_project(std::move(project), env));
  STRATA_ASSIGN(Graph graph, Graph::build(std::move(parsed)));
  InvocationInfo info;
  info.invocation_id = new_invocation_id();
  info.generated_at = format_iso8601(now_micros());
  info.command = o.command;
  info.adapter_type = target.type;
  info.strata_version = o.version;
  // Macros branch on these as on dbt's flags (e.g. `{% if flags.FULL_REFRESH %}`).
  Json flags{{"FULL_REFRESH", o.full_refresh},
             {"FAIL_FAST", o.fail_fast},
             {"WHICH", o.command},
             {"STORE_FAILURES", o.store_failures},
             {"WARN_ERROR", o.warn_error},
             {"EMPTY", o.empty},
             {"TARGET_PATH", graph.project().project.target_path}};
  CompilerOptions copts{target, cli_vars, env, info.invocation_id, info.generated_at, o.logger, std::move(flags), o.empty};
  STRATA_ASSIGN(auto compiler, Compiler::create(graph, copts));
  STRATA_TRY(compiler->parse_render(graph));
  // The parser's and the graph's warnings (tests of disabled nodes), with the render's configs in.
  for (const auto& w : graph.project().warnings) o.logger.warn("{}", w);
  warn_ignored_configs(graph, o.logger);
  const sql::Dialect& dialect = target.type == "postgres"   ? sql::postgres_dialect()
                                : target.type == "bigquery" ? sql::bigquery_dialect()
                                                            : sql::duckdb_dialect();
  STRATA_TRY(resolve_relations(graph, target, dialect, compiler->name_macro()));

  STRATA_ASSIGN(States states, load_states(o, env));
  SelectionRequest request;
  request.state = states.compare ? &*states.compare : nullptr;
  request.target_dir = target_dir;
  request.select = o.select;
  request.exclude = o.exclude;
  request.selector = o.selector;
  request.resource_types = types_for(o.command);
  STRATA_ASSIGN(request.indirect, indirect_selection(o, env));
  for (const auto& t : o.resource_types) {
    auto rt = parse_resource_type(t);
    if (!rt) return Error(ErrorCode::kUsage, "unknown --resource-type '" + t + "'");
    request.resource_types.push_back(*rt);
  }
  STRATA_ASSIGN(std::vector<size_t> selected, select_nodes(graph, request));
  warn_unmatched_criteria(graph, o.select, o.logger);
  if (o.only_unique_ids) {
    const std::set<std::string> only(o.only_unique_ids->begin(), o.only_unique_ids->end());
    std::erase_if(selected, [&](size_t i) { return !only.count(graph.node(i).unique_id); });
  }

  if (o.command == "ls") {
    for (size_t i : selected) {
      const Node& n = graph.node(i);
      if (o.output == "name") out << n.name << "\n";
      else if (o.output == "path") out << n.original_file_path << "\n";
      else if (o.output == "json") out << ls_json(graph, i, o.output_keys).dump() << "\n";
      else if (n.resource_type == ResourceType::kSource)
        out << "source:" << n.package_name << "." << n.source_name << "." << n.name << "\n";
      else out << join(n.fqn, ".") << "\n";
    }
    return 0;
  }
  if (o.command == "parse") {
    STRATA_TRY(write_artifact(target_dir, "manifest.json", manifest_json(graph, info)));
    out << "Parsed " << graph.size() << " nodes; wrote " << target_dir << "/manifest.json\n";
    return 0;
  }
  if (o.command == "compile" && !o.inline_sql.empty()) {
    // As dbt's: rendered with a connection (execute is true; run_query() and introspection work).
    STRATA_ASSIGN(auto database, warehouse::open_target(tcfg, o.logger.masker().get()));
    STRATA_ASSIGN(auto session, database->connect());
    RenderOptions ro;
    ro.warehouse = session.get();
    STRATA_ASSIGN(std::string sql, compiler->render(o.inline_sql, static_cast<size_t>(-1), ro, "<inline>"));
    out << sql << "\n";
    return 0;
  }
  STRATA_ASSIGN(auto database, warehouse::open_target(tcfg, o.logger.masker().get()));
  std::vector<Deferral> deferred;
  if (const PreviousState* to = states.defer_to()) {
    STRATA_ASSIGN(auto wh, database->connect());
    STRATA_ASSIGN(deferred, defer_to_state(graph, selected, *to, *wh, states.favor_state));
    if (!deferred.empty())
      o.logger.info("Deferring {} unselected node(s) to the relations of {}", deferred.size(), to->dir());
  }
  if (o.command == "show") return show(*compiler, *database, selected, o, out);
  if (o.command == "run-operation") return run_operation(*compiler, *database, o, out);
  if (o.command == "freshness") {
    int failures = 0;
    STRATA_TRY(source_freshness(graph, selected, *database, info, target_dir, out, failures));
    return failures > 0 ? 1 : 0;
  }
  RunOptions ropts;
  ropts.command = run_command(o.command);
  ropts.threads = target.threads;
  ropts.full_refresh = o.full_refresh;
  ropts.fail_fast = o.fail_fast;
  ropts.store_failures = o.store_failures;
  ropts.warn_error = o.warn_error;
  ropts.target_dir = target_dir;
  ropts.run_started_at = info.generated_at;
  ropts.event_time_start = o.event_time_start;
  ropts.event_time_end = o.event_time_end;
  ropts.retry_batches = o.retry_batches;
  if (o.command == "docs") {
    return generate_docs(graph, *compiler, *database, selected, deferred, ropts, o, info,
                         invocation_args(o, cli_vars, target.threads), out);
  }
  STRATA_ASSIGN(RunSummary summary, run_nodes(graph, *compiler, *database, selected, ropts, out));
  if (o.command == "compile" && selected.size() == 1 && !summary.compiled[selected[0]].empty())
    out << summary.compiled[selected[0]] << "\n";
  restore_relations(graph, deferred);
  STRATA_TRY(write_artifact(target_dir, "manifest.json", manifest_json(graph, info, summary.compiled)));
  STRATA_TRY(write_artifact(target_dir, "run_results.json",
                            run_results_json(info, summary.results, summary.elapsed_seconds,
                                             invocation_args(o, cli_vars, target.threads))));
  return summary.failed() ? 1 : 0;
}

}  // namespace strata::transform

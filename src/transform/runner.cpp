// The DAG scheduler: N worker threads, one warehouse session each.
#include "transform/runner.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fmt/format.h>
#include <mutex>
#include <ostream>
#include <set>
#include <thread>

#include "common/strings.h"
#include "common/time.h"
#include "transform/runner_internal.h"

namespace strata::transform {

namespace {

using detail::NodeContext;

bool runs_in(RunCommand cmd, const Node& n) {
  switch (cmd) {
    case RunCommand::kBuild:
      return n.resource_type != ResourceType::kSource && n.resource_type != ResourceType::kAnalysis;
    case RunCommand::kRun: return n.resource_type == ResourceType::kModel;
    case RunCommand::kTest: return n.is_test();
    case RunCommand::kSeed: return n.resource_type == ResourceType::kSeed;
    case RunCommand::kSnapshot: return n.resource_type == ResourceType::kSnapshot;
    case RunCommand::kCompile: return n.resource_type != ResourceType::kSource && n.resource_type != ResourceType::kSeed;
  }
  return false;
}

std::string describe(const Node& n) {
  if (!n.unit_test.is_null()) return "unit_test " + n.unit_test.value("model", std::string()) + "::" + n.name;
  if (n.is_test()) return "test " + n.name;
  if (n.resource_type == ResourceType::kSeed) return "seed file " + n.schema + "." + n.alias;
  if (n.resource_type == ResourceType::kSnapshot) return "snapshot " + n.schema + "." + n.alias;
  return "sql " + n.materialized() + " model " + n.schema + "." + n.alias;
}

void write_sql_file(const RunOptions& o, const char* kind, const Node& n, const std::string& sql) {
  if (o.target_dir.empty() || sql.empty()) return;
  std::string path = o.target_dir + "/" + kind + "/" + n.package_name + "/" + n.original_file_path;
  if (n.is_test() && (n.test_metadata || !n.unit_test.is_null())) path = o.target_dir + "/" + kind + "/" + n.package_name + "/" +
                                             n.original_file_path + "/" + n.name + ".sql";
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  write_file(path, sql);
}

Status run_hooks(Compiler& compiler, warehouse::Warehouse& wh, const Json& hooks, size_t node, const RunOptions& o,
                 std::string* run_sql, const Json* variables = nullptr) {
  if (!hooks.is_array()) return ok_status();
  RenderOptions ro;
  ro.warehouse = &wh;
  ro.variables = variables;
  for (const auto& h : hooks) {
    std::string text = h.is_string() ? h.get<std::string>() : h.is_object() ? h.value("sql", std::string()) : "";
    if (trim(text).empty()) continue;
    STRATA_ASSIGN(std::string sql, compiler.render(text, node, ro, "<hook>"));
    if (trim(sql).empty()) continue;
    if (run_sql) *run_sql += sql + ";\n\n";
    STRATA_TRY(wh.execute(sql));
  }
  (void)o;
  return ok_status();
}

// The variables dbt gives on-run-end hooks: `results` (run_results.json's items, each with its
// `node`, so `r.node.name` and `r.status` work), `schemas` and `database_schemas` (where the run
// built relations; grant macros loop over them).
Json on_run_end_variables(const Graph& graph, const RunSummary& summary, const std::vector<size_t>& work) {
  Json results = run_results_json(InvocationInfo{}, summary.results, summary.elapsed_seconds, Json::object())["results"];
  for (auto& r : results) {
    auto index = graph.find(r.value("unique_id", std::string()));
    if (!index) continue;
    const Node& n = graph.node(*index);
    r["node"] = Json{{"unique_id", n.unique_id},       {"name", n.name},
                     {"resource_type", resource_type_name(n.resource_type)},
                     {"package_name", n.package_name}, {"original_file_path", n.original_file_path},
                     {"database", n.database},         {"schema", n.schema},
                     {"alias", n.alias},               {"relation_name", n.relation_name},
                     {"config", n.config},             {"tags", n.tags}};
  }
  Json schemas = Json::array(), database_schemas = Json::array();
  for (size_t i : work) {
    const Node& n = graph.node(i);
    if (n.is_test() || n.resource_type == ResourceType::kAnalysis) continue;
    Json pair = Json::array({n.database, n.schema});
    if (std::find(database_schemas.begin(), database_schemas.end(), pair) != database_schemas.end()) continue;
    database_schemas.push_back(pair);
    if (std::find(schemas.begin(), schemas.end(), Json(n.schema)) == schemas.end()) schemas.push_back(n.schema);
  }
  return Json{{"results", results}, {"schemas", schemas}, {"database_schemas", database_schemas}};
}

// Every node that `i` depends on, directly or through others.
std::set<size_t> ancestors_of(const Graph& graph, size_t i) {
  std::set<size_t> seen;
  std::vector<size_t> frontier(graph.parents(i).begin(), graph.parents(i).end());
  while (!frontier.empty()) {
    size_t p = frontier.back();
    frontier.pop_back();
    if (seen.insert(p).second) frontier.insert(frontier.end(), graph.parents(p).begin(), graph.parents(p).end());
  }
  return seen;
}

}  // namespace

bool stores_failures(const Node& test, const RunOptions& options) {
  // A test's own store_failures config wins over --store-failures, as in dbt.
  auto own = test.config.find("store_failures");
  return own != test.config.end() && own->is_boolean() ? own->get<bool>() : options.store_failures;
}

Result<RunSummary> run_nodes(const Graph& graph, Compiler& compiler, warehouse::Database& database,
                             const std::vector<size_t>& selected, const RunOptions& options, std::ostream& out) {
  const int64_t started = monotonic_micros();
  RunSummary summary;
  summary.compiled.assign(graph.size(), "");
  // The nodes to execute, and the dependencies among them (plus, in build, model → its tests → children).
  std::vector<size_t> work;
  std::vector<int> slot(graph.size(), -1);
  for (size_t i : selected) {
    const Node& n = graph.node(i);
    if (!runs_in(options.command, n)) continue;
    if (n.materialized() == "ephemeral" && options.command != RunCommand::kCompile) continue;
    slot[i] = static_cast<int>(work.size());
    work.push_back(i);
  }
  const size_t total = work.size();
  std::vector<std::vector<size_t>> deps(total), dependents(total);
  for (size_t k = 0; k < total; ++k) {
    size_t i = work[k];
    // In a build a unit test runs before its model, as dbt's: on the model's parents, and the
    // model then waits for it (a failing one skips the model).
    const bool unit_first = options.command == RunCommand::kBuild && !graph.node(i).unit_test.is_null();
    std::vector<size_t> frontier;
    for (size_t p : graph.parents(i)) {
      if (unit_first) frontier.insert(frontier.end(), graph.parents(p).begin(), graph.parents(p).end());
      else frontier.push_back(p);
    }
    std::set<size_t> seen;
    // Ephemeral/unselected parents: look through ephemeral ones to their parents.
    while (!frontier.empty()) {
      size_t p = frontier.back();
      frontier.pop_back();
      if (!seen.insert(p).second) continue;
      if (slot[p] >= 0) deps[k].push_back(static_cast<size_t>(slot[p]));
      else if (graph.node(p).materialized() == "ephemeral")
        frontier.insert(frontier.end(), graph.parents(p).begin(), graph.parents(p).end());
    }
    if (options.command == RunCommand::kBuild && !graph.node(i).is_test()) {
      // Tests of my parents must pass before I run, as in dbt's build: only a test whose parents
      // are all my ancestors (not a test of me, nor a relationships test from a sibling, which
      // would wait for that sibling while the sibling waits for my own test: a cycle).
      const std::set<size_t> ancestors = ancestors_of(graph, i);
      for (size_t p : graph.parents(i))
        for (size_t t : graph.children(p))
          if (graph.node(t).is_test() && slot[t] >= 0 && t != i &&
              std::all_of(graph.parents(t).begin(), graph.parents(t).end(),
                          [&](size_t q) { return ancestors.count(q) > 0; }))
            deps[k].push_back(static_cast<size_t>(slot[t]));
      for (size_t t : graph.children(i))
        if (!graph.node(t).unit_test.is_null() && slot[t] >= 0) deps[k].push_back(static_cast<size_t>(slot[t]));
    }
    std::sort(deps[k].begin(), deps[k].end());
    deps[k].erase(std::unique(deps[k].begin(), deps[k].end()), deps[k].end());
    for (size_t dk : deps[k]) dependents[dk].push_back(k);
  }

  // on-run-start hooks.
  STRATA_ASSIGN(auto main_session, database.connect());
  std::set<std::string> schemas;
  std::mutex schema_mu;
  if (options.command != RunCommand::kCompile) {
    Json start = Json::array();
    for (const auto& h : graph.project().project.on_run_start) start.push_back(h);
    Status st = run_hooks(compiler, *main_session, start, static_cast<size_t>(-1), options, nullptr);
    if (!st.ok()) return std::move(st).error().context("on-run-start hook failed");
  }

  detail::RelationCache relations;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<size_t> ready;
  std::vector<size_t> remaining(total);
  std::vector<bool> skipped(total, false);
  size_t done = 0, started_count = 0;
  bool stop = false;
  for (size_t k = 0; k < total; ++k) {
    remaining[k] = deps[k].size();
    if (remaining[k] == 0) ready.push_back(k);
  }
  auto print = [&](const std::string& line) { out << line << "\n" << std::flush; };
  out << "Running with strata: " << total << " nodes, " << options.threads << " threads\n";

  auto finish = [&](size_t k, bool ok) {
    // Called with mu held.
    ++done;
    std::deque<size_t> skip_queue;
    for (size_t c : dependents[k]) {
      if (!ok && !skipped[c]) {
        skipped[c] = true;
        skip_queue.push_back(c);
      }
      if (--remaining[c] == 0 && !skipped[c]) ready.push_back(c);
    }
    while (!skip_queue.empty()) {
      size_t s = skip_queue.front();
      skip_queue.pop_front();
      const Node& n = graph.node(work[s]);
      NodeResult r;
      r.unique_id = n.unique_id;
      r.status = "skipped";
      r.message = "SKIP";
      summary.results.push_back(r);
      ++summary.skip;
      ++done;
      print(fmt::format("{:>3} of {} SKIP relation {} ........ [SKIP]", done, total, describe(n)));
      for (size_t c : dependents[s]) {
        --remaining[c];
        if (!skipped[c]) {
          skipped[c] = true;
          skip_queue.push_back(c);
        }
      }
    }
    if (!ok && options.fail_fast) stop = true;
    cv.notify_all();
  };

  auto execute_one = [&](warehouse::Warehouse& wh, size_t k) {
    size_t i = work[k];
    const Node& n = graph.node(i);
    NodeContext ctx{graph, compiler, wh, n, i, options, {}, {}, -1, -1, {}, &relations, {}, std::nullopt, {}};
    NodeResult r;
    r.unique_id = n.unique_id;
    r.relation_name = n.relation_name;
    r.compile_started_at = format_iso8601(now_micros());
    int64_t t0 = monotonic_micros();
    auto run = [&]() -> Result<std::string> {
      if (n.resource_type != ResourceType::kSeed) {
        RenderOptions ro;
        ro.warehouse = &wh;
        if (n.materialized() == "incremental" && !options.full_refresh) {
          bool is_view = false;
          STRATA_ASSIGN(bool exists, detail::relation_exists(ctx, is_view));
          ro.is_incremental = exists && !is_view;
        }
        STRATA_ASSIGN(ctx.compiled, compiler.compile(i, ro));
      }
      r.compile_completed_at = format_iso8601(now_micros());
      r.started_at = r.compile_completed_at;
      if (options.command == RunCommand::kCompile || n.resource_type == ResourceType::kAnalysis)
        return std::string("COMPILED");
      // Tests that store their failures write to a schema too; concurrent creates of one schema
      // conflict in DuckDB, so every node creates it under the same lock, once.
      if (!n.is_test() || stores_failures(n, options)) {
        // Held across the create: a node must not see the schema as created before its creation has committed.
        std::lock_guard<std::mutex> lock(schema_mu);
        if (!schemas.count(n.database + "." + n.schema)) {
          STRATA_TRY(ctx.execute("create schema if not exists " + wh.dialect().quote_identifier(n.schema)));
          schemas.insert(n.database + "." + n.schema);
        }
      }
      if (!n.is_test())
        STRATA_TRY(run_hooks(compiler, wh, n.config.value("pre-hook", Json::array()), i, options, &ctx.run_sql));
      Result<std::string> message = std::string();
      if (n.is_test()) message = detail::run_test(ctx);
      else if (n.resource_type == ResourceType::kSeed) message = detail::load_seed(ctx);
      else if (n.resource_type == ResourceType::kSnapshot) message = detail::materialize_snapshot(ctx);
      else if (n.materialized() == "view") message = detail::materialize_view(ctx);
      else if (n.materialized() == "table") message = detail::materialize_table(ctx);
      else if (n.materialized() == "incremental") message = detail::materialize_incremental(ctx);
      else
        return Error(ErrorCode::kFailed, "unknown materialization '" + n.materialized() + "'",
                     n.config_location("materialized"),
                     "use view, table, incremental or ephemeral");
      if (!message.ok()) return message;
      if (!n.is_test())
        STRATA_TRY(run_hooks(compiler, wh, n.config.value("post-hook", Json::array()), i, options, &ctx.run_sql));
      return message;
    };
    Result<std::string> message = run();
    double secs = static_cast<double>(monotonic_micros() - t0) / 1e6;
    r.completed_at = format_iso8601(now_micros());
    r.execution_time = secs;
    r.compiled_code = ctx.compiled;
    r.rows_affected = ctx.rows_affected;
    r.batch_results = ctx.batches;
    write_sql_file(options, "compiled", n, ctx.compiled);
    write_sql_file(options, "run", n, ctx.run_sql);
    bool ok = message.ok();
    // Some batches committed, some failed: dbt's "partial success", which fails like an error.
    const bool partial = ok && ctx.batches && !ctx.batches->failed.empty();
    std::string line;
    if (!ok) {
      r.status = "error";
      r.message = message.error().to_string();
      line = fmt::format("ERROR creating {} ........ [ERROR in {:.2f}s]\n    {}", describe(n), secs, r.message);
    } else if (partial) {
      r.status = "partial success";
      r.code = *message;
      r.message = *message + ctx.batch_report;
      line = fmt::format("{} creating {} ........ [PARTIAL SUCCESS in {:.2f}s]{}", *message, describe(n), secs,
                         ctx.batch_report);
      ok = false;
    } else if (n.is_test()) {
      r.status = ctx.test_status;
      r.failures = ctx.failures;
      r.code = *message;
      std::string tag = ctx.test_status == "pass" ? "PASS" : ctx.test_status == "warn" ? "WARN" : "FAIL";
      // As dbt's: the threshold the status came from (warn_if / error_if, default "!= 0").
      auto threshold_at = n.config.find(tag == "WARN" ? "warn_if" : "error_if");
      const std::string threshold = threshold_at != n.config.end() && threshold_at->is_string()
                                        ? threshold_at->get<std::string>()
                                        : std::string("!= 0");
      r.message = tag == "PASS"                 ? ""
                  : !ctx.test_message.empty() ? ctx.test_message
                                              : "Got " + std::to_string(ctx.failures) + " result" +
                                                    (ctx.failures == 1 ? "" : "s") + ", configured to " +
                                                    (tag == "WARN" ? "warn" : "fail") + " if " + threshold;
      line = fmt::format("{} {} ........ [{}{} in {:.2f}s]", tag, describe(n), tag,
                         tag == "PASS" ? "" : " " + std::to_string(ctx.failures), secs);
      if (tag != "PASS" && !ctx.test_message.empty()) line += "\n" + ctx.test_message;
      ok = ctx.test_status != "fail";
    } else {
      r.status = options.command == RunCommand::kCompile ? "success" : "success";
      r.code = *message;
      r.message = *message;
      line = fmt::format("OK created {} ........ [{} in {:.2f}s]", describe(n), *message, secs);
    }
    std::lock_guard<std::mutex> lock(mu);
    summary.compiled[i] = ctx.compiled;
    ++started_count;
    if (!message.ok()) ++summary.error;
    else if (partial) ++summary.partial_success;
    else if (r.status == "warn") ++summary.warn;
    else if (r.status == "fail") ++summary.error;
    else ++summary.pass;
    summary.results.push_back(r);
    print(fmt::format("{:>3} of {} {}", done + 1, total, line));
    finish(k, ok);
  };

  int threads = std::max(1, std::min<int>(options.threads, static_cast<int>(std::max<size_t>(total, 1))));
  std::vector<std::unique_ptr<warehouse::Warehouse>> sessions;
  for (int t = 0; t < threads; ++t) {
    STRATA_ASSIGN(auto s, database.connect());
    sessions.push_back(std::move(s));
  }
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      while (true) {
        size_t k;
        {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return stop || done >= total || !ready.empty(); });
          if (stop || done >= total) return;
          k = ready.front();
          ready.pop_front();
        }
        execute_one(*sessions[t], k);
      }
    });
  }
  for (auto& th : pool) th.join();
  // --fail-fast: everything not run is skipped.
  for (size_t k = 0; k < total && stop; ++k) {
    bool reported = false;
    for (const auto& r : summary.results) reported |= r.unique_id == graph.node(work[k]).unique_id;
    if (!reported) {
      NodeResult r;
      r.unique_id = graph.node(work[k]).unique_id;
      r.status = "skipped";
      summary.results.push_back(r);
      ++summary.skip;
    }
  }
  sessions.clear();
  if (options.command != RunCommand::kCompile) {
    Json end = Json::array();
    for (const auto& h : graph.project().project.on_run_end) end.push_back(h);
    summary.elapsed_seconds = static_cast<double>(monotonic_micros() - started) / 1e6;
    Json variables = on_run_end_variables(graph, summary, work);
    Status st = run_hooks(compiler, *main_session, end, static_cast<size_t>(-1), options, nullptr, &variables);
    if (!st.ok()) {
      out << "on-run-end hook failed: " << st.error().to_string() << "\n";
      ++summary.error;
    }
  }
  summary.total = static_cast<int>(total);
  summary.elapsed_seconds = static_cast<double>(monotonic_micros() - started) / 1e6;
  out << fmt::format("\nFinished running {} nodes in {:.2f}s.\n", total, summary.elapsed_seconds);
  const std::string partial =
      summary.partial_success > 0 ? fmt::format(" PARTIAL SUCCESS={}", summary.partial_success) : std::string();
  out << fmt::format("Done. PASS={} WARN={} ERROR={} SKIP={}{} TOTAL={}\n", summary.pass, summary.warn, summary.error,
                     summary.skip, partial, summary.total);
  return summary;
}

}  // namespace strata::transform

// dbt's verbs: strata build | run | test | seed | snapshot | compile | ls | parse | docs generate |
// source freshness | clean | deps | run-operation | show | retry, with dbt's flags.
#include <memory>

#include "cli/app.h"
#include "cli/stop_signals.h"
#include "server/docs_site.h"
#include "transform/invocation.h"
#include "transform/project.h"

namespace strata::cli {

namespace {

struct DbtFlags {
  transform::InvocationOptions options;
  bool static_docs = false;  // docs generate --static
};

void add_common(CLI::App& cmd, DbtFlags& f, bool selection) {
  auto& o = f.options;
  cmd.add_option("--project-dir", o.project_dir, "Folder holding dbt_project.yml");
  cmd.add_option("--profiles-dir", o.profiles_dir, "Folder holding profiles.yml");
  cmd.add_option("--target-path", o.target_path,
                 "Folder for the artifacts (manifest.json, run_results.json, compiled SQL); default: target-path");
  cmd.add_option("-t,--target", o.target, "Target in profiles.yml");
  cmd.add_option("--vars", o.vars, "Variables as YAML or JSON, e.g. '{key: value}'");
  if (!selection) return;
  cmd.add_option("-s,--select,-m,--models", o.select, "Nodes to select (dbt selection syntax)")->expected(1, -1);
  cmd.add_option("--exclude", o.exclude, "Nodes to exclude")->expected(1, -1);
  cmd.add_option("--selector", o.selector, "A selector from selectors.yml");
  cmd.add_option("--indirect-selection", o.indirect_selection,
                 "Which tests of the selected nodes run: eager (default), cautious, buildable or empty")
      ->check(CLI::IsMember({"eager", "cautious", "buildable", "empty"}));
  cmd.add_option("--threads", o.threads, "Number of threads");
  cmd.add_flag("--full-refresh", o.full_refresh, "Rebuild incremental models and seeds from scratch");
  cmd.add_flag("-x,--fail-fast", o.fail_fast, "Stop at the first failure");
  cmd.add_flag("--store-failures", o.store_failures, "Store the failing rows of every selected test");
  cmd.add_flag("--warn-error", o.warn_error, "Treat test warnings as failures");
  cmd.add_option("--state", o.state_dir,
                 "An earlier invocation's target folder, for state:/result: selection and --defer (or DBT_STATE)");
  cmd.add_flag("--defer", o.defer, "ref() of unselected nodes not built in this target reads --state's relations");
  cmd.add_option("--defer-state", o.defer_state_dir, "Defer to this target folder instead of --state's");
  cmd.add_flag("--favor-state", o.favor_state, "With --defer: defer even when this target has the relation");
}

void add_verb(CLI::App& parent, CliContext& context, const std::string& name, const std::string& command,
              const std::string& help, bool selection = true) {
  auto flags = std::make_shared<DbtFlags>();
  auto* cmd = parent.add_subcommand(name, help);
  add_common(*cmd, *flags, selection);
  if (command == "compile" || command == "show")
    cmd->add_option("--inline", flags->options.inline_sql, "Compile this SQL with Jinja");
  if (command == "show") cmd->add_option("--limit", flags->options.limit, "Rows to preview (-1: all)");
  if (command == "run" || command == "build") {
    cmd->add_flag("--empty", flags->options.empty, "Build with ref() and source() reading no rows (a schema-only run)");
    cmd->add_option("--event-time-start", flags->options.event_time_start,
                    "Microbatch models: build the batches from this date or timestamp (UTC)");
    cmd->add_option("--event-time-end", flags->options.event_time_end,
                    "Microbatch models: build the batches up to this date or timestamp (UTC, exclusive)");
  }
  if (command == "run-operation") {
    cmd->add_option("macro", flags->options.operation, "The macro to call")->required();
    cmd->add_option("--args", flags->options.operation_args, "Keyword arguments as YAML or JSON, e.g. '{n: 3}'");
  }
  if (command == "docs") {
    cmd->add_flag("--static", flags->static_docs,
                  "Also write target/static_index.html, a page holding manifest.json and catalog.json that opens "
                  "without a server");
    cmd->add_flag("!--no-compile", flags->options.compile_docs, "Do not compile the nodes first");
    cmd->add_flag("--empty-catalog", flags->options.empty_catalog, "Write catalog.json without reading the warehouse");
  }
  if (command == "ls") {
    cmd->add_option("--resource-type,--resource-types", flags->options.resource_types, "Only these resource types");
    cmd->add_option("--output", flags->options.output, "selector, name, path or json");
    cmd->add_option("--output-keys", flags->options.output_keys, "With --output json: the manifest keys to print")
        ->expected(1, -1);
  }
  bind_action(*cmd, context, [flags, command, &context]() -> Status {
    transform::InvocationOptions o = flags->options;
    o.command = command;
    o.env = context.env;
    o.logger = context.logger;
    o.version = context.version;
    if (command == "docs") {
      // A binary built without the web UI has no docs app: the JSON artifacts still stand, and
      // only --static (which asks for the page) fails.
      o.docs_site = [static_docs = flags->static_docs, logger = context.logger](const std::string& target_dir) {
        Status written = server::write_docs_site(target_dir, static_docs);
        if (!written.ok() && written.error().code() == ErrorCode::kInternal && !static_docs) {
          logger.warn("no docs site written: {}", written.error().message());
          return ok_status();
        }
        return written;
      };
    }
    auto code = transform::run_invocation(o, context.out);
    if (!code.ok()) return std::move(code).error();
    if (*code != 0) context.exit_code = *code;
    return ok_status();
  });
}

struct DocsServeFlags {
  std::string project_dir = ".";
  std::string target_path;
  std::string host = "127.0.0.1";
  int port = 8080;
  bool browser = false;
};

// `strata docs serve`: the target folder's docs site over HTTP until SIGINT/SIGTERM.
Status serve_docs(const DocsServeFlags& f, CliContext& context) {
  STRATA_ASSIGN(transform::ProjectConfig project, transform::load_project(f.project_dir, context.env ? context.env : process_env()));
  const sigset_t signals = block_stop_signals();
  if (!f.target_path.empty()) {
    project.target_path = f.target_path;
  } else if (auto v = (context.env ? context.env : process_env())("DBT_TARGET_PATH"); v && !v->empty()) {
    project.target_path = *v;
  }
  STRATA_ASSIGN(auto server, server::DocsServer::bind(transform::target_dir(project), f.host, f.port));
  context.out << "Serving docs at " << server->url() << "\nPress Ctrl+C to exit.\n" << std::flush;
  serve_until_signal(signals, [&] { server->serve(); }, [&] { server->stop(); });
  return ok_status();
}

void add_docs_serve(CLI::App& docs, CliContext& context) {
  auto flags = std::make_shared<DocsServeFlags>();
  auto* cmd = docs.add_subcommand("serve", "Serve the docs site of `strata docs generate` (target/index.html)");
  cmd->add_option("--project-dir", flags->project_dir, "Folder holding dbt_project.yml");
  cmd->add_option("--profiles-dir", "Accepted for dbt's command lines; serving needs no profile");
  cmd->add_option("--target-path", flags->target_path, "The folder `docs generate` wrote; default: target-path");
  cmd->add_option("--port", flags->port, "Port to listen on")->capture_default_str()->check(CLI::Range(0, 65535));
  cmd->add_option("--host", flags->host, "Address to bind")->capture_default_str();
  cmd->add_flag("--browser,!--no-browser", flags->browser,
                "Accepted for dbt's command lines; no browser is opened (open the printed address)");
  bind_action(*cmd, context, [flags, &context]() -> Status { return serve_docs(*flags, context); });
}

}  // namespace

void register_dbt(CLI::App& app, CliContext& context) {
  add_verb(app, context, "build", "build", "Seed, run, snapshot and test the selected nodes in DAG order");
  add_verb(app, context, "run", "run", "Run the selected models");
  add_verb(app, context, "test", "test", "Run the selected data tests");
  add_verb(app, context, "seed", "seed", "Load the selected CSV seeds");
  add_verb(app, context, "snapshot", "snapshot", "Run the selected snapshots");
  add_verb(app, context, "compile", "compile", "Compile the selected nodes (or --inline SQL) to target/compiled");
  add_verb(app, context, "ls", "ls", "List the selected nodes");
  add_verb(app, context, "show", "show", "Preview the rows of a node's (or --inline) SQL without building it");
  add_verb(app, context, "list", "ls", "List the selected nodes");
  add_verb(app, context, "parse", "parse", "Parse the project and write target/manifest.json", false);
  add_verb(app, context, "clean", "clean", "Delete the project's clean-targets", false);
  add_verb(app, context, "deps", "deps",
           "Install the packages of packages.yml / dependencies.yml into dbt_packages/ (local: packages; hub, git "
           "and tarball packages must already be installed)",
           false);
  add_verb(app, context, "run-operation", "run-operation", "Call a macro (with --args) against the target", false);
  add_verb(app, context, "retry", "retry",
           "Repeat the previous build, run, test, seed, snapshot or compile (target/run_results.json) for the nodes "
           "that errored, failed or were skipped (a microbatch model's failed batches only)",
           false);
  auto* docs = app.add_subcommand("docs", "Documentation artifacts");
  add_verb(*docs, context, "generate", "docs",
           "Compile, then write target/manifest.json, catalog.json and the docs site (index.html)");
  add_docs_serve(*docs, context);
  auto* source = app.add_subcommand("source", "Sources");
  add_verb(*source, context, "freshness", "freshness", "Check source freshness and write target/sources.json");
}

}  // namespace strata::cli

// `strata pipeline list | show | run | backfill | pause | unpause | runs | logs`, and
// `strata datasets list | events | event` (data-aware scheduling, orchestrate/datasets.h).
#include <chrono>
#include <fstream>
#include <functional>
#include <iomanip>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/app.h"
#include "cli/demo/interrupt_watcher.h"
#include "common/strings.h"
#include "common/time.h"
#include "orchestrate/runtime.h"

namespace strata::cli {
namespace {

using namespace strata::orchestrate;

struct PipelineArgs {
  std::string project_dir = ".";
  std::string name;
  std::vector<std::string> params;
  bool wait = false;
  std::string from, to;
  bool rerun_failed = false;
  std::string run_id, task_id;
  int try_number = 0;
  bool follow = false;
  int limit = 25;
  std::string uri, extra;
};

Result<std::unique_ptr<Runtime>> open_runtime(const PipelineArgs& args, CliContext& ctx) {
  RuntimeOptions options;
  options.project_dir = args.project_dir;
  options.masker = ctx.logger.masker();
  if (ctx.env) options.env = ctx.env;
  return Runtime::open(options);
}

Result<std::shared_ptr<const PipelineSpec>> find_pipeline(Runtime& rt, const std::string& name) {
  if (auto spec = rt.pipeline(name)) return spec;
  std::string known;
  for (const auto& p : rt.pipelines()) known += (known.empty() ? "" : ", ") + p->name;
  return Error(ErrorCode::kNotFound, "no pipeline named '" + name + "'", {},
               known.empty() ? "create pipelines/" + name + ".yml" : "known pipelines: " + known);
}

Result<std::string> params_json(const std::vector<std::string>& params) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& p : params) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0)
      return Error(ErrorCode::kUsage, "bad --param '" + p + "'", {}, "write --param name=value");
    std::string value = p.substr(eq + 1);
    auto parsed = nlohmann::json::parse(value, nullptr, false);
    out[p.substr(0, eq)] = parsed.is_discarded() ? nlohmann::json(value) : parsed;
  }
  return out.dump();
}

std::string when(int64_t micros) { return micros == 0 ? "-" : format_iso8601(micros); }

// The cron schedule, the dataset condition ("datasets: a & b"), both ("@daily or datasets: a") or
// "none".
std::string schedule_text(const PipelineSpec& spec) {
  std::string text = spec.schedule.value_or("");
  if (spec.datasets) text += (text.empty() ? "" : " or ") + ("datasets: " + spec.datasets->to_string());
  return text.empty() ? "none" : text;
}

void print_task_states(Runtime& rt, const RunRecord& run, std::ostream& out) {
  auto tis = rt.store().task_instances(run.pipeline, run.run_id);
  if (!tis.ok()) return;
  for (const auto& ti : *tis)
    out << "  " << std::left << std::setw(32) << ti.task_id << std::setw(16) << task_state_name(ti.state) << "try "
        << ti.try_number << "\n";
}

Status cmd_list(const PipelineArgs& args, CliContext& ctx) {
  STRATA_ASSIGN(auto rt, open_runtime(args, ctx));
  STRATA_ASSIGN(auto records, rt->store().pipelines());
  ctx.out << std::left << std::setw(28) << "PIPELINE" << std::setw(20) << "SCHEDULE" << std::setw(8) << "PAUSED"
          << "LAST RUN\n";
  for (const auto& spec : rt->pipelines()) {
    bool paused = false;
    for (const auto& r : records)
      if (r.name == spec->name) paused = r.paused;
    STRATA_ASSIGN(auto runs, rt->store().runs(spec->name, std::nullopt, 1));
    std::string last = runs.empty() ? "-" : runs[0].run_id + " " + std::string(run_state_name(runs[0].state));
    ctx.out << std::setw(28) << spec->name << std::setw(20) << schedule_text(*spec) << std::setw(8)
            << (paused ? "yes" : "no") << last << "\n";
  }
  return ok_status();
}

Status cmd_show(const PipelineArgs& args, CliContext& ctx) {
  STRATA_ASSIGN(auto rt, open_runtime(args, ctx));
  STRATA_ASSIGN(const std::shared_ptr<const PipelineSpec> spec, find_pipeline(*rt, args.name));
  ctx.out << "pipeline: " << spec->name << "\nfile: " << spec->file << "\nschedule: " << schedule_text(*spec)
          << "\ntimezone: " << spec->timezone << "\nstart_date: " << (spec->start_date ? when(*spec->start_date) : "-")
          << "\nend_date: " << (spec->end_date ? when(*spec->end_date) : "-")
          << "\ncatchup: " << (spec->catchup ? "true" : "false") << "\nmax_active_runs: " << spec->max_active_runs
          << "\nmax_active_tasks: " << (spec->max_active_tasks > 0 ? std::to_string(spec->max_active_tasks) : "-")
          << "\ndagrun_timeout: " << (spec->dagrun_timeout > 0 ? format_duration(spec->dagrun_timeout) : "-")
          << "\nparams: " << spec->params.dump() << "\ntasks:\n";
  for (const auto& task : spec->tasks) {
    std::vector<std::string> ups;
    for (size_t up : task.upstream) ups.push_back(spec->tasks[up].id);
    ctx.out << "  " << task.id << " [" << task_kind_name(task.kind) << "]"
            << (task.group.empty() ? "" : " group=" + task.group)
            << (task.dbt_node.empty() ? "" : " node=" + task.dbt_node) << " trigger_rule="
            << trigger_rule_name(task.trigger_rule) << " retries=" << task.retry.retries << " pool=" << task.pool
            << " priority=" << task.priority << (ups.empty() ? "" : " after " + join(ups, ", "))
            << (task.outlets.empty() ? "" : " outlets=" + join(task.outlets, ", "))
            << (task.depends_on_past ? " depends_on_past" : "") << "\n";
  }
  return ok_status();
}

// Cancels one run in an executor until disarmed. Thread-safe.
class RunCanceller {
 public:
  RunCanceller(Executor* executor, RunRecord run) : executor_(executor), run_(std::move(run)) {}
  void cancel(const std::string& reason) {
    std::lock_guard lock(mutex_);
    if (executor_) executor_->cancel_run(run_.pipeline, run_.run_id, reason);
  }
  void disarm() {
    std::lock_guard lock(mutex_);
    executor_ = nullptr;
  }

 private:
  std::mutex mutex_;
  Executor* executor_;
  const RunRecord run_;
};

// `strata pipeline run NAME [--wait]`. With --wait, SIGINT/SIGTERM cancel the run as the API's
// cancel does (running attempts are stopped and recorded failed without retry, a sync's committed
// streams keep their report; tasks not started are skipped; the run fails), then the states are
// printed and the command exits 128 + the signal's number.
Status cmd_run(const PipelineArgs& args, CliContext& ctx) {
  // Before any thread starts, so that every thread leaves the signals to the watcher.
  std::optional<demo::InterruptWatcher> interrupts;
  if (args.wait) interrupts.emplace();
  STRATA_ASSIGN(auto rt, open_runtime(args, ctx));
  STRATA_TRY(find_pipeline(*rt, args.name));
  STRATA_ASSIGN(std::string params, params_json(args.params));
  STRATA_TRY(rt->start());
  STRATA_ASSIGN(RunRecord run, rt->scheduler().trigger(args.name, params));
  if (!args.wait) {
    ctx.out << run.run_id << " queued; `strata serve` runs it (or use --wait to run it here)\n";
    return ok_status();
  }
  STRATA_TRY(rt->scheduler().heartbeat());
  STRATA_TRY(rt->scheduler().start_now(run.pipeline, run.run_id));
  // The signal's action runs on the watcher's thread, which outlives the runtime: disarmed first.
  auto canceller = std::make_shared<RunCanceller>(&rt->executor(), run);
  struct Disarm {
    std::shared_ptr<RunCanceller> canceller;
    ~Disarm() { canceller->disarm(); }
  } disarm{canceller};
  interrupts->on_interrupt([canceller, watcher = &*interrupts] {
    canceller->cancel(std::string("interrupted by ") + (watcher->signal_number() == SIGTERM ? "SIGTERM" : "SIGINT"));
  });
  RunState state = rt->executor().wait(run.pipeline, run.run_id);
  ctx.out << run.run_id << " " << run_state_name(state) << "\n";
  print_task_states(*rt, run, ctx.out);
  if (interrupts->interrupted() && state != RunState::kSuccess) {
    ctx.interrupted_exit_code = interrupts->exit_code();
    return Error(ErrorCode::kCancelled,
                 "run " + run.run_id + " interrupted: its running tasks were stopped and recorded failed, the tasks "
                     "not started were skipped",
                 {}, "run it again with `strata pipeline run " + run.pipeline + "`");
  }
  if (state != RunState::kSuccess) return Error(ErrorCode::kFailed, "run " + run.run_id + " failed");
  return ok_status();
}

Result<int64_t> parse_date_arg(const std::string& text, const char* flag) {
  auto micros = parse_iso8601(text);
  if (!micros)
    return Error(ErrorCode::kUsage, std::string("bad ") + flag + " '" + text + "'",
                 {}, "write an ISO 8601 date such as 2026-01-01 or 2026-01-01T06:00:00Z");
  return *micros;
}

Status cmd_backfill(const PipelineArgs& args, CliContext& ctx) {
  STRATA_ASSIGN(int64_t from, parse_date_arg(args.from, "--from"));
  STRATA_ASSIGN(int64_t to, parse_date_arg(args.to, "--to"));
  STRATA_ASSIGN(auto rt, open_runtime(args, ctx));
  STRATA_TRY(find_pipeline(*rt, args.name));
  STRATA_TRY(rt->start());
  STRATA_ASSIGN(auto runs, rt->scheduler().backfill(args.name, from, to, args.rerun_failed));
  ctx.out << runs.size() << " run(s) queued\n";
  STRATA_TRY(rt->scheduler().heartbeat());
  // Only this backfill's runs: no tick(), which would create and start scheduled runs of every
  // pipeline and leave them behind when this process exits.
  std::vector<std::string> ids;
  for (const auto& run : runs) ids.push_back(run.run_id);
  bool failed = false;
  for (const auto& run : runs) {
    for (;;) {
      STRATA_TRY(rt->scheduler().start_runs(args.name, ids));
      if (rt->executor().wait_for(run.pipeline, run.run_id, 200)) break;
      STRATA_ASSIGN(auto current, rt->store().run(run.pipeline, run.run_id));
      if (current && (current->state == RunState::kSuccess || current->state == RunState::kFailed)) break;
    }
    STRATA_ASSIGN(auto done, rt->store().run(run.pipeline, run.run_id));
    const RunState state = done ? done->state : RunState::kFailed;
    failed = failed || state != RunState::kSuccess;
    ctx.out << run.run_id << " " << run_state_name(state) << "\n";
  }
  if (failed) return Error(ErrorCode::kFailed, "some backfill runs failed", {}, "re-run them with --rerun-failed");
  return ok_status();
}

Status cmd_pause(const PipelineArgs& args, CliContext& ctx, bool paused) {
  STRATA_ASSIGN(auto rt, open_runtime(args, ctx));
  STRATA_TRY(find_pipeline(*rt, args.name));
  STRATA_TRY(rt->store().set_paused(args.name, paused));
  ctx.out << args.name << (paused ? " paused\n" : " unpaused\n");
  return ok_status();
}

Status cmd_runs(const PipelineArgs& args, CliContext& ctx) {
  STRATA_ASSIGN(auto rt, open_runtime(args, ctx));
  STRATA_TRY(find_pipeline(*rt, args.name));
  STRATA_ASSIGN(auto runs, rt->store().runs(args.name, std::nullopt, args.limit));
  ctx.out << std::left << std::setw(50) << "RUN" << std::setw(19) << "TYPE" << std::setw(10) << "STATE"
          << std::setw(30) << "START" << "END\n";
  for (const auto& r : runs)
    ctx.out << std::setw(50) << r.run_id << std::setw(19) << run_type_name(r.type) << std::setw(10)
            << run_state_name(r.state) << std::setw(30) << when(r.start_at) << when(r.end_at)
            << (r.note.empty() ? "" : "  (" + r.note + ")") << "\n";
  return ok_status();
}

// The pipeline of a run named by its id: --pipeline when given, else the only pipeline that has a
// run with that id (run ids are unique per pipeline, not across pipelines).
Result<std::string> pipeline_of_run(Runtime& rt, const PipelineArgs& args) {
  if (!args.name.empty()) return args.name;
  STRATA_ASSIGN(auto runs, rt.store().runs_with_id(args.run_id));
  if (runs.empty())
    return Error(ErrorCode::kNotFound, "no run '" + args.run_id + "'", {}, "see `strata pipeline runs NAME` for run ids");
  if (runs.size() > 1) {
    std::vector<std::string> names;
    for (const auto& r : runs) names.push_back(r.pipeline);
    return Error(ErrorCode::kUsage, "run '" + args.run_id + "' exists in several pipelines: " + join(names, ", "), {},
                 "name one with --pipeline " + names.front());
  }
  return runs.front().pipeline;
}

Status cmd_logs(const PipelineArgs& args, CliContext& ctx) {
  STRATA_ASSIGN(auto rt, open_runtime(args, ctx));
  STRATA_ASSIGN(const std::string pipeline, pipeline_of_run(*rt, args));
  STRATA_ASSIGN(auto attempts, rt->store().attempts(pipeline, args.run_id, args.task_id));
  if (attempts.empty())
    return Error(ErrorCode::kNotFound, "no attempts of task '" + args.task_id + "' in run '" + args.run_id + "'", {},
                 "see `strata pipeline runs NAME` for run ids");
  const AttemptRecord* chosen = &attempts.back();
  for (const auto& a : attempts)
    if (a.try_number == args.try_number) chosen = &a;
  if (args.try_number > 0 && chosen->try_number != args.try_number)
    return Error(ErrorCode::kNotFound, "no try " + std::to_string(args.try_number), {},
                 "the task has " + std::to_string(attempts.size()) + " tries");
  std::ifstream in(chosen->log_path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "cannot read the log '" + chosen->log_path + "'");
  std::string line;
  for (;;) {
    while (std::getline(in, line)) ctx.out << line << "\n";
    ctx.out.flush();
    if (!args.follow) break;
    STRATA_ASSIGN(auto now, rt->store().attempts(pipeline, args.run_id, args.task_id));
    bool running = false;
    for (const auto& a : now)
      if (a.try_number == chosen->try_number)  // a sensor between pokes appends to this try's log again
        running = a.state == TaskState::kRunning || a.state == TaskState::kUpForReschedule;
    if (!running && in.eof()) {
      in.clear();
      while (std::getline(in, line)) ctx.out << line << "\n";
      break;
    }
    in.clear();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return ok_status();
}

Status cmd_datasets_list(const PipelineArgs& args, CliContext& ctx) {
  STRATA_ASSIGN(auto rt, open_runtime(args, ctx));
  auto uses = dataset_uses(rt->pipelines());
  STRATA_ASSIGN(auto summaries, rt->store().dataset_summaries());
  std::map<std::string, DatasetSummaryRecord> by_uri;
  for (const auto& s : summaries) {
    uses.try_emplace(s.uri);
    by_uri[s.uri] = s;
  }
  ctx.out << std::left << std::setw(40) << "DATASET" << std::setw(8) << "EVENTS" << std::setw(30) << "LAST EVENT"
          << "UPDATED BY / SCHEDULES\n";
  for (const auto& [uri, use] : uses) {
    auto s = by_uri.find(uri);
    std::vector<std::string> roles;
    for (const auto& [pipeline, task] : use.producers) roles.push_back(pipeline + "." + task);
    for (const auto& pipeline : use.consumers) roles.push_back("-> " + pipeline);
    ctx.out << std::setw(40) << uri << std::setw(8) << (s == by_uri.end() ? 0 : s->second.events) << std::setw(30)
            << (s == by_uri.end() ? "-" : when(s->second.last_at)) << join(roles, ", ") << "\n";
  }
  return ok_status();
}

Status cmd_datasets_events(const PipelineArgs& args, CliContext& ctx) {
  if (args.limit < 1) return Error(ErrorCode::kUsage, "--limit must be at least 1", {}, "e.g. --limit 25");
  STRATA_ASSIGN(auto rt, open_runtime(args, ctx));
  STRATA_ASSIGN(auto events, rt->store().dataset_events(args.uri, 0, args.limit));
  ctx.out << std::left << std::setw(8) << "ID" << std::setw(30) << "AT" << std::setw(40) << "DATASET" << "SOURCE\n";
  for (const auto& e : events) {
    const std::string source =
        e.source_pipeline.empty() ? "api" : e.source_pipeline + "." + e.source_task_id + " (" + e.source_run_id + ")";
    ctx.out << std::setw(8) << e.id << std::setw(30) << when(e.at) << std::setw(40) << e.uri << source << "\n";
  }
  return ok_status();
}

// `strata datasets event URI [--extra JSON]`: what POST /api/v1/datasets/events does, from a shell.
Status cmd_datasets_event(const PipelineArgs& args, CliContext& ctx) {
  if (std::string problem = dataset_uri_problem(args.uri); !problem.empty())
    return Error(ErrorCode::kUsage, problem, {}, "a dataset is a URI without spaces, in ASCII");
  nlohmann::json extra = args.extra.empty() ? nlohmann::json::object() : nlohmann::json::parse(args.extra, nullptr, false);
  if (!extra.is_object())
    return Error(ErrorCode::kUsage, "--extra must be a JSON object", {}, R"(e.g. --extra '{"rows": 42}')");
  STRATA_ASSIGN(auto rt, open_runtime(args, ctx));
  STRATA_TRY(check_known_dataset(args.uri, rt->pipelines()));
  DatasetEventRecord event;
  event.uri = args.uri;
  event.extra_json = extra.dump();
  const int64_t at = now_micros();
  STRATA_ASSIGN(int64_t id, rt->store().add_dataset_event(event, at));
  ctx.out << "dataset event " << id << " on " << args.uri << " at " << when(at)
          << "; pipelines scheduled on it run at their scheduler's next tick\n";
  return ok_status();
}

// A command whose subcommands share one PipelineArgs and its --project-dir.
struct CommandGroup {
  CLI::App* cmd;
  std::shared_ptr<PipelineArgs> args;
  CliContext& context;

  CLI::App* add(const char* name, const char* help, std::function<Status(const PipelineArgs&, CliContext&)> body) {
    auto* sub = cmd->add_subcommand(name, help);
    bind_action(*sub, context, [args = args, &context = context, body] { return body(*args, context); });
    return sub;
  }
};

CommandGroup command_group(CLI::App& app, CliContext& context, const char* name, const char* help) {
  auto args = std::make_shared<PipelineArgs>();
  auto* cmd = app.add_subcommand(name, help);
  cmd->require_subcommand(1);
  cmd->add_option("--project-dir", args->project_dir, "The project folder")->capture_default_str();
  return CommandGroup{cmd, args, context};
}

void register_datasets(CLI::App& app, CliContext& context) {
  CommandGroup group = command_group(app, context, "datasets", "Datasets: what tasks update and pipelines wait for");
  auto& args = group.args;
  auto add = [&](const char* name, const char* help, auto body) { return group.add(name, help, body); };
  add("list", "Every dataset: its events, the tasks that update it, the pipelines scheduled on it",
      cmd_datasets_list);
  auto* events = add("events", "Dataset events, newest first", cmd_datasets_events);
  events->add_option("URI", args->uri, "Only this dataset's");
  events->add_option("--limit", args->limit, "How many")->capture_default_str();
  auto* event = add("event", "Record an update of a dataset (as a task's outlet does)", cmd_datasets_event);
  event->add_option("URI", args->uri)->required();
  event->add_option("--extra", args->extra, "A JSON object stored with the event");
}

}  // namespace

void register_pipeline(CLI::App& app, CliContext& context) {
  CommandGroup group =
      command_group(app, context, "pipeline", "List, run, backfill and inspect pipelines (pipelines/*.yml)");
  auto& args = group.args;
  auto add = [&](const char* name, const char* help, auto body) { return group.add(name, help, body); };
  add("list", "Every pipeline with its schedule and last run", cmd_list);
  add("show", "A pipeline's settings and tasks", cmd_show)->add_option("NAME", args->name)->required();
  auto* run = add("run", "Trigger a manual run", cmd_run);
  run->add_option("NAME", args->name)->required();
  run->add_option("--param", args->params, "A param override name=value (repeatable)");
  run->add_flag("--wait", args->wait, "Run it in this process and wait for the end");
  auto* backfill = add("backfill", "Run every interval between two dates", cmd_backfill);
  backfill->add_option("NAME", args->name)->required();
  backfill->add_option("--from", args->from, "First logical date (ISO 8601)")->required();
  backfill->add_option("--to", args->to, "Last logical date (ISO 8601)")->required();
  backfill->add_flag("--rerun-failed", args->rerun_failed, "Re-run runs of the range that failed");
  add("pause", "Stop scheduling a pipeline", [](const PipelineArgs& a, CliContext& c) { return cmd_pause(a, c, true); })
      ->add_option("NAME", args->name)->required();
  add("unpause", "Resume scheduling a pipeline",
      [](const PipelineArgs& a, CliContext& c) { return cmd_pause(a, c, false); })
      ->add_option("NAME", args->name)->required();
  auto* runs = add("runs", "The runs of a pipeline, newest first", cmd_runs);
  runs->add_option("NAME", args->name)->required();
  runs->add_option("--limit", args->limit, "How many")->capture_default_str();
  auto* logs = add("logs", "A task attempt's log", cmd_logs);
  logs->add_option("RUN", args->run_id)->required();
  logs->add_option("TASK", args->task_id)->required();
  logs->add_option("--try", args->try_number, "Which try (default: the latest)");
  logs->add_option("--pipeline", args->name, "The run's pipeline (needed when several pipelines have a run RUN)");
  logs->add_flag("--follow", args->follow, "Keep printing while the attempt runs");
  register_datasets(app, context);
}

}  // namespace strata::cli

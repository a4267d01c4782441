#include "cli/demo/demo_stages.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "cli/demo/process.h"
#include "common/strings.h"
#include "pg/conninfo.h"

namespace strata::cli::demo {
namespace fs = std::filesystem;

Result<std::string> find_project(const std::string& explicit_dir) {
  std::vector<fs::path> candidates;
  if (!explicit_dir.empty()) {
    candidates.push_back(explicit_dir);
  } else {
    candidates.push_back(fs::current_path() / "examples" / "novadrive");
    const fs::path exe_dir = fs::path(self_executable()).parent_path();
    candidates.push_back(exe_dir.parent_path() / "examples" / "novadrive");
    candidates.push_back(exe_dir.parent_path().parent_path() / "examples" / "novadrive");
  }
  std::vector<std::string> tried;
  for (const auto& dir : candidates) {
    std::error_code ec;
    if (fs::exists(dir / "dbt_project.yml", ec)) return fs::absolute(dir).lexically_normal().string();
    tried.push_back(dir.string());
  }
  return Error(ErrorCode::kNotFound, "the NovaDrive project was not found (looked in " + join(tried, ", ") + ")", {},
               "run from the repository's root folder, or pass --project PATH/TO/examples/novadrive");
}

Result<std::map<std::string, std::string>> source_env(const std::string& url) {
  STRATA_ASSIGN(auto params, pg::ConnParams::parse(url));
  std::map<std::string, std::string> env;
  env["NOVADRIVE_PG_HOST"] = params.get("host", "127.0.0.1");
  env["NOVADRIVE_PG_PORT"] = params.get("port", "5432");
  env["NOVADRIVE_PG_DATABASE"] = params.get("dbname", "novadrive");
  env["NOVADRIVE_PG_USER"] = params.get("user", "postgres");
  env["NOVADRIVE_PG_PASSWORD"] = params.get("password", "");
  env["NOVADRIVE_PG_SSLMODE"] = params.get("sslmode", "prefer");
  return env;
}

bool has_subcommand(const std::string& strata_binary, const std::string& name) {
  char path[] = "/tmp/strata-help-XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return false;
  ::close(fd);
  SpawnOptions options;
  options.output_path = path;
  auto rc = run_process({strata_binary, "--help"}, options);
  std::string help;
  read_file(path, help);
  ::unlink(path);
  return rc.ok() && *rc == 0 && help.find("\n  " + name + " ") != std::string::npos;
}

std::vector<Stage> pipeline_stages(const std::string& strata_binary, const std::string& /*project_dir*/) {
  // The orchestrator runs build tasks through the transform module, so it needs `build` too.
  if (has_subcommand(strata_binary, "pipeline") && has_subcommand(strata_binary, "build"))
    return {{"pipeline", {"pipeline", "run", "novadrive_hourly", "--wait"}}};
  return {
      {"sync", {"sync", "novadrive"}},
      {"silver", {"build", "--select", "tag:silver"}},
      {"gold", {"build", "--select", "tag:gold"}},
  };
}

Result<StageResult> run_stage(const std::string& strata_binary, const Stage& stage, const std::string& project_dir,
                              const std::map<std::string, std::string>& env, const std::string& log_path,
                              const InterruptWatcher& watcher) {
  StageResult result;
  result.name = stage.name;
  result.log_path = log_path;
  const std::string run_results = project_dir + "/target/run_results.json";
  std::error_code ignored;
  fs::remove(run_results, ignored);

  SpawnOptions options;
  options.cwd = project_dir;
  options.env = env;
  options.output_path = log_path;
  options.new_group = true;
  std::vector<std::string> args = {strata_binary};
  args.insert(args.end(), stage.args.begin(), stage.args.end());
  const auto started = std::chrono::steady_clock::now();
  STRATA_ASSIGN(pid_t pid, spawn_process(args, options));
  std::optional<int> code;
  while (!(code = wait_process_for(pid, std::chrono::milliseconds(200)))) {
    if (!watcher.interrupted()) continue;
    ::kill(-pid, SIGINT);
    code = wait_process_for(pid, std::chrono::seconds(10));
    if (!code) {
      ::kill(-pid, SIGKILL);
      wait_process(pid);
    }
    return Error(ErrorCode::kCancelled, "interrupted during the " + stage.name + " stage");
  }
  result.exit_code = *code;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result.tests = read_test_results(run_results);
  return result;
}

TestTally read_test_results(const std::string& run_results_path) {
  TestTally tally;
  std::string text;
  if (!read_file(run_results_path, text)) return tally;
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("results") || !json["results"].is_array()) return tally;
  for (const auto& r : json["results"]) {
    const std::string id = r.value("unique_id", "");
    if (!starts_with(id, "test.")) continue;
    const std::string status = r.value("status", "");
    if (status == "pass") {
      ++tally.passed;
    } else if (status == "warn") {
      ++tally.warned;
    } else if (status == "fail" || status == "error") {
      ++tally.failed;
    }
  }
  return tally;
}

std::string self_executable() {
  std::error_code ec;
  auto path = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("strata") : path.string();
}

std::string file_tail(const std::string& path, int lines) {
  std::string text;
  if (!read_file(path, text)) return {};
  size_t pos = text.size();
  int seen = 0;
  while (pos > 0) {
    --pos;
    if (text[pos] == '\n' && pos + 1 < text.size() && ++seen > lines) return text.substr(pos + 1);
  }
  return text;
}

}  // namespace strata::cli::demo

#pragma once
// The pieces of `strata demo` between "the ERP exists" and "print the summary": finding the
// example project, the environment that points the project at the demo's source, running the
// pipeline's stages as child `strata` processes (so every stage uses exactly the code a user runs,
// and Ctrl-C can stop a stage cleanly by signalling its process group), reading the tests'
// results from dbt's run_results.json, and counting rows per layer in the DuckDB warehouse.
// Thread-compatible.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cli/demo/interrupt_watcher.h"
#include "common/result.h"

namespace strata::cli::demo {

// The NovaDrive project folder: `explicit_dir` when given (must hold dbt_project.yml), else
// examples/novadrive under the working folder or next to the executable's build folder.
// Errors: kNotFound with the folders tried.
Result<std::string> find_project(const std::string& explicit_dir);

// NOVADRIVE_PG_* variables (host, port, database, user, password, sslmode) for a PostgreSQL URL
// or conninfo, as connections/novadrive.yml reads them. Errors: kConfig when it does not parse.
Result<std::map<std::string, std::string>> source_env(const std::string& url);

// One step of the demo run: `strata <args…>` started in the project folder.
struct Stage {
  std::string name;   // "sync", "silver", "gold", "pipeline"
  std::vector<std::string> args;
};

// Test counts from run_results.json files.
struct TestTally {
  std::int64_t passed = 0, warned = 0, failed = 0;
  void add(const TestTally& other) { passed += other.passed; warned += other.warned; failed += other.failed; }
};

struct StageResult {
  std::string name;
  int exit_code = 0;
  double seconds = 0;
  std::string log_path;
  TestTally tests;  // from the project's target/run_results.json when the stage wrote one
};

// True when `strata --help` lists the subcommand `name`.
bool has_subcommand(const std::string& strata_binary, const std::string& name);

// The stages of one pipeline run: `strata pipeline run novadrive_hourly --wait` when the binary has
// the pipeline and build commands, else sync, build of the silver models, build of the gold models.
std::vector<Stage> pipeline_stages(const std::string& strata_binary, const std::string& project_dir);

// Runs one stage with `env` added to the environment; output goes to `log_path`. On Ctrl-C the
// stage's process group gets SIGINT, then SIGKILL after 10 s. Errors: kFailed when it cannot be
// started; kCancelled when interrupted. A stage that ran and failed is a result with exit_code != 0.
Result<StageResult> run_stage(const std::string& strata_binary, const Stage& stage, const std::string& project_dir,
                              const std::map<std::string, std::string>& env, const std::string& log_path,
                              const InterruptWatcher& watcher);

// The tests of a run_results.json (dbt's artifact): nodes whose unique_id starts with "test.".
// A missing or unreadable file counts nothing.
TestTally read_test_results(const std::string& run_results_path);

// The path of the running executable (/proc/self/exe).
std::string self_executable();

// Last `lines` lines of a text file ("" when unreadable).
std::string file_tail(const std::string& path, int lines);

}  // namespace strata::cli::demo

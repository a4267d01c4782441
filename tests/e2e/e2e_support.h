#pragma once
// Helpers for the end-to-end tests: run the built `strata` binary (output captured), a private
// copy of examples/novadrive per test, SQL against PostgreSQL and the DuckDB warehouse as
// sorted text rows so two sides can be compared exactly. Failures throw std::runtime_error
// (GoogleTest reports them); thread-compatible.

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace strata::testing {

// The `strata` executable of this build.
std::string strata_binary();

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs `strata args…` in `cwd` with `env` added to the environment; waits at most `timeout_s`
// (then kills it and fails).
CommandResult run_strata(const std::vector<std::string>& args, const std::map<std::string, std::string>& env = {},
                         const std::string& cwd = {}, int timeout_s = 600);

// A copy of examples/novadrive (without .strata/ and target/) in a fresh temp folder.
class ProjectCopy {
 public:
  ProjectCopy();
  const std::string& dir() const { return dir_; }
  // NOVADRIVE_PG_* for the given database of the shared cluster, and the DuckDB path inside the copy.
  std::map<std::string, std::string> env(const std::string& database) const;
  std::string duckdb_path() const { return dir_ + "/.strata/novadrive.duckdb"; }

 private:
  TempDir temp_;
  std::string dir_;
};

// Rows of a query as "a|b|c" strings, sorted. NULL is "∅".
std::vector<std::string> pg_rows(const std::string& conninfo, const std::string& sql);
std::vector<std::string> duck_rows(const std::string& duckdb_path, const std::string& sql);

}  // namespace strata::testing

#pragma once
// Errors and results for expected failures. An Error carries a code (which decides the process
// exit code), a message, an optional position in a user's file, and an optional hint saying what
// would fix it. Programming errors are exceptions or assertions, never Errors.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace strata {

// Why something failed. Exit codes follow DESIGN.md: 1 a run failed, 2 bad usage or
// configuration, 3 a database could not be reached.
enum class ErrorCode : std::uint8_t {
  kFailed,       // a run, sync, query or test failed (exit 1)
  kUsage,        // bad command line (exit 2)
  kConfig,       // bad project or configuration file (exit 2)
  kConnection,   // a database or server could not be reached (exit 3)
  kNotFound,     // a named thing does not exist (exit 2)
  kCancelled,    // stopped by a timeout or a user (exit 1)
  kInternal,     // an invariant broke; a bug (exit 1)
};

// A position in a user's file; line and column are 1-based, 0 when unknown.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;

  bool empty() const { return file.empty() && line == 0; }
  // "file:line:col", "file:line", "file" or "" depending on what is known.
  std::string to_string() const;
};

// An expected failure. Copyable value type; thread-compatible.
class Error {
 public:
  Error(ErrorCode code, std::string message, SourceLocation where = {}, std::string hint = {})
      : code_(code), message_(std::move(message)), where_(std::move(where)), hint_(std::move(hint)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const SourceLocation& where() const { return where_; }
  const std::string& hint() const { return hint_; }
  // SQLSTATE or a similar machine code from a server; empty when none.
  const std::string& state() const { return state_; }

  Error& with_hint(std::string hint) & { hint_ = std::move(hint); return *this; }
  Error&& with_hint(std::string hint) && { hint_ = std::move(hint); return std::move(*this); }
  Error& at(SourceLocation where) & { where_ = std::move(where); return *this; }
  Error&& at(SourceLocation where) && { where_ = std::move(where); return std::move(*this); }
  Error&& with_state(std::string state) && { state_ = std::move(state); return std::move(*this); }
  // A failure that no retry can fix (Airflow's AirflowFailException, or a sensor's timeout): the
  // orchestrator fails the task at once, whatever retries it has left.
  bool is_final() const { return final_; }
  Error&& as_final() && {
    final_ = true;
    return std::move(*this);
  }
  // Prepends context: "context: message".
  Error&& context(const std::string& context) && {
    message_ = context + ": " + message_;
    return std::move(*this);
  }

  // "file:line:col: error: message\n  hint: ..." — what the CLI prints.
  std::string to_string() const;
  // The process exit code for this error (1, 2 or 3).
  int exit_code() const;

 private:
  ErrorCode code_;
  std::string message_;
  SourceLocation where_;
  std::string hint_;
  std::string state_;
  bool final_ = false;
};

}  // namespace strata

#pragma once
// Logger: levelled log lines to any number of sinks (stderr, files, callbacks), every line passed
// through a SecretMasker first so no registered secret is ever written. Thread-safe. Loggers are
// values passed to whoever logs (no global logger); child() shares sinks and masker.

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "common/secrets.h"

namespace strata {

enum class LogLevel { kDebug, kInfo, kWarn, kError };

std::string_view log_level_name(LogLevel level);

// Receives finished, already masked lines (without trailing newline).
using LogSink = std::function<void(LogLevel, std::string_view line)>;

class Logger {
 public:
  explicit Logger(SecretMaskerPtr masker = std::make_shared<SecretMasker>(), LogLevel level = LogLevel::kInfo);

  // Adds a sink; sinks live as long as the logger and its children.
  void add_sink(LogSink sink);
  // A sink writing "TIME LEVEL [scope] message" lines to a FILE* it does not own.
  static LogSink file_sink(std::FILE* file);

  // A logger with the same sinks and masker, and a scope prefix.
  Logger child(std::string scope) const;

  void set_level(LogLevel level) { state_->level = level; }
  LogLevel level() const { return state_->level; }
  const SecretMaskerPtr& masker() const { return state_->masker; }

  void log(LogLevel level, std::string_view message) const;
  template <typename... Args>
  void debug(fmt::format_string<Args...> f, Args&&... a) const { logf(LogLevel::kDebug, f, std::forward<Args>(a)...); }
  template <typename... Args>
  void info(fmt::format_string<Args...> f, Args&&... a) const { logf(LogLevel::kInfo, f, std::forward<Args>(a)...); }
  template <typename... Args>
  void warn(fmt::format_string<Args...> f, Args&&... a) const { logf(LogLevel::kWarn, f, std::forward<Args>(a)...); }
  template <typename... Args>
  void error(fmt::format_string<Args...> f, Args&&... a) const { logf(LogLevel::kError, f, std::forward<Args>(a)...); }

 private:
  struct State {
    SecretMaskerPtr masker;
    LogLevel level;
    std::mutex mutex;
    std::vector<LogSink> sinks;
  };
  template <typename... Args>
  void logf(LogLevel level, fmt::format_string<Args...> f, Args&&... a) const {
    if (level < state_->level) return;
    log(level, fmt::format(f, std::forward<Args>(a)...));
  }

  std::shared_ptr<State> state_;
  std::string scope_;
};

}  // namespace strata

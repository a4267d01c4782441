#include "common/log.h"

#include "common/time.h"

namespace strata {

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarn: return "WARN";
    case LogLevel::kError: return "ERROR";
  }
  return "INFO";
}

Logger::Logger(SecretMaskerPtr masker, LogLevel level) : state_(std::make_shared<State>()) {
  state_->masker = std::move(masker);
  state_->level = level;
}

void Logger::add_sink(LogSink sink) {
  std::lock_guard lock(state_->mutex);
  state_->sinks.push_back(std::move(sink));
}

LogSink Logger::file_sink(std::FILE* file) {
  return [file](LogLevel level, std::string_view line) {
    std::string text = format_iso8601(now_micros(), true) + " " + std::string(log_level_name(level)) + " " +
                       std::string(line) + "\n";
    std::fwrite(text.data(), 1, text.size(), file);
    std::fflush(file);
  };
}

Logger Logger::child(std::string scope) const {
  Logger out = *this;
  out.scope_ = scope_.empty() ? std::move(scope) : scope_ + "." + scope;
  return out;
}

void Logger::log(LogLevel level, std::string_view message) const {
  if (level < state_->level) return;
  std::string line = scope_.empty() ? std::string(message) : "[" + scope_ + "] " + std::string(message);
  line = state_->masker->mask(line);
  std::lock_guard lock(state_->mutex);
  for (const auto& sink : state_->sinks) sink(level, line);
}

}  // namespace strata

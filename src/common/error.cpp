#include "common/error.h"

namespace strata {

std::string SourceLocation::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out;
}

std::string Error::to_string() const {
  std::string out;
  if (!where_.empty()) out += where_.to_string() + ": ";
  out += "error: " + message_;
  if (!hint_.empty()) out += "\n  hint: " + hint_;
  return out;
}

int Error::exit_code() const {
  switch (code_) {
    case ErrorCode::kUsage:
    case ErrorCode::kConfig:
    case ErrorCode::kNotFound:
      return 2;
    case ErrorCode::kConnection:
      return 3;
    case ErrorCode::kFailed:
    case ErrorCode::kCancelled:
    case ErrorCode::kInternal:
      return 1;
  }
  return 1;
}

}  // namespace strata

#include "common/secrets.h"

#include <algorithm>

namespace strata {

void SecretMasker::add(std::string_view secret) {
  if (secret.size() < 3) return;
  std::lock_guard lock(mutex_);
  if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  secrets_.emplace_back(secret);
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

bool SecretMasker::empty() const {
  std::lock_guard lock(mutex_);
  return secrets_.empty();
}

std::string SecretMasker::mask(std::string_view text) const {
  std::lock_guard lock(mutex_);
  std::string out(text);
  for (const auto& secret : secrets_) {
    size_t pos = 0;
    while ((pos = out.find(secret, pos)) != std::string::npos) {
      out.replace(pos, secret.size(), "****");
      pos += 4;
    }
  }
  return out;
}

}  // namespace strata

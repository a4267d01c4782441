#pragma once
// SecretMasker: the set of secret values (passwords, tokens) registered at run time. mask()
// replaces every occurrence of any of them with "****". Thread-safe: register and mask may be
// called from any thread. Secrets shorter than 3 characters are not registered (they would mask
// ordinary text); they are still never printed by Strata's own code.

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace strata {

class SecretMasker {
 public:
  void add(std::string_view secret);
  std::string mask(std::string_view text) const;
  bool empty() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> secrets_;  // longest first, so overlapping secrets mask whole
};

using SecretMaskerPtr = std::shared_ptr<SecretMasker>;

}  // namespace strata

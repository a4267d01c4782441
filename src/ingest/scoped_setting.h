#pragma once
// ScopedSetting: a DuckDB setting changed for the length of a scope (a stream's sync), and put
// back afterwards. Internal to the ingest module.

#include <optional>
#include <string>

#include "warehouse/warehouse.h"

namespace strata::ingest {

// Sets a DuckDB setting and puts the previous value back when destroyed; does nothing for an
// empty value or another warehouse, and leaves the setting alone when it cannot be read.
class ScopedSetting {
 public:
  ScopedSetting(warehouse::Warehouse& wh, std::string name, const std::string& value)
      : wh_(wh), name_(std::move(name)) {
    if (value.empty() || wh.dialect().id() != sql::DialectId::kDuckDb) return;
    std::optional<std::string> current = get();
    if (!current || current->empty()) return;
    // DuckDB shows some settings rounded (memory_limit "18.8 GiB" for 18.84 GiB): setting that text
    // back would drift, so the default comes back through RESET when that is what it was.
    reset_restores_ = wh.execute("RESET " + name_).ok() && get() == current;
    previous_ = *current;
    if (!reset_restores_) (void)set(previous_);
    if (!set(value)) previous_.clear();
  }
  ~ScopedSetting() {
    if (previous_.empty()) return;
    if (reset_restores_) {
      (void)wh_.execute("RESET " + name_);
    } else {
      (void)set(previous_);
    }
  }
  // Sets another value (kept until destruction) when the constructor's took effect.
  void change(const std::string& value) {
    if (!previous_.empty()) (void)set(value);
  }
  ScopedSetting(const ScopedSetting&) = delete;
  ScopedSetting& operator=(const ScopedSetting&) = delete;

 private:
  std::optional<std::string> get() {
    auto current = wh_.query("SELECT current_setting(" + wh_.dialect().quote_string(name_) + ")");
    if (!current.ok() || current->num_rows() != 1) return std::nullopt;
    return current->cell_text(0, 0);
  }
  bool set(const std::string& value) {
    return wh_.execute("SET " + name_ + " = " + wh_.dialect().quote_string(value)).ok();
  }

  warehouse::Warehouse& wh_;
  std::string name_;
  std::string previous_;
  bool reset_restores_ = false;
};

}  // namespace strata::ingest

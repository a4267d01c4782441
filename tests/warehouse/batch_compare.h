#pragma once
// Test helpers: value-by-value comparison of columns, and a small batch builder.

#include <gtest/gtest.h>

#include <string>

#include "sql/column_batch.h"

namespace strata::testing {

// True when row ra of a and row rb of b hold the same value (NULLs equal, lists element-wise,
// fixed-width types byte for byte). Writes the difference to *why.
inline bool same_value(const sql::Column& a, size_t ra, const sql::Column& b, size_t rb, std::string* why) {
  if (a.type() != b.type()) {
    *why = "types differ: " + a.type().to_string() + " vs " + b.type().to_string();
    return false;
  }
  if (a.is_null(ra) || b.is_null(rb)) {
    if (a.is_null(ra) != b.is_null(rb)) *why = "one side is NULL";
    return a.is_null(ra) == b.is_null(rb);
  }
  if (a.type().is_variable_width()) {
    if (a.get_bytes(ra) != b.get_bytes(rb)) {
      *why = "bytes differ (sizes " + std::to_string(a.get_bytes(ra).size()) + " / " +
             std::to_string(b.get_bytes(rb).size()) + ")";
      return false;
    }
    return true;
  }
  if (a.type().id() == sql::TypeId::kList) {
    auto [ab, ae] = a.list_range(ra);
    auto [bb, be] = b.list_range(rb);
    if (ae - ab != be - bb) {
      *why = "list lengths differ: " + std::to_string(ae - ab) + " vs " + std::to_string(be - bb);
      return false;
    }
    for (uint64_t i = 0; i < ae - ab; ++i) {
      if (!same_value(a.child(), ab + i, b.child(), bb + i, why)) {
        *why = "list element " + std::to_string(i) + ": " + *why;
        return false;
      }
    }
    return true;
  }
  if (std::memcmp(a.raw(ra), b.raw(rb), a.type().fixed_width()) != 0) {
    *why = "fixed-width bytes differ";
    return false;
  }
  return true;
}

}  // namespace strata::testing

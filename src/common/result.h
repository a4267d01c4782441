#pragma once
// Result<T>: a value or an Error. Status is Result<void>. Accessing the wrong alternative is a
// programming error and aborts (std::bad_variant_access).

#include <type_traits>
#include <utility>
#include <variant>

#include "common/error.h"

namespace strata {

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : data_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(data_); }
  Error&& error() && { return std::get<1>(std::move(data_)); }

  template <typename U>
  T value_or(U&& fallback) const& { return ok() ? value() : static_cast<T>(std::forward<U>(fallback)); }

 private:
  std::variant<T, Error> data_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), has_error_(true) {}  // NOLINT

  bool ok() const { return !has_error_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_{ErrorCode::kInternal, ""};
  bool has_error_ = false;
};

using Status = Result<void>;

inline Status ok_status() { return Status(); }

}  // namespace strata

// Propagates an error from an expression returning Result<...> or Status.
#define STRATA_CONCAT_INNER(a, b) a##b
#define STRATA_CONCAT(a, b) STRATA_CONCAT_INNER(a, b)
#define STRATA_TRY(expr)                                  \
  do {                                                    \
    auto&& strata_try_result_ = (expr);                   \
    if (!strata_try_result_.ok())                         \
      return std::move(strata_try_result_).error();       \
  } while (0)
// STRATA_ASSIGN(auto x, expr): declares x from a Result's value or returns its error.
#define STRATA_ASSIGN(decl, expr) STRATA_ASSIGN_IMPL(STRATA_CONCAT(strata_res_, __LINE__), decl, expr)
#define STRATA_ASSIGN_IMPL(tmp, decl, expr)   \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return std::move(tmp).error(); \
  decl = std::move(tmp).value()

#pragma once
// RAII owners for DuckDB C API handles. Each owns exactly one handle and destroys it with the
// matching duckdb_destroy_* / duckdb_close / duckdb_disconnect call. Move-only; not thread-safe.

#include <duckdb.h>

#include <utility>

namespace strata::warehouse::duckdb_detail {

// Handle: the duckdb_* handle type; Destroy: a function taking Handle*.
template <typename Handle, void (*Destroy)(Handle*)>
class Owned {
 public:
  Owned() = default;
  explicit Owned(Handle h) : handle_(h) {}
  ~Owned() { reset(); }
  Owned(Owned&& other) noexcept : handle_(std::exchange(other.handle_, Handle{})) {}
  Owned& operator=(Owned&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, Handle{});
    }
    return *this;
  }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;

  Handle get() const { return handle_; }
  // For C functions that fill an out-parameter; releases any handle held first.
  Handle* out() {
    reset();
    return &handle_;
  }
  explicit operator bool() const { return handle_ != Handle{}; }
  void reset() {
    if (handle_ != Handle{}) Destroy(&handle_);
    handle_ = Handle{};
  }

 private:
  Handle handle_{};
};

inline void destroy_appender(duckdb_appender* a) { duckdb_appender_destroy(a); }

using DatabaseHandle = Owned<duckdb_database, duckdb_close>;
using ConnectionHandle = Owned<duckdb_connection, duckdb_disconnect>;
using ConfigHandle = Owned<duckdb_config, duckdb_destroy_config>;
using LogicalTypeHandle = Owned<duckdb_logical_type, duckdb_destroy_logical_type>;
using DataChunkHandle = Owned<duckdb_data_chunk, duckdb_destroy_data_chunk>;
using PreparedHandle = Owned<duckdb_prepared_statement, duckdb_destroy_prepare>;
using ExtractedHandle = Owned<duckdb_extracted_statements, duckdb_destroy_extracted>;
using PendingHandle = Owned<duckdb_pending_result, duckdb_destroy_pending>;
using AppenderHandle = Owned<duckdb_appender, destroy_appender>;
using TableDescriptionHandle = Owned<duckdb_table_description, duckdb_table_description_destroy>;

// duckdb_result is a struct, not a pointer: it gets its own small owner.
class ResultHandle {
 public:
  ResultHandle() = default;
  ~ResultHandle() { reset(); }
  ResultHandle(const ResultHandle&) = delete;
  ResultHandle& operator=(const ResultHandle&) = delete;

  duckdb_result* out() {
    reset();
    filled_ = true;
    return &result_;
  }
  duckdb_result* get() { return &result_; }
  void reset() {
    if (filled_) duckdb_destroy_result(&result_);
    filled_ = false;
  }

 private:
  duckdb_result result_{};
  bool filled_ = false;
};

}  // namespace strata::warehouse::duckdb_detail

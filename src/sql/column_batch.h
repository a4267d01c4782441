#pragma once
// Column and ColumnBatch: rows held column by column with a validity byte per row. Sources
// produce them, warehouse writers consume them. Representation per type: see logical_type.h.
// Not thread-safe; a batch is owned and filled by one thread, then handed over.

#include <cassert>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sql/byte_buffer.h"
#include "sql/logical_type.h"

namespace strata::sql {

// One named, typed column of a relation's schema.
struct ColumnSchema {
  std::string name;
  LogicalType type;
  bool nullable = true;
};
using Schema = std::vector<ColumnSchema>;

class Column {
 public:
  explicit Column(LogicalType type);
  Column(Column&&) noexcept = default;
  Column& operator=(Column&&) noexcept = default;
  Column(const Column& other);
  Column& operator=(const Column& other);

  const LogicalType& type() const { return type_; }
  size_t size() const { return validity_.size(); }
  bool is_null(size_t row) const { return validity_.data()[row] == 0; }
  bool has_nulls() const;
  // 1 byte per row: 1 valid, 0 NULL.
  const uint8_t* validity() const { return validity_.data(); }

  void append_null() {
    validity_.push_back(0);
    if (width_ > 0) {
      fixed_.append_zeros(width_);
    } else {
      offsets_.push_back(offsets_.back());
    }
  }
  // Fixed-width value; T must have the type's fixed_width() (see logical_type.h).
  template <typename T>
  void append(const T& value) {
    assert(sizeof(T) == width_);
    fixed_.append(&value, sizeof(T));
    validity_.push_back(1);
  }
  // Fixed-width value given as raw bytes of the type's width.
  void append_raw(const void* data);
  // Variable-width value (VARCHAR, JSON, BLOB).
  void append_bytes(std::string_view bytes) {
    assert(type_.is_variable_width());
    heap_.append(bytes.data(), bytes.size());
    offsets_.push_back(heap_.size());
    validity_.push_back(1);
  }
  // LIST: append the elements to child() first, then call append_list() to close the row; it takes
  // every child element appended since the previous row.
  void append_list();
  Column& child() { return *child_; }
  const Column& child() const { return *child_; }

  template <typename T>
  T get(size_t row) const {
    assert(sizeof(T) == width_);
    T out;
    std::memcpy(&out, fixed_.data() + row * width_, sizeof(T));
    return out;
  }
  const uint8_t* raw(size_t row) const { return fixed_data() + row * width_; }
  const uint8_t* fixed_data() const { return fixed_.data(); }
  // The variable-width values of every row, back to back (row r is [offsets[r], offsets[r+1])).
  const char* heap_data() const { return reinterpret_cast<const char*>(heap_.data()); }
  const uint64_t* offsets() const { return offsets_.data(); }
  std::string_view get_bytes(size_t row) const {
    return std::string_view(heap_data() + offsets_[row], offsets_[row + 1] - offsets_[row]);
  }
  // [begin, end) rows of child() for a LIST row.
  std::pair<uint64_t, uint64_t> list_range(size_t row) const { return {offsets_[row], offsets_[row + 1]}; }

  // Approximate bytes held, for progress and memory bounds.
  size_t byte_size() const;
  void clear();
  // Room for `rows` more rows without reallocation; `heap_bytes` for their variable-width values.
  void reserve(size_t rows, size_t heap_bytes = 0);
  // Bytes of variable-width values held (the heap), e.g. to size the next batch's reserve().
  size_t heap_size() const { return heap_.size(); }

 private:
  LogicalType type_;
  size_t width_ = 0;
  ByteBuffer validity_;
  ByteBuffer fixed_;               // fixed-width values back to back
  std::vector<uint64_t> offsets_;  // variable-width and LIST: size()+1 entries
  ByteBuffer heap_;                // variable-width values back to back
  std::unique_ptr<Column> child_;
};

class ColumnBatch {
 public:
  ColumnBatch() = default;
  explicit ColumnBatch(const Schema& schema);

  size_t num_columns() const { return columns_.size(); }
  // Rows in the batch; every column has this many once a row is complete.
  size_t num_rows() const { return columns_.empty() ? 0 : columns_[0].size(); }
  Column& column(size_t i) { return columns_[i]; }
  const Column& column(size_t i) const { return columns_[i]; }
  const std::string& name(size_t i) const { return names_[i]; }
  const std::vector<std::string>& names() const { return names_; }
  Schema schema() const;
  void add_column(std::string name, LogicalType type);

  size_t byte_size() const;
  void clear();

 private:
  std::vector<std::string> names_;
  std::vector<Column> columns_;
};

// Rows per batch that sources aim for (DuckDB's vector size is 2048).
inline constexpr size_t kBatchRows = 2048;

}  // namespace strata::sql

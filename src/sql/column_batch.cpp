#include "sql/column_batch.h"

#include <algorithm>

namespace strata::sql {

Column::Column(LogicalType type) : type_(std::move(type)), width_(type_.fixed_width()) {
  if (width_ == 0) offsets_.push_back(0);
  if (type_.id() == TypeId::kList) child_ = std::make_unique<Column>(type_.child());
}

Column::Column(const Column& other)
    : type_(other.type_),
      width_(other.width_),
      validity_(other.validity_),
      fixed_(other.fixed_),
      offsets_(other.offsets_),
      heap_(other.heap_),
      child_(other.child_ ? std::make_unique<Column>(*other.child_) : nullptr) {}

Column& Column::operator=(const Column& other) {
  if (this != &other) *this = Column(other);
  return *this;
}

bool Column::has_nulls() const {
  return std::find(validity_.begin(), validity_.end(), 0) != validity_.end();
}

void Column::append_null() {
  validity_.push_back(0);
  if (width_ > 0) {
    fixed_.resize(fixed_.size() + width_, 0);
  } else {
    offsets_.push_back(offsets_.back());
  }
}

void Column::append_raw(const void* data) {
  size_t at = fixed_.size();
  fixed_.resize(at + width_);
  std::memcpy(fixed_.data() + at, data, width_);
  validity_.push_back(1);
}

void Column::append_bytes(std::string_view bytes) {
  assert(type_.is_variable_width());
  heap_.append(bytes);
  offsets_.push_back(heap_.size());
  validity_.push_back(1);
}

void Column::append_list() {
  assert(type_.id() == TypeId::kList);
  offsets_.push_back(child_->size());
  validity_.push_back(1);
}

size_t Column::byte_size() const {
  return validity_.size() + fixed_.size() + offsets_.size() * sizeof(uint64_t) + heap_.size() +
         (child_ ? child_->byte_size() : 0);
}

void Column::clear() {
  validity_.clear();
  fixed_.clear();
  heap_.clear();
  offsets_.clear();
  if (width_ == 0) offsets_.push_back(0);
  if (child_) child_->clear();
}

void Column::reserve(size_t rows) {
  validity_.reserve(rows);
  if (width_ > 0) fixed_.reserve(rows * width_);
  else offsets_.reserve(rows + 1);
}

ColumnBatch::ColumnBatch(const Schema& schema) {
  for (const auto& c : schema) add_column(c.name, c.type);
}

void ColumnBatch::add_column(std::string name, LogicalType type) {
  names_.push_back(std::move(name));
  columns_.emplace_back(std::move(type));
}

Schema ColumnBatch::schema() const {
  Schema out;
  for (size_t i = 0; i < columns_.size(); ++i) out.push_back({names_[i], columns_[i].type(), true});
  return out;
}

size_t ColumnBatch::byte_size() const {
  size_t n = 0;
  for (const auto& c : columns_) n += c.byte_size();
  return n;
}

void ColumnBatch::clear() {
  for (auto& c : columns_) c.clear();
}

}  // namespace strata::sql

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
  return !validity_.empty() && std::memchr(validity_.data(), 0, validity_.size()) != nullptr;
}

void Column::append_raw(const void* data) {
  fixed_.append(data, width_);
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

void Column::reserve(size_t rows, size_t heap_bytes) {
  validity_.reserve(validity_.size() + rows);
  if (width_ > 0) {
    fixed_.reserve(fixed_.size() + rows * width_);
  } else {
    offsets_.reserve(offsets_.size() + rows);
    if (heap_bytes > 0) heap_.reserve(heap_.size() + heap_bytes);
  }
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

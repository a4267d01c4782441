#include "sql/byte_buffer.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace strata::sql {

ByteBuffer::~ByteBuffer() { std::free(data_); }

ByteBuffer::ByteBuffer(const ByteBuffer& other) { append(other.data_, other.size_); }

ByteBuffer& ByteBuffer::operator=(const ByteBuffer& other) {
  if (this != &other) {
    size_ = 0;
    append(other.data_, other.size_);
  }
  return *this;
}

ByteBuffer& ByteBuffer::operator=(ByteBuffer&& other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void ByteBuffer::reserve(size_t bytes) {
  if (bytes <= capacity_) return;
  auto* grown = static_cast<uint8_t*>(std::realloc(data_, bytes));
  if (!grown) throw std::bad_alloc();
  data_ = grown;
  capacity_ = bytes;
}

void ByteBuffer::grow(size_t extra) { reserve(std::max({size_ + extra, 2 * capacity_, size_t{64}})); }

}  // namespace strata::sql

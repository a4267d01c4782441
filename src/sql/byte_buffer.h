#pragma once
// ByteBuffer: a growable array of bytes for Column's storage. Unlike std::vector<uint8_t> and
// std::string, an append is inline and never zero-fills or writes a terminator first, which
// matters when a decoder appends a few bytes millions of times. Copyable (deep) and movable (the
// source is left empty). Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace strata::sql {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  ~ByteBuffer();
  ByteBuffer(const ByteBuffer& other);
  ByteBuffer& operator=(const ByteBuffer& other);
  ByteBuffer(ByteBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        capacity_(std::exchange(other.capacity_, 0)) {}
  ByteBuffer& operator=(ByteBuffer&& other) noexcept;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void append(const void* bytes, size_t n) {
    if (n > capacity_ - size_) grow(n);
    if (n > 0) std::memcpy(data_ + size_, bytes, n);
    size_ += n;
  }
  void push_back(uint8_t byte) {
    if (size_ == capacity_) grow(1);
    data_[size_++] = byte;
  }
  void append_zeros(size_t n) {
    if (n > capacity_ - size_) grow(n);
    std::memset(data_ + size_, 0, n);
    size_ += n;
  }
  // Capacity for at least `bytes` bytes in all.
  void reserve(size_t bytes);
  void clear() { size_ = 0; }

 private:
  void grow(size_t extra);  // capacity for `extra` more bytes, at least doubling

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace strata::sql

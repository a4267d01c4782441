#include "pg/wire.h"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace strata::pg::detail {
namespace {

// Large enough that a recv() rarely stops at the buffer's end: the server flushes 8 KB at a time.
constexpr size_t kInitialCapacity = size_t{256} << 10;
constexpr size_t kHeaderBytes = 5;  // type byte + int32 length (which counts itself)
// A CopyData row is at most 1 GB (PostgreSQL's limit on a palloc'd value) plus field headers.
constexpr uint32_t kMaxLength = (uint32_t{1} << 30) + (uint32_t{1} << 20);
// Other messages are short, except those that carry rows or server text (libpq's rule too): a
// length beyond this for another type means the stream is out of step, which fails at once.
constexpr uint32_t kMaxShortLength = 30000;

bool may_be_long(char type) {
  return type == 'd' || type == 'D' || type == 'T' || type == 'E' || type == 'N' || type == 'A';
}

uint32_t read_be32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

Status wait_for(int fd, short events) {
  pollfd pfd{fd, events, 0};
  while (::poll(&pfd, 1, -1) < 0) {
    if (errno != EINTR) return Error(ErrorCode::kConnection, std::string("poll() failed: ") + std::strerror(errno));
  }
  return ok_status();
}

}  // namespace

WireReader::WireReader(int fd) : fd_(fd), buffer_(new char[kInitialCapacity]), capacity_(kInitialCapacity) {}

Status WireReader::fill() {
  // Room for the whole message under way (its header when even that is incomplete), and for a
  // recv() of useful size: otherwise the unread part moves to the front, into a larger buffer
  // when the message does not fit.
  const size_t unread = end_ - start_;
  const size_t needed = unread >= kHeaderBytes ? 1 + size_t{read_be32(buffer_.get() + start_ + 1)} : kHeaderBytes;
  if (start_ + needed > capacity_ || capacity_ - end_ < kInitialCapacity / 4) {
    if (needed > capacity_) {
      const size_t grown = std::max(needed, 2 * capacity_);
      std::unique_ptr<char[]> larger(new char[grown]);
      std::memcpy(larger.get(), buffer_.get() + start_, unread);
      buffer_ = std::move(larger);
      capacity_ = grown;
    } else {
      std::memmove(buffer_.get(), buffer_.get() + start_, unread);
    }
    start_ = 0;
    end_ = unread;
  }
  while (true) {
    const ssize_t got = ::recv(fd_, buffer_.get() + end_, capacity_ - end_, 0);
    if (got > 0) {
      end_ += static_cast<size_t>(got);
      return ok_status();
    }
    if (got == 0) return Error(ErrorCode::kConnection, "server closed the connection unexpectedly");
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      return Error(ErrorCode::kConnection, std::string("could not receive data from server: ") + std::strerror(errno));
    }
    STRATA_TRY(wait_for(fd_, POLLIN));
  }
}

Result<WireMessage> WireReader::next() {
  while (true) {
    const size_t available = end_ - start_;
    if (available >= kHeaderBytes) {
      const uint32_t length = read_be32(buffer_.get() + start_ + 1);
      if (length < 4 || length > kMaxLength || (length > kMaxShortLength && !may_be_long(buffer_[start_]))) {
        return Error(ErrorCode::kConnection, "lost synchronization with the server (a message of type '" +
                                                 std::string(1, buffer_[start_]) + "' claims " +
                                                 std::to_string(length) + " bytes)");
      }
      if (available >= 1 + size_t{length}) {
        WireMessage message{buffer_[start_], std::string_view(buffer_.get() + start_ + kHeaderBytes, length - 4)};
        start_ += 1 + size_t{length};
        return message;
      }
    }
    if (start_ == end_) start_ = end_ = 0;
    STRATA_TRY(fill());
  }
}

Status send_message(int fd, char type, std::string_view text) {
  std::string message(kHeaderBytes, '\0');
  message[0] = type;
  const auto length = static_cast<uint32_t>(4 + text.size() + 1);
  for (int i = 0; i < 4; ++i) message[1 + i] = static_cast<char>((length >> (24 - 8 * i)) & 0xff);
  message.append(text);
  message.push_back('\0');
  size_t sent = 0;
  while (sent < message.size()) {
    const ssize_t n = ::send(fd, message.data() + sent, message.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      STRATA_TRY(wait_for(fd, POLLOUT));
      continue;
    }
    return Error(ErrorCode::kConnection, std::string("could not send data to server: ") + std::strerror(errno));
  }
  return ok_status();
}

WireFields parse_fields(std::string_view body) {
  WireFields fields;
  size_t at = 0;
  while (at < body.size() && body[at] != '\0') {
    const char code = body[at++];
    const size_t end = body.find('\0', at);
    const std::string_view value = body.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    switch (code) {
      case 'S': fields.severity = value; break;
      case 'V':
        if (fields.severity.empty()) fields.severity = value;
        break;
      case 'C': fields.sqlstate = value; break;
      case 'M': fields.message = value; break;
      case 'D': fields.detail = value; break;
      case 'H': fields.hint = value; break;
      case 'P': fields.position = value; break;
      default: break;
    }
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  return fields;
}

int64_t tag_rows(std::string_view body) {
  const size_t end = body.find('\0');
  const std::string_view tag = body.substr(0, end);
  const size_t space = tag.rfind(' ');
  if (space == std::string_view::npos) return 0;
  int64_t rows = 0;
  for (char c : tag.substr(space + 1)) {
    if (c < '0' || c > '9') return 0;
    rows = rows * 10 + (c - '0');
  }
  return rows;
}

}  // namespace strata::pg::detail

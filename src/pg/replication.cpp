#include "pg/replication.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <utility>

#include "common/time.h"
#include "pg/connection_state.h"

namespace strata::pg {
namespace {

// Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
constexpr int64_t kPgEpochMicros = 10957LL * 86400LL * 1000000LL;

uint64_t read_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

void write_u64(char* p, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<char>(v & 0xFF);
    v >>= 8;
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A hex number of 1 to 8 digits.
std::optional<uint32_t> parse_hex32(std::string_view text) {
  if (text.empty() || text.size() > 8) return std::nullopt;
  uint32_t v = 0;
  for (char c : text) {
    const int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<uint32_t>(d);
  }
  return v;
}

}  // namespace

std::optional<Lsn> parse_lsn(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto high = parse_hex32(text.substr(0, slash));
  auto low = parse_hex32(text.substr(slash + 1));
  if (!high || !low) return std::nullopt;
  return (Lsn{*high} << 32) | *low;
}

std::string format_lsn(Lsn lsn) {
  char text[24];
  std::snprintf(text, sizeof text, "%X/%X", static_cast<unsigned>(lsn >> 32), static_cast<unsigned>(lsn & 0xFFFFFFFFu));
  return text;
}

ReplicationStream::ReplicationStream(detail::ConnectionState* state) : state_(state) { state_->streaming = true; }

ReplicationStream::ReplicationStream(ReplicationStream&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)),
      buffer_(std::exchange(other.buffer_, nullptr)),
      done_(std::exchange(other.done_, true)) {}

ReplicationStream::~ReplicationStream() {
  free_buffer();
  if (state_ && !done_) (void)finish();
}

void ReplicationStream::free_buffer() {
  if (buffer_) PQfreemem(buffer_);
  buffer_ = nullptr;
}

Result<ReplicationMessage> ReplicationStream::next(std::chrono::milliseconds timeout) {
  free_buffer();
  ReplicationMessage message;
  if (!state_ || done_) {
    message.kind = ReplicationMessage::Kind::kEnd;
    return message;
  }
  const int64_t deadline = monotonic_micros() + static_cast<int64_t>(timeout.count()) * 1000;
  while (true) {
    const int length = PQgetCopyData(state_->conn, &buffer_, /*async=*/1);
    if (length > 0) {
      const char* p = buffer_;
      const auto size = static_cast<size_t>(length);
      if (p[0] == 'w' && size >= 25) {
        message.kind = ReplicationMessage::Kind::kData;
        message.wal_start = read_u64(p + 1);
        message.wal_end = read_u64(p + 9);
        message.payload = std::string_view(p + 25, size - 25);
        return message;
      }
      if (p[0] == 'k' && size >= 18) {
        message.kind = ReplicationMessage::Kind::kKeepalive;
        message.wal_end = read_u64(p + 1);
        message.reply_requested = p[17] != 0;
        return message;
      }
      return Error(ErrorCode::kFailed, std::string("malformed replication message of type '") + p[0] + "'");
    }
    if (length == -1) {  // the server ended the stream
      done_ = true;
      state_->streaming = false;
      if (auto error = state_->drain_results()) return *std::move(error);
      message.kind = ReplicationMessage::Kind::kEnd;
      return message;
    }
    if (length == -2) {
      done_ = true;
      state_->streaming = false;
      Error error = state_->connection_error("the replication stream could not be read");
      if (!state_->broken()) {
        if (auto server_error = state_->drain_results()) return *std::move(server_error);
      }
      return error;
    }
    // Nothing complete yet: wait for the socket.
    const int64_t left = deadline - monotonic_micros();
    if (left <= 0) return message;  // kTimeout
    pollfd fd{PQsocket(state_->conn), POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(std::min<int64_t>(left / 1000 + 1, 1000)));
    if (ready < 0 && errno != EINTR) return state_->connection_error("waiting for the replication stream failed");
    if (ready > 0 && PQconsumeInput(state_->conn) != 1) {
      return state_->connection_error("the replication stream could not be read");
    }
  }
}

Status ReplicationStream::send_status(Lsn flushed) {
  if (!state_ || done_) return Error(ErrorCode::kInternal, "send_status() on a finished replication stream");
  char reply[34];
  reply[0] = 'r';
  write_u64(reply + 1, flushed);   // written
  write_u64(reply + 9, flushed);   // flushed
  write_u64(reply + 17, flushed);  // applied
  write_u64(reply + 25, static_cast<uint64_t>(now_micros() - kPgEpochMicros));
  reply[33] = 0;  // no reply requested
  if (PQputCopyData(state_->conn, reply, sizeof reply) != 1 || PQflush(state_->conn) != 0) {
    return state_->connection_error("the standby status update could not be sent");
  }
  return ok_status();
}

Status ReplicationStream::finish() {
  free_buffer();
  if (!state_ || done_) return ok_status();
  done_ = true;
  if (PQputCopyEnd(state_->conn, nullptr) != 1) {
    state_->streaming = false;
    return state_->connection_error("the replication stream could not be ended");
  }
  // The server may still send data before its CopyDone: discard it.
  char* buffer = nullptr;
  int length = 0;
  while ((length = PQgetCopyData(state_->conn, &buffer, 0)) > 0) PQfreemem(buffer);
  state_->streaming = false;
  if (auto error = state_->drain_results()) return *std::move(error);
  return ok_status();
}

}  // namespace strata::pg

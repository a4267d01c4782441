#include "ingest/change_spool.h"

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace strata::ingest {
namespace {

// A record: wal_start (8 bytes), wal_end (8), payload length (4), payload; integers in host order
// (the file never leaves this process).
constexpr size_t kHeader = 8 + 8 + 4;

Error spool_error(const std::string& what) {
  return Error(ErrorCode::kFailed, "the change spool (a temporary file) " + what + ": " + std::strerror(errno), {},
               "check the free space of the temporary folder (TMPDIR)");
}

}  // namespace

Status ChangeSpool::start_recording() {
  if (state_ != State::kEmpty) return Error(ErrorCode::kInternal, "the change spool was recorded already");
  std::FILE* f = std::tmpfile();
  if (!f) return spool_error("could not be created");
  file_.reset(f);
  state_ = State::kRecording;
  return ok_status();
}

Status ChangeSpool::append(const pg::ReplicationMessage& message) {
  if (state_ != State::kRecording) return Error(ErrorCode::kInternal, "the change spool is not recording");
  char header[kHeader];
  const uint64_t start = message.wal_start, end = message.wal_end;
  const uint32_t size = static_cast<uint32_t>(message.payload.size());
  std::memcpy(header, &start, 8);
  std::memcpy(header + 8, &end, 8);
  std::memcpy(header + 16, &size, 4);
  if (std::fwrite(header, 1, kHeader, file_.get()) != kHeader ||
      std::fwrite(message.payload.data(), 1, size, file_.get()) != size) {
    return spool_error("could not be written");
  }
  bytes_ += static_cast<int64_t>(kHeader + size);
  return ok_status();
}

Status ChangeSpool::finish_recording() {
  if (state_ != State::kRecording) return Error(ErrorCode::kInternal, "the change spool is not recording");
  if (std::fflush(file_.get()) != 0) return spool_error("could not be written");
  state_ = State::kComplete;
  return ok_status();
}

ChangeSpool::Reader ChangeSpool::replay() const { return Reader(state_ == State::kComplete ? file_.get() : nullptr); }

Result<pg::ReplicationMessage> ChangeSpool::Reader::next() {
  pg::ReplicationMessage message;
  message.kind = pg::ReplicationMessage::Kind::kEnd;
  if (!file_) return message;
  const int fd = ::fileno(file_);
  char header[kHeader];
  const ssize_t got = ::pread(fd, header, kHeader, offset_);
  if (got == 0) return message;
  if (got != static_cast<ssize_t>(kHeader)) return spool_error("could not be read");
  uint64_t start = 0, end = 0;
  uint32_t size = 0;
  std::memcpy(&start, header, 8);
  std::memcpy(&end, header + 8, 8);
  std::memcpy(&size, header + 16, 4);
  payload_.resize(size);
  const int64_t at = offset_ + static_cast<int64_t>(kHeader);
  if (size > 0 && ::pread(fd, payload_.data(), size, at) != static_cast<ssize_t>(size)) {
    return spool_error("could not be read");
  }
  offset_ += static_cast<int64_t>(kHeader + size);
  message.kind = pg::ReplicationMessage::Kind::kData;
  message.wal_start = start;
  message.wal_end = end;
  message.payload = payload_;
  return message;
}

}  // namespace strata::ingest

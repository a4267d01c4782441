#include "pg/copy_stream.h"

#include <utility>

#include "pg/connection_state.h"

namespace strata::pg {
namespace {

// Asks the server to stop the running COPY; the remaining data still has to be read.
void send_cancel(detail::ConnectionState& state) {
  std::lock_guard lock(state.cancel->mutex);
  if (!state.cancel->cancel) return;
  char reason[256];
  PQcancel(state.cancel->cancel, reason, sizeof reason);
}

}  // namespace

CopyOutStream::CopyOutStream(detail::ConnectionState* state) : state_(state) { state_->streaming = true; }

CopyOutStream::CopyOutStream(CopyOutStream&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)),
      buffer_(std::exchange(other.buffer_, nullptr)),
      done_(other.done_),
      rows_(other.rows_) {}

CopyOutStream::~CopyOutStream() {
  free_buffer();
  if (!state_) return;
  if (!done_ && !state_->broken()) {
    send_cancel(*state_);
    char* buffer = nullptr;
    while (PQgetCopyData(state_->conn, &buffer, 0) > 0) PQfreemem(buffer);
    state_->drain_results();
  }
  state_->streaming = false;
}

void CopyOutStream::free_buffer() {
  if (buffer_) PQfreemem(buffer_);
  buffer_ = nullptr;
}

Result<std::optional<std::string_view>> CopyOutStream::next() {
  free_buffer();
  if (done_ || !state_) return std::optional<std::string_view>();
  const int length = PQgetCopyData(state_->conn, &buffer_, /*async=*/0);
  if (length > 0) return std::optional<std::string_view>(std::string_view(buffer_, static_cast<size_t>(length)));
  done_ = true;
  state_->streaming = false;
  if (length == -1) {
    if (auto error = state_->drain_results(&rows_)) return *std::move(error);
    return std::optional<std::string_view>();
  }
  // -2: libpq reports a failure (usually the connection is gone).
  Error error = state_->connection_error("COPY data could not be read");
  if (!state_->broken()) {
    if (auto server_error = state_->drain_results()) return *std::move(server_error);
  }
  return error;
}

CopyInStream::CopyInStream(detail::ConnectionState* state) : state_(state) { state_->streaming = true; }

CopyInStream::CopyInStream(CopyInStream&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)), done_(other.done_) {}

CopyInStream::~CopyInStream() {
  if (state_ && !done_) (void)abort("the COPY was abandoned");
}

Status CopyInStream::write(std::string_view data) {
  if (!state_ || done_) return Error(ErrorCode::kInternal, "write() on a finished COPY stream");
  if (data.empty()) return ok_status();
  if (PQputCopyData(state_->conn, data.data(), static_cast<int>(data.size())) != 1) {
    return state_->connection_error("COPY data could not be sent");
  }
  return ok_status();
}

Result<int64_t> CopyInStream::finish() {
  if (!state_ || done_) return Error(ErrorCode::kInternal, "finish() on a finished COPY stream");
  done_ = true;
  state_->streaming = false;
  if (PQputCopyEnd(state_->conn, nullptr) != 1) return state_->connection_error("COPY could not be ended");
  int64_t rows = 0;
  if (auto error = state_->drain_results(&rows)) return *std::move(error);
  return rows;
}

Status CopyInStream::abort(std::string_view reason) {
  if (!state_ || done_) return ok_status();
  done_ = true;
  state_->streaming = false;
  const std::string text(reason);
  if (PQputCopyEnd(state_->conn, text.c_str()) != 1) return state_->connection_error("COPY could not be aborted");
  state_->drain_results();  // the expected error: "COPY from stdin failed: <reason>"
  return ok_status();
}

}  // namespace strata::pg

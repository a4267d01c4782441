#include "pg/copy_stream.h"

#include <utility>

#include "pg/connection_state.h"
#include "pg/wire.h"

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

CopyOutStream::CopyOutStream(detail::ConnectionState* state, std::unique_ptr<detail::WireReader> wire)
    : state_(state), wire_(std::move(wire)) {
  state_->streaming = true;
}

CopyOutStream::CopyOutStream(CopyOutStream&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)),
      wire_(std::move(other.wire_)),
      failure_(std::move(other.failure_)),
      refusal_(std::move(other.refusal_)),
      copy_ended_(other.copy_ended_),
      buffer_(std::exchange(other.buffer_, nullptr)),
      done_(other.done_),
      rows_(other.rows_) {}

CopyOutStream::~CopyOutStream() {
  free_buffer();
  if (!state_) return;
  if (!done_ && !state_->broken()) {
    send_cancel(*state_);
    if (wire_) {
      finish_on_wire();
    } else {
      char* buffer = nullptr;
      while (PQgetCopyData(state_->conn, &buffer, 0) > 0) PQfreemem(buffer);
      state_->drain_results();
    }
  }
  state_->streaming = false;
}

void CopyOutStream::finish_on_wire() {
  while (!done_) {
    auto chunk = next_from_wire();
    if (!chunk.ok()) break;  // done_ is set with every error
  }
}

Result<std::optional<std::string_view>> CopyOutStream::next_from_wire() {
  while (true) {
    Result<detail::WireMessage> message = wire_->next();
    if (!message.ok()) {
      done_ = true;
      state_->streaming = false;
      // A server that ends the session says why first (e.g. 57P01 after pg_terminate_backend).
      return state_->wire_failure(failure_ ? *failure_ : message.error());
    }
    const std::string_view body = message->body;
    switch (message->type) {
      case 'd':
        if (!copy_ended_) return std::optional<std::string_view>(body);
        if (!refusal_) refusal_ = Error(ErrorCode::kInternal, detail::kOneCopy);
        break;
      case 'c': copy_ended_ = true; break;
      case 'C':
        if (!copy_ended_ || rows_ == 0) rows_ = detail::tag_rows(body);
        copy_ended_ = true;
        break;
      case 'E':
        if (!failure_) failure_ = state_->server_error(detail::parse_fields(body));
        break;
      case 'N': state_->wire_notice(detail::parse_fields(body)); break;
      case 'Z':
        done_ = true;
        state_->streaming = false;
        state_->settle_wire(*wire_);
        if (failure_) return *std::move(failure_);  // the server's reason comes first
        if (refusal_) return *std::move(refusal_);
        return std::optional<std::string_view>();
      case 'S':  // ParameterStatus and NotificationResponse may come at any time
      case 'A': break;
      default:  // another statement's replies ('H' of a second COPY, 'T' of a SELECT …)
        if (!refusal_) refusal_ = Error(ErrorCode::kInternal, detail::kOneCopy);
        copy_ended_ = true;
        break;
    }
  }
}

void CopyOutStream::free_buffer() {
  if (buffer_) PQfreemem(buffer_);
  buffer_ = nullptr;
}

Result<std::optional<std::string_view>> CopyOutStream::next() {
  free_buffer();
  if (done_ || !state_) return std::optional<std::string_view>();
  if (wire_) return next_from_wire();
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

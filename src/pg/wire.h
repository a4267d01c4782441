#pragma once
// Internal to src/pg: the backend protocol read straight off a connection's socket, for the
// COPY OUT fast path (see CopyOutStream). libpq hands COPY data over one row at a time in a fresh
// malloc'd copy; reading the messages ourselves, a row is a view into one large receive buffer.
// Only for a plain TCP or Unix socket (not TLS or GSS encryption), and only while libpq is idle
// with nothing buffered: the caller sends the Query itself (send_message) and reads every message
// up to ReadyForQuery and what arrived with it, so libpq, which sees none of it, stays in step
// with the server. libpq's copies of the session's ParameterStatus values and of the transaction
// status byte are not updated by such a statement (nothing in Strata reads them).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace strata::pg::detail {

// One backend message: its type byte and its body (without the type and length).
struct WireMessage {
  char type = 0;
  std::string_view body;  // valid until the next WireReader::next()
};

// Reads whole messages from a non-blocking socket it does not own. Not thread-safe.
class WireReader {
 public:
  explicit WireReader(int fd);

  // The next message, waiting for it. The buffer holds as much as one recv() delivers and grows
  // only to fit a message larger than it. Errors: kConnection when the server closed the socket
  // or reading it failed (the text says which; the caller adds where it was connected to).
  Result<WireMessage> next();
  // Bytes received but not yet handed out (after ReadyForQuery: an asynchronous message the
  // server sent next, possibly in part).
  size_t buffered() const { return end_ - start_; }

 private:
  Status fill();

  int fd_;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_;
  size_t start_ = 0;  // first byte not yet handed out
  size_t end_ = 0;    // one past the last byte received
};

// Sends a frontend message whose body is `text` and a NUL (Query 'Q', CopyFail 'f') on the
// socket, waiting while it is full. Errors: kConnection.
Status send_message(int fd, char type, std::string_view text);

// The fields of an ErrorResponse or NoticeResponse body (see the protocol's "Error and Notice
// Message Fields"), by their one-letter codes; missing fields are empty.
struct WireFields {
  std::string severity;  // 'S' (localized, as libpq shows it) or else 'V'
  std::string sqlstate;  // 'C'
  std::string message;   // 'M'
  std::string detail;    // 'D'
  std::string hint;      // 'H'
  std::string position;  // 'P'
};
WireFields parse_fields(std::string_view body);

// The row count of a CommandComplete tag ("COPY 42" → 42); 0 when it has none.
int64_t tag_rows(std::string_view body);

}  // namespace strata::pg::detail

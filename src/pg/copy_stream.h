#pragma once
// COPY streams over a Connection (see connection.h): CopyOutStream reads `COPY … TO STDOUT` one
// chunk at a time (bounded memory: only the current chunk and one receive buffer are held; on a
// connection without TLS or GSS encryption the rows are read off the socket directly, see
// wire.h, else through libpq), CopyInStream writes
// `COPY … FROM STDIN`. A stream borrows its connection: the Connection must outlive the stream,
// and nothing else may run on the connection until the stream is finished or destroyed. Move-only;
// not thread-safe (cancel the query from another thread with Connection::canceller()).

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "common/result.h"

namespace strata::pg {

namespace detail {
struct ConnectionState;
class WireReader;
}

class CopyOutStream {
 public:
  CopyOutStream(CopyOutStream&& other) noexcept;
  CopyOutStream& operator=(CopyOutStream&&) = delete;
  CopyOutStream(const CopyOutStream&) = delete;
  // When the stream was not read to its end: cancels the COPY and discards what is left, so the
  // connection can be used again.
  ~CopyOutStream();

  // The next chunk as the server sends it (one row; for binary the header comes with the first
  // row and the trailer is the last chunk). The view stays valid until the next call
  // or destruction. nullopt at the end, after the final status was checked. Errors: the server's
  // (SQLSTATE, kFailed), kCancelled after a cancel, kConnection when the connection is lost.
  Result<std::optional<std::string_view>> next();
  // True once next() returned nullopt or an error.
  bool done() const { return done_; }
  // The row count from the final "COPY n" tag; 0 until done.
  int64_t rows() const { return rows_; }
  // True when the rows are read off the socket rather than through libpq (see wire.h).
  bool on_wire() const { return wire_ != nullptr; }

 private:
  friend class Connection;
  // `wire`: the reader the CopyOutResponse came through; null when libpq reads the stream.
  CopyOutStream(detail::ConnectionState* state, std::unique_ptr<detail::WireReader> wire);
  void free_buffer();
  Result<std::optional<std::string_view>> next_from_wire();
  void finish_on_wire();

  detail::ConnectionState* state_ = nullptr;
  std::unique_ptr<detail::WireReader> wire_;
  std::optional<Error> failure_;  // an ErrorResponse read off the wire, returned at ReadyForQuery
  std::optional<Error> refusal_;  // replies of more statements than the one COPY, returned likewise
  bool copy_ended_ = false;       // CopyDone or CommandComplete came: later rows are not this COPY's
  char* buffer_ = nullptr;
  bool done_ = false;
  int64_t rows_ = 0;
};

class CopyInStream {
 public:
  CopyInStream(CopyInStream&& other) noexcept;
  CopyInStream& operator=(CopyInStream&&) = delete;
  CopyInStream(const CopyInStream&) = delete;
  // When neither finish() nor abort() was called: aborts the COPY (nothing is inserted).
  ~CopyInStream();

  // Sends bytes of COPY data (any split; libpq buffers and flushes). Errors: kConnection.
  Status write(std::string_view data);
  // Ends the data and returns the number of rows the server stored. Errors: the server's
  // (e.g. 22P02 for a bad value) or kConnection.
  Result<int64_t> finish();
  // Ends the COPY with an error so the server stores nothing.
  Status abort(std::string_view reason);

 private:
  friend class Connection;
  explicit CopyInStream(detail::ConnectionState* state);

  detail::ConnectionState* state_ = nullptr;
  bool done_ = false;
};

}  // namespace strata::pg

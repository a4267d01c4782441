#pragma once
// Logical replication over a walsender connection (`replication=database` in the conninfo):
// log sequence numbers, and the CopyBoth stream START_REPLICATION opens. The stream hands out the
// server's XLogData messages (payload: one output-plugin message, see pgoutput.h) and primary
// keepalives, and sends Standby Status Updates, which is how a client confirms the position up to
// which the slot may release WAL.
//
// Thread-safety: a ReplicationStream is used by one thread, like its Connection.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace strata::pg {

namespace detail {
struct ConnectionState;
}  // namespace detail

// A WAL position (pg_lsn), as a number: PostgreSQL's text form is "<high hex>/<low hex>".
using Lsn = uint64_t;
// "16/B374D848" → 0x16B374D848; nullopt for anything else.
std::optional<Lsn> parse_lsn(std::string_view text);
// 0x16B374D848 → "16/B374D848" (upper-case hex, as PostgreSQL prints it).
std::string format_lsn(Lsn lsn);

// One message of the replication stream.
struct ReplicationMessage {
  enum class Kind {
    kData,       // XLogData: `payload` is one output-plugin message starting at WAL position `wal_start`
    kKeepalive,  // the server's WAL end is `wal_end`; nothing before it is left to send
    kTimeout,    // nothing arrived within the timeout
    kEnd,        // the server ended the stream (CopyDone)
  };
  Kind kind = Kind::kTimeout;
  Lsn wal_start = 0;
  Lsn wal_end = 0;
  bool reply_requested = false;  // keepalive: the server asks for a status update now
  std::string_view payload;      // valid until the next call to next()
};

// The CopyBoth stream of START_REPLICATION (Connection::start_replication). Move-only; ends the
// stream (CopyDone) on destruction if finish() was not called, leaving the connection usable.
class ReplicationStream {
 public:
  explicit ReplicationStream(detail::ConnectionState* state);
  ReplicationStream(ReplicationStream&& other) noexcept;
  ReplicationStream& operator=(ReplicationStream&&) = delete;
  ReplicationStream(const ReplicationStream&) = delete;
  ReplicationStream& operator=(const ReplicationStream&) = delete;
  ~ReplicationStream();

  // The next message, waiting at most `timeout`. Errors: kConnection when the connection is lost,
  // kFailed for a server error or a malformed message.
  Result<ReplicationMessage> next(std::chrono::milliseconds timeout);
  // Sends a Standby Status Update: everything up to `flushed` is durably stored by the client, so
  // the slot's confirmed_flush_lsn may move there. Errors: kConnection.
  Status send_status(Lsn flushed);
  // Ends the stream (CopyDone) and reads the server's end of it. Errors: the server's.
  Status finish();

 private:
  void free_buffer();

  detail::ConnectionState* state_;
  char* buffer_ = nullptr;
  bool done_ = false;
};

}  // namespace strata::pg

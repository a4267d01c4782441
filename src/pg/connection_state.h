#pragma once
// Internal to src/pg: the state behind a Connection, shared with its COPY streams and
// cancellers. Not for use outside the pg module.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

#include "common/error.h"
#include "common/secrets.h"

namespace strata::pg::detail {

struct WireFields;  // wire.h
class WireReader;   // wire.h

// The PGcancel of one connection. PQcancel is called under the mutex; the connection frees the
// object (and sets it to null) under the same mutex when it closes.
struct CancelState {
  std::mutex mutex;
  PGcancel* cancel = nullptr;
};

struct ConnectionState {
  PGconn* conn = nullptr;
  std::shared_ptr<CancelState> cancel = std::make_shared<CancelState>();
  SecretMasker* masker = nullptr;  // not owned
  std::vector<std::string> secrets;  // passwords of this connection, scrubbed from every message
  std::function<void(std::string_view)> on_notice;
  std::string where;  // "host H, port P, database D, user U"
  bool streaming = false;  // a COPY stream is open
  // Set when a read off the wire (see wire.h) found the connection gone, which libpq, not having
  // read it, does not know.
  bool lost = false;
  std::string lost_reason;  // what the wire read saw, for later errors on this connection
  // COPY OUT may be read off the wire (ConnectOptions::wire_copy_out).
  bool wire_copy_out = true;

  ConnectionState() = default;
  ConnectionState(const ConnectionState&) = delete;
  ConnectionState& operator=(const ConnectionState&) = delete;
  ~ConnectionState();

  // `text` with this connection's passwords and the masker's secrets replaced by "****".
  std::string mask(std::string_view text) const;
  // True when the connection to the server is gone.
  bool broken() const;
  // The error for a failed result (PGRES_FATAL_ERROR etc.): SQLSTATE, primary message, detail,
  // hint, position. Code: kConnection for a lost connection (SQLSTATE 08xxx, 57P01-57P03 or a bad
  // connection status), kCancelled for 57014, else kFailed.
  Error result_error(const PGresult* result) const;
  // The same error from the fields of an ErrorResponse read off the wire.
  Error server_error(const WireFields& fields) const;
  // A read or write off the wire failed (kConnection from wire.h, or the server's last error
  // before it closed the socket): marks the connection lost and says where it was connected to.
  Error wire_failure(const Error& error);
  // Hands a NoticeResponse read off the wire to on_notice, as libpq's notice processor would.
  void wire_notice(const WireFields& fields) const;
  // After ReadyForQuery read off the wire: reads on to the end of what the last recv() brought
  // (a message the server sent after it, completed if it came in part), so libpq finds the
  // socket at a message boundary. A notice goes to on_notice, NOTIFY and ParameterStatus are
  // dropped, an ErrorResponse (a FATAL: the server is ending the session) or a failed read marks
  // the connection lost.
  void settle_wire(WireReader& wire);
  // An error from PQerrorMessage (no result available), prefixed with `what`.
  Error connection_error(std::string_view what) const;
  // Reads and frees every pending result; returns the first error, if any.
  std::optional<Error> drain_results(int64_t* rows = nullptr);
};

// The error for SQL given to copy_out() that holds more than its one COPY statement.
inline constexpr const char* kOneCopy =
    "copy_out() runs one `COPY … TO STDOUT` statement; the SQL it was given holds more statements after it";

// libpq's multi-line text as one line ("server closed the connection unexpectedly This probably
// means …"), so a report keeps one line per stream.
std::string one_line(std::string_view text);

}  // namespace strata::pg::detail

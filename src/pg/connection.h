#pragma once
// strata::pg — a thin RAII layer over libpq.
//
//   STRATA_ASSIGN(auto conn, pg::Connection::connect("postgresql://app@db:5432/shop", {}));
//   STRATA_ASSIGN(auto result, conn.exec_params("select name from users where id = $1", {"42"}));
//   STRATA_ASSIGN(auto copy, conn.copy_out("copy users to stdout (format binary)"));
//   while (true) { STRATA_ASSIGN(auto chunk, copy.next()); if (!chunk) break; … }
//
// Errors: a connection that cannot be opened or is lost is ErrorCode::kConnection (exit code 3),
// its message naming host, port, database and user but never the password; a failed statement is
// kFailed with the SQLSTATE in Error::state() and the server's message, detail and hint; a
// cancelled statement is kCancelled (SQLSTATE 57014).
//
// Thread-safety: a Connection is used by one thread at a time, except cancel() and the
// Canceller, which any thread may call while a statement runs.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <libpq-fe.h>

#include "common/result.h"
#include "common/secrets.h"
#include "pg/conninfo.h"
#include "pg/copy_stream.h"
#include "pg/pg_result.h"
#include "pg/replication.h"

namespace strata::pg {

namespace detail {
struct CancelState;
struct ConnectionState;
}  // namespace detail

// A NOTIFY received on a connection that LISTENs to its channel.
struct Notification {
  std::string channel;
  std::string payload;
  int sender_pid = 0;  // the notifying backend
};

struct ConnectOptions {
  // Used when the conninfo/URL has no connect_timeout.
  std::chrono::seconds connect_timeout{10};
  // Used when the conninfo/URL has no application_name; empty: not set.
  std::string application_name = "strata";
  // Extra parameters that override the conninfo's, e.g. {"replication", "database"}.
  std::vector<std::pair<std::string, std::string>> params;
  // Not owned; must outlive the connection. Receives the password, so loggers mask it.
  SecretMasker* masker = nullptr;
  // Receives the server's NOTICE/WARNING messages (masked, without trailing newline). Default: dropped.
  std::function<void(std::string_view)> on_notice;
  // Statements run once right after connecting (e.g. SETs); a failure fails the connect.
  std::string session_sql;
  // Settings sent in the startup packet (libpq's `options`, "-c name=value", after the conninfo's
  // own): they hold from the session's first statement on, which session_sql's SETs cannot promise
  // (a tiny statement_timeout set for the role or database can cancel session_sql itself). A
  // server that refuses the parameter (PgBouncer: "unsupported startup parameter") is connected to
  // again without them; repeat them in session_sql for that case.
  std::vector<std::pair<std::string, std::string>> startup_settings;
  // copy_out() reads the COPY's messages off the socket itself (one receive buffer, rows as views
  // into it) instead of through libpq (a malloc'd copy of every row). Used only on a connection
  // without TLS or GSS encryption; false keeps libpq's way everywhere. A NOTIFY arriving on the
  // connection during such a COPY is dropped: LISTEN on another connection.
  bool wire_copy_out = true;
};

// Cancels the statement running on a connection, from any thread. Copyable; safe to use after
// the connection closed (then it does nothing).
class Canceller {
 public:
  Canceller() = default;
  // Asks the server to cancel the current statement (the statement then fails with kCancelled).
  // Ok when nothing runs or the connection is closed. Errors: kConnection when the cancel request
  // cannot be sent.
  Status cancel() const;

 private:
  friend class Connection;
  explicit Canceller(std::shared_ptr<detail::CancelState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::CancelState> state_;
};

// Stops a piece of work that uses several connections (e.g. a parallel read) from another thread:
// cancel() cancels the statement running on every connection added so far, and add() after it
// reports kCancelled, so work checks before each statement it starts. Thread-safe.
class CancelGroup {
 public:
  // Cancels the running statements (best effort: a failed cancel request is ignored).
  void cancel();
  bool cancelled() const;
  // Remembers a connection's canceller. Errors: kCancelled when cancel() ran already.
  Status add(Canceller canceller);
  // kCancelled once cancel() ran, else ok: checked before a statement starts.
  Status check() const;

 private:
  mutable std::mutex mutex_;
  bool cancelled_ = false;
  std::vector<Canceller> cancellers_;
};

// One open libpq connection. Move-only; closes (PQfinish) on destruction.
class Connection {
 public:
  // Opens a connection from key=value conninfo or a postgresql:// URL; sslmode and every other
  // libpq parameter pass through. Errors: kConfig when the string does not parse; kConnection
  // when the server cannot be reached or refuses the login (message: host, port, database, user
  // and libpq's reason, with any password scrubbed; the hint tells a server out of connection
  // slots from one that cannot be reached).
  static Result<Connection> connect(std::string_view conninfo_or_url, const ConnectOptions& options = {});

  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs one or more statements (simple protocol); returns the last statement's result.
  Result<PgResult> exec(std::string_view sql);
  // Runs several statements in one round trip (simple protocol: one implicit transaction unless
  // they say otherwise) and returns every statement's result, in order. Errors: the first failing
  // statement's (the server skips the rest), as exec(); the connection stays usable.
  Result<std::vector<PgResult>> exec_all(std::string_view sql);
  // Runs one statement with $1…$n parameters (nullopt = NULL) sent in `param_format` (binary: each
  // parameter's type's send form, the type taken from a cast in the statement); result values in
  // `format`.
  Result<PgResult> exec_params(std::string_view sql, const std::vector<std::optional<std::string>>& params,
                               Format format = Format::kText, Format param_format = Format::kText);
  // exec() for commands whose rows are not needed.
  Status execute(std::string_view sql);
  // Prepares one statement as the session's unnamed statement (replacing the previous one) and
  // returns its description: the result columns' names, type OIDs and modifiers, and for a column
  // read straight from a table, that table (PQftable/PQftablecol); no rows. Errors: the server's
  // (e.g. 42601 for several statements or a syntax error).
  Result<PgResult> describe_statement(std::string_view sql);

  // Starts `COPY … TO STDOUT …` and returns the stream of its data.
  Result<CopyOutStream> copy_out(std::string_view sql);
  // Starts `COPY … FROM STDIN …` and returns the stream to write its data to.
  Result<CopyInStream> copy_in(std::string_view sql);

  // On a replication connection (ConnectOptions::params {"replication", "database"}): runs
  // `START_REPLICATION SLOT … LOGICAL …` and returns its stream. Errors: the server's (e.g. the
  // slot does not exist or is active elsewhere), kInternal for another statement.
  Result<ReplicationStream> start_replication(std::string_view sql);

  // On an idle connection that ran LISTEN: waits up to `timeout` for notifications and returns
  // those received. Returns early, empty, when `interrupt_fd` (if >= 0; e.g. an eventfd another
  // thread writes to stop the wait) becomes readable or a signal interrupts the wait; the caller
  // drains interrupt_fd. Errors: kConnection when the connection is lost.
  Result<std::vector<Notification>> wait_notifications(std::chrono::milliseconds timeout, int interrupt_fd = -1);

  // Cancels the running statement; thread-safe (see Canceller::cancel).
  Status cancel() const;
  // A handle other threads can keep to cancel statements of this connection.
  Canceller canceller() const;

  // The server's version as an integer, e.g. 150004 for 15.4.
  int server_version() const;
  // libpq's version, e.g. 150004.
  static int library_version();
  // The host (name, address or socket folder), port, database and user actually connected to.
  std::string host() const;
  int port() const;
  std::string database() const;
  std::string user() const;
  // "host H, port P, database D, user U".
  const std::string& describe() const;
  // True while the connection is usable (not lost).
  bool ok() const;
  // The socket's file descriptor (for poll), -1 when closed.
  int socket() const;
  // The libpq handle, for features this layer does not wrap (e.g. replication). Still owned here.
  PGconn* raw() const;

  // Identifier and literal quoting for PostgreSQL (sql::postgres_dialect()).
  static std::string quote_identifier(std::string_view name);
  static std::string quote_literal(std::string_view value);

 private:
  explicit Connection(std::unique_ptr<detail::ConnectionState> state);
  Status check_idle() const;
  // Runs `sql`, which must put the connection in the copy mode `expected` (an ExecStatusType):
  // the server's error, a lost connection (`what` failed), or kInternal `needs` otherwise.
  Status enter_copy_mode(std::string_view sql, int expected, const char* what, const char* needs);

  std::unique_ptr<detail::ConnectionState> state_;
};

}  // namespace strata::pg

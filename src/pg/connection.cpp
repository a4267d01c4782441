#include "pg/connection.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>

#include "common/strings.h"
#include "pg/connection_state.h"
#include "pg/wire.h"
#include "sql/dialect.h"

namespace strata::pg {
namespace {

void notice_processor(void* arg, const char* message) {
  auto* state = static_cast<detail::ConnectionState*>(arg);
  if (state->on_notice) state->on_notice(state->mask(trim(message)));
}

std::string value_or(const char* value, std::string_view fallback) {
  return value && *value ? std::string(value) : std::string(fallback);
}

// "host H, port P, database D, user U" from what libpq actually used.
std::string describe_connection(PGconn* conn, const ConnParams& params) {
  ConnParams actual;
  actual.set("host", value_or(PQhost(conn), params.get("host", params.get("hostaddr", "(default socket)"))));
  actual.set("port", value_or(PQport(conn), params.get("port", "5432")));
  actual.set("dbname", value_or(PQdb(conn), params.get("dbname")));
  actual.set("user", value_or(PQuser(conn), params.get("user")));
  return actual.describe();
}

// What to do about a failed connection attempt, given libpq's reason. A server out of connection
// slots says so in its FATAL message (sent in the server's language; the English forms are
// recognised, else the general hint applies).
std::string connect_failure_hint(std::string_view reason) {
  for (std::string_view full : {"too many clients already", "remaining connection slots are reserved",
                                "too many connections for"}) {
    if (reason.find(full) != std::string_view::npos) {
      return "the server is reachable but has no connection left for this role or database (its max_connections, "
             "or a CONNECTION LIMIT of the role or the database): close idle sessions, raise the limit, or open "
             "fewer connections at once";
    }
  }
  return "check that the server is running and reachable at that host and port, and that the database, user and "
         "password (from the environment) are right";
}

}  // namespace

Status Canceller::cancel() const {
  if (!state_) return ok_status();
  std::lock_guard lock(state_->mutex);
  if (!state_->cancel) return ok_status();
  char reason[256] = {0};
  if (PQcancel(state_->cancel, reason, sizeof reason) == 0) {
    return Error(ErrorCode::kConnection, std::string("could not send the cancel request: ") + reason);
  }
  return ok_status();
}

void CancelGroup::cancel() {
  std::vector<Canceller> cancellers;
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    cancellers = cancellers_;
  }
  for (const Canceller& c : cancellers) (void)c.cancel();
}

bool CancelGroup::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

Status CancelGroup::add(Canceller canceller) {
  std::lock_guard lock(mutex_);
  if (cancelled_) return Error(ErrorCode::kCancelled, "the read was cancelled");
  cancellers_.push_back(std::move(canceller));
  return ok_status();
}

Status CancelGroup::check() const {
  std::lock_guard lock(mutex_);
  if (cancelled_) return Error(ErrorCode::kCancelled, "the read was cancelled");
  return ok_status();
}

Result<Connection> Connection::connect(std::string_view conninfo_or_url, const ConnectOptions& options) {
  auto state = std::make_unique<detail::ConnectionState>();
  state->secrets = password_candidates(conninfo_or_url);
  state->masker = options.masker;
  state->on_notice = options.on_notice;
  state->wire_copy_out = options.wire_copy_out;
  STRATA_ASSIGN(ConnParams params, ConnParams::parse(conninfo_or_url));
  if (!params.has("connect_timeout")) params.set("connect_timeout", std::to_string(options.connect_timeout.count()));
  if (!params.has("application_name") && !options.application_name.empty()) {
    params.set("application_name", options.application_name);
  }
  for (const auto& [key, value] : options.params) params.set(key, value);
  if (const std::string* password = params.find("password")) state->secrets.push_back(*password);
  // A URL written into another field (database: postgresql://user:pw@…) reaches libpq's messages
  // as text: its password is a secret too.
  for (const auto& entry : params.entries()) {
    if (entry.value.find("://") == std::string::npos) continue;
    for (std::string& secret : password_candidates(entry.value)) state->secrets.push_back(std::move(secret));
  }
  if (state->masker) {
    for (const auto& secret : state->secrets) state->masker->add(secret);
  }

  auto open = [](const ConnParams& with) {
    std::vector<const char*> keys;
    std::vector<const char*> values;
    for (const auto& entry : with.entries()) {
      keys.push_back(entry.key.c_str());
      values.push_back(entry.value.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    return PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/0);
  };
  if (options.startup_settings.empty()) {
    state->conn = open(params);
  } else {
    ConnParams with_settings = params;
    std::string startup = params.get("options", "");
    for (const auto& [name, value] : options.startup_settings) {
      startup += (startup.empty() ? "-c " : " -c ") + name + "=";
      for (char c : value) {
        if (c == ' ' || c == '\\') startup += '\\';
        startup += c;
      }
    }
    with_settings.set("options", startup);
    state->conn = open(with_settings);
    if (state->conn && PQstatus(state->conn) != CONNECTION_OK &&
        std::string_view(PQerrorMessage(state->conn)).find("unsupported startup parameter") != std::string_view::npos) {
      PQfinish(state->conn);
      state->conn = open(params);
    }
  }
  if (!state->conn) return Error(ErrorCode::kConnection, "could not allocate a PostgreSQL connection");
  // The password libpq used may come from PGPASSWORD or ~/.pgpass: scrub it too.
  if (const char* used = PQpass(state->conn); used && *used) {
    state->secrets.emplace_back(used);
    if (state->masker) state->masker->add(used);
  }
  state->where = describe_connection(state->conn, params);
  if (PQstatus(state->conn) != CONNECTION_OK) {
    std::string message = "could not connect to PostgreSQL (" + state->where + ")";
    std::string reason = detail::one_line(PQerrorMessage(state->conn));
    if (!reason.empty()) message += ": " + reason;
    return Error(ErrorCode::kConnection, state->mask(message), {}, connect_failure_hint(reason));
  }
  PQsetNoticeProcessor(state->conn, &notice_processor, state.get());
  {
    std::lock_guard lock(state->cancel->mutex);
    state->cancel->cancel = PQgetCancel(state->conn);
  }
  Connection connection(std::move(state));
  if (!options.session_sql.empty()) STRATA_TRY(connection.execute(options.session_sql));
  return connection;
}

Connection::Connection(std::unique_ptr<detail::ConnectionState> state) : state_(std::move(state)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

Status Connection::check_idle() const {
  if (!state_) return Error(ErrorCode::kInternal, "use of a moved-from pg::Connection");
  if (state_->streaming) {
    return Error(ErrorCode::kInternal, "a COPY stream is still open on this connection; finish it first");
  }
  if (state_->broken()) return state_->connection_error("the connection to PostgreSQL is lost");
  return ok_status();
}

namespace {

// Wraps a finished result: success statuses pass, COPY results are refused (and cleaned up),
// errors become Errors.
Result<PgResult> wrap_result(detail::ConnectionState& state, PGresult* raw) {
  if (!raw) return state.connection_error("the statement failed");
  PgResult result(raw);
  switch (PQresultStatus(raw)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
    case PGRES_EMPTY_QUERY:
      return result;
    case PGRES_COPY_OUT:
    case PGRES_COPY_IN:
    case PGRES_COPY_BOTH:
      if (PQresultStatus(raw) == PGRES_COPY_IN) PQputCopyEnd(state.conn, "use copy_in()");
      if (PQresultStatus(raw) == PGRES_COPY_OUT) {
        char* buffer = nullptr;
        while (PQgetCopyData(state.conn, &buffer, 0) > 0) PQfreemem(buffer);
      }
      state.drain_results();
      return Error(ErrorCode::kInternal, "a COPY statement was run with exec(); use copy_out() or copy_in()");
    default:
      return state.result_error(raw);
  }
}

}  // namespace

Result<PgResult> Connection::exec(std::string_view sql) {
  STRATA_TRY(check_idle());
  const std::string text(sql);
  return wrap_result(*state_, PQexec(state_->conn, text.c_str()));
}

Result<std::vector<PgResult>> Connection::exec_all(std::string_view sql) {
  STRATA_TRY(check_idle());
  const std::string text(sql);
  if (!PQsendQuery(state_->conn, text.c_str())) return state_->connection_error("the statements could not be sent");
  std::vector<PgResult> results;
  std::optional<Error> failed;
  while (PGresult* raw = PQgetResult(state_->conn)) {
    Result<PgResult> one = wrap_result(*state_, raw);
    if (failed) continue;  // wrap_result owns raw either way
    if (one.ok()) {
      results.push_back(std::move(*one));
    } else {
      failed = std::move(one).error();
    }
  }
  if (failed) return *failed;
  if (PQstatus(state_->conn) != CONNECTION_OK) return state_->connection_error("the statements failed");
  return results;
}

Result<PgResult> Connection::exec_params(std::string_view sql, const std::vector<std::optional<std::string>>& params,
                                         Format format, Format param_format) {
  STRATA_TRY(check_idle());
  const std::string text(sql);
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  values.reserve(params.size());
  for (const auto& param : params) {
    values.push_back(param ? param->data() : nullptr);
    lengths.push_back(param ? static_cast<int>(param->size()) : 0);
    formats.push_back(static_cast<int>(param_format));
  }
  const bool binary = param_format != Format::kText;
  PGresult* raw = PQexecParams(state_->conn, text.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               binary ? lengths.data() : nullptr, binary ? formats.data() : nullptr,
                               static_cast<int>(format));
  return wrap_result(*state_, raw);
}

Result<PgResult> Connection::describe_statement(std::string_view sql) {
  STRATA_TRY(check_idle());
  const std::string text(sql);
  STRATA_TRY(wrap_result(*state_, PQprepare(state_->conn, "", text.c_str(), 0, nullptr)));
  return wrap_result(*state_, PQdescribePrepared(state_->conn, ""));
}

Status Connection::execute(std::string_view sql) {
  STRATA_TRY(exec(sql));
  return ok_status();
}

Status Connection::enter_copy_mode(std::string_view sql, int expected, const char* what, const char* needs) {
  STRATA_TRY(check_idle());
  const std::string text(sql);
  PgResult result(PQexec(state_->conn, text.c_str()));
  if (!result.raw()) return state_->connection_error(std::string(what) + " failed");
  ExecStatusType status = PQresultStatus(result.raw());
  if (status == static_cast<ExecStatusType>(expected)) return ok_status();
  if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE) return state_->result_error(result.raw());
  result = PgResult();
  if (status == PGRES_COPY_OUT) {  // another COPY's rows: read them off so the connection is usable
    char* buffer = nullptr;
    while (PQgetCopyData(state_->conn, &buffer, 0) > 0) PQfreemem(buffer);
  }
  state_->drain_results();
  return Error(ErrorCode::kInternal, needs);
}

namespace {

constexpr const char* kCopyOutNeeds = "copy_out() needs a `COPY … TO STDOUT` statement";

// Sends `sql` and reads the replies up to its CopyOutResponse, off the wire (see wire.h). Without
// one (an error, another kind of statement) reads on to ReadyForQuery, so the connection is idle.
Result<std::unique_ptr<detail::WireReader>> start_copy_on_wire(detail::ConnectionState& state, std::string_view sql) {
  const int fd = PQsocket(state.conn);
  Status sent = detail::send_message(fd, 'Q', sql);
  if (!sent.ok()) return state.wire_failure(sent.error());
  auto wire = std::make_unique<detail::WireReader>(fd);
  std::optional<Error> failure;
  while (true) {
    Result<detail::WireMessage> message = wire->next();
    if (!message.ok()) return state.wire_failure(failure ? *failure : message.error());
    switch (message->type) {
      case 'H': return wire;
      case 'E':
        if (!failure) failure = state.server_error(detail::parse_fields(message->body));
        break;
      case 'N': state.wire_notice(detail::parse_fields(message->body)); break;
      case 'Z':
        state.settle_wire(*wire);
        return failure ? *std::move(failure) : Error(ErrorCode::kInternal, kCopyOutNeeds);
      case 'S':
      case 'A': break;
      case 'G':  // COPY FROM STDIN waits for data: refuse it, so the server ends the statement
      case 'W': {  // (a walsender ends the session instead: the next read finds it lost)
        Status refused = detail::send_message(fd, 'f', kCopyOutNeeds);  // CopyFail
        if (!refused.ok()) return state.wire_failure(refused.error());
        failure = Error(ErrorCode::kInternal, kCopyOutNeeds);
        break;
      }
      default:
        if (!failure) failure = Error(ErrorCode::kInternal, kCopyOutNeeds);
        break;
    }
  }
}

// The wire path needs a plain socket and libpq idle with nothing unread: else libpq reads.
bool wire_copy_possible(detail::ConnectionState& state) {
  if (!state.wire_copy_out || PQsslInUse(state.conn) != 0 || PQgssEncInUse(state.conn) != 0) return false;
  if (PQtransactionStatus(state.conn) == PQTRANS_ACTIVE) return false;
  char next = 0;  // a message the server sent unasked (a NOTIFY, a FATAL) is libpq's to read
  return ::recv(PQsocket(state.conn), &next, 1, MSG_PEEK | MSG_DONTWAIT) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

}  // namespace

Result<CopyOutStream> Connection::copy_out(std::string_view sql) {
  STRATA_TRY(check_idle());
  if (wire_copy_possible(*state_)) {
    STRATA_ASSIGN(std::unique_ptr<detail::WireReader> wire, start_copy_on_wire(*state_, sql));
    return CopyOutStream(state_.get(), std::move(wire));
  }
  STRATA_TRY(enter_copy_mode(sql, PGRES_COPY_OUT, "COPY", kCopyOutNeeds));
  return CopyOutStream(state_.get(), nullptr);
}

Result<ReplicationStream> Connection::start_replication(std::string_view sql) {
  STRATA_TRY(enter_copy_mode(sql, PGRES_COPY_BOTH, "START_REPLICATION",
                             "start_replication() needs a START_REPLICATION statement"));
  return ReplicationStream(state_.get());
}

Result<CopyInStream> Connection::copy_in(std::string_view sql) {
  STRATA_TRY(enter_copy_mode(sql, PGRES_COPY_IN, "COPY", "copy_in() needs a `COPY … FROM STDIN` statement"));
  return CopyInStream(state_.get());
}

Status Connection::cancel() const { return canceller().cancel(); }

Canceller Connection::canceller() const { return state_ ? Canceller(state_->cancel) : Canceller(); }

int Connection::server_version() const { return state_ && state_->conn ? PQserverVersion(state_->conn) : 0; }

int Connection::library_version() { return PQlibVersion(); }

std::string Connection::host() const { return state_ ? value_or(PQhost(state_->conn), "") : std::string(); }

int Connection::port() const { return state_ ? std::atoi(value_or(PQport(state_->conn), "0").c_str()) : 0; }

std::string Connection::database() const { return state_ ? value_or(PQdb(state_->conn), "") : std::string(); }

std::string Connection::user() const { return state_ ? value_or(PQuser(state_->conn), "") : std::string(); }

const std::string& Connection::describe() const {
  static const std::string kClosed = "closed connection";
  return state_ ? state_->where : kClosed;
}

Result<std::vector<Notification>> Connection::wait_notifications(std::chrono::milliseconds timeout,
                                                                 int interrupt_fd) {
  if (!state_ || !state_->conn) return Error(ErrorCode::kConnection, "wait_notifications() on a closed connection");
  std::vector<Notification> out;
  auto drain = [&] {
    while (PGnotify* n = PQnotifies(state_->conn)) {
      out.push_back(Notification{n->relname ? n->relname : "", n->extra ? n->extra : "", n->be_pid});
      PQfreemem(n);
    }
  };
  drain();  // some may have come with the last statement's result
  if (!out.empty()) return out;
  pollfd fds[2] = {{PQsocket(state_->conn), POLLIN, 0}, {interrupt_fd, POLLIN, 0}};
  if (fds[0].fd < 0) return state_->connection_error("the connection is closed");
  const int ready = ::poll(fds, interrupt_fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
  if (ready < 0 && errno != EINTR) return state_->connection_error("waiting for notifications failed");
  if (ready > 0 && fds[0].revents != 0) {
    if (PQconsumeInput(state_->conn) != 1) return state_->connection_error("notifications could not be read");
    drain();
  }
  return out;
}

bool Connection::ok() const { return state_ && !state_->broken(); }

int Connection::socket() const { return state_ && state_->conn ? PQsocket(state_->conn) : -1; }

PGconn* Connection::raw() const { return state_ ? state_->conn : nullptr; }

std::string Connection::quote_identifier(std::string_view name) {
  return sql::postgres_dialect().quote_identifier(name);
}

std::string Connection::quote_literal(std::string_view value) { return sql::postgres_dialect().quote_string(value); }

}  // namespace strata::pg

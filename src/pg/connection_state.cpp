#include "pg/connection_state.h"

#include <cstdlib>
#include <string>

#include "common/strings.h"
#include "pg/conninfo.h"
#include "pg/wire.h"

namespace strata::pg::detail {
namespace {

std::string field(const PGresult* result, int code) {
  const char* value = result ? PQresultErrorField(result, code) : nullptr;
  return value ? std::string(value) : std::string();
}

bool is_connection_state(std::string_view state) {
  return starts_with(state, "08") || state == "57P01" || state == "57P02" || state == "57P03";
}

}  // namespace

ConnectionState::~ConnectionState() {
  {
    std::lock_guard lock(cancel->mutex);
    if (cancel->cancel) PQfreeCancel(cancel->cancel);
    cancel->cancel = nullptr;
  }
  if (conn) PQfinish(conn);
}

std::string ConnectionState::mask(std::string_view text) const {
  std::string out = scrub(text, secrets);
  return masker ? masker->mask(out) : out;
}

std::string one_line(std::string_view text) {
  std::vector<std::string> parts;
  for (const auto& line : split(trim(text), '\n')) {
    std::string_view piece = trim(line);
    if (!piece.empty()) parts.emplace_back(piece);
  }
  return join(parts, " ");
}

bool ConnectionState::broken() const { return lost || !conn || PQstatus(conn) == CONNECTION_BAD; }

Error ConnectionState::result_error(const PGresult* result) const {
  WireFields fields;
  fields.sqlstate = field(result, PG_DIAG_SQLSTATE);
  fields.message = field(result, PG_DIAG_MESSAGE_PRIMARY);
  if (fields.message.empty()) {
    // libpq's own errors (e.g. a lost connection) have no primary field.
    const char* text = result ? PQresultErrorMessage(result) : nullptr;
    fields.message = one_line(text && *text ? text : PQerrorMessage(conn));
  }
  fields.detail = field(result, PG_DIAG_MESSAGE_DETAIL);
  fields.position = field(result, PG_DIAG_STATEMENT_POSITION);
  fields.hint = field(result, PG_DIAG_MESSAGE_HINT);
  return server_error(fields);
}

Error ConnectionState::server_error(const WireFields& fields) const {
  std::string message = fields.message;
  if (!fields.position.empty()) message += " (at character " + fields.position + ")";
  if (!fields.detail.empty()) message += "\nDETAIL: " + fields.detail;

  ErrorCode code = ErrorCode::kFailed;
  if (broken() || is_connection_state(fields.sqlstate)) {
    code = ErrorCode::kConnection;
    message = "lost the connection to PostgreSQL (" + where + "): " + message;
  } else if (fields.sqlstate == "57014") {
    code = ErrorCode::kCancelled;
  }
  return Error(code, mask(message), {}, mask(fields.hint)).with_state(fields.sqlstate);
}

Error ConnectionState::wire_failure(const Error& error) {
  lost = true;
  lost_reason = error.message();
  const std::string prefix = "lost the connection to PostgreSQL (" + where + "): ";
  std::string message = starts_with(error.message(), prefix) ? error.message() : prefix + error.message();
  return Error(ErrorCode::kConnection, mask(message), {}, error.hint()).with_state(error.state());
}

void ConnectionState::wire_notice(const WireFields& fields) const {
  if (!on_notice) return;
  std::string text = fields.severity + ":  " + fields.message;
  if (!fields.detail.empty()) text += "\nDETAIL:  " + fields.detail;
  if (!fields.hint.empty()) text += "\nHINT:  " + fields.hint;
  on_notice(mask(text));
}

void ConnectionState::settle_wire(WireReader& wire) {
  while (wire.buffered() > 0) {
    Result<WireMessage> message = wire.next();
    if (!message.ok()) {
      (void)wire_failure(message.error());
      return;
    }
    if (message->type == 'N') wire_notice(parse_fields(message->body));
    if (message->type == 'E') {
      (void)wire_failure(server_error(parse_fields(message->body)));
      return;
    }
  }
}

Error ConnectionState::connection_error(std::string_view what) const {
  // After a wire read lost the connection, libpq's last message is about something else.
  std::string reason = lost ? lost_reason : one_line(conn ? PQerrorMessage(conn) : "no connection");
  ErrorCode code = broken() ? ErrorCode::kConnection : ErrorCode::kFailed;
  std::string message = std::string(what) + " (" + where + ")";
  if (!reason.empty()) message += ": " + reason;
  return Error(code, mask(message));
}

std::optional<Error> ConnectionState::drain_results(int64_t* rows) {
  std::optional<Error> first;
  while (PGresult* result = PQgetResult(conn)) {
    ExecStatusType status = PQresultStatus(result);
    if (status == PGRES_COPY_OUT) {
      // A second COPY in the statements copy_out() ran: its rows are read off and refused.
      char* buffer = nullptr;
      while (PQgetCopyData(conn, &buffer, 0) > 0) PQfreemem(buffer);
      if (!first) first = Error(ErrorCode::kInternal, kOneCopy);
    } else if (status == PGRES_COPY_IN) {
      PQputCopyEnd(conn, "abandoned by strata");
    } else if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
      if (!first) first = result_error(result);
    } else if (rows) {
      const char* tuples = PQcmdTuples(result);
      if (tuples && *tuples) *rows = std::strtoll(tuples, nullptr, 10);
    }
    PQclear(result);
    if (broken()) break;
  }
  return first;
}

}  // namespace strata::pg::detail

#pragma once
// Parsing of the messages of PostgreSQL's built-in logical decoding plugin `pgoutput` (protocol
// version 1, as START_REPLICATION … (proto_version '1', publication_names '…', binary 'true')
// sends them): Begin, Commit, Origin, Relation, Type, Insert, Update, Delete, Truncate and
// logical decoding Messages. A tuple's values point into the payload they were parsed from: a
// parsed message is valid only while that payload is. Pure functions; thread-compatible.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "pg/replication.h"

namespace strata::pg {

// One column value of a tuple. kind: 'n' NULL, 'u' an unchanged TOASTed value (not sent),
// 't' text form, 'b' binary form (the type's send format, as in binary COPY).
struct TupleValue {
  char kind = 'n';
  std::string_view bytes;
};
using TupleData = std::vector<TupleValue>;

struct RelationColumn {
  std::string name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
  bool key = false;  // part of the replica identity
};

struct PgOutputMessage {
  // 'B' begin, 'C' commit, 'O' origin, 'R' relation, 'Y' type, 'I' insert, 'U' update,
  // 'D' delete, 'T' truncate, 'M' message.
  char type = 0;
  // Begin: the commit's LSN (final_lsn). Commit: commit_lsn. Origin, Message: their LSN.
  Lsn lsn = 0;
  Lsn end_lsn = 0;           // Commit: the end of the commit record
  int64_t timestamp = 0;     // Begin, Commit: commit time, microseconds since 2000-01-01 UTC
  uint32_t xid = 0;          // Begin
  uint32_t relation = 0;     // Relation, Insert, Update, Delete: the relation's OID; Type: the type's
  // Relation: schema (empty = pg_catalog), name, replica identity ('d' default, 'n' nothing,
  // 'f' full, 'i' index) and columns. Type: schema and name.
  std::string schema, name;
  char replica_identity = 0;
  std::vector<RelationColumn> columns;
  // Update, Delete: 'K' (old key columns), 'O' (old full row) or 0 (none sent).
  char old_kind = 0;
  TupleData old_tuple;
  TupleData new_tuple;  // Insert, Update
  std::vector<uint32_t> truncated;  // Truncate: the relations' OIDs
  // Message (pg_logical_emit_message; sent with the `messages 'true'` option): `name` is its
  // prefix, `lsn` its position, `transactional` its flag, `content` its bytes.
  bool transactional = false;
  std::string_view content;
  bool cascade = false, restart_identity = false;  // Truncate options
};

// Parses one XLogData payload. Errors (kFailed, "malformed pgoutput message …") for a truncated
// or unknown message.
Result<PgOutputMessage> parse_pgoutput(std::string_view payload);

}  // namespace strata::pg

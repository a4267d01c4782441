#pragma once
// `replication: cdc`: streams read from PostgreSQL's logical replication (pgoutput), as Airbyte's
// Postgres source does in CDC mode.
//
// First sync (no LSN in the streams' states, or --full-refresh): Strata creates the connection's
// slot on a replication connection with CREATE_REPLICATION_SLOT … LOGICAL pgoutput (SNAPSHOT
// 'export') and reads every stream with the ordinary snapshot read inside that exported snapshot;
// each stream's state records the slot's consistent point. Later syncs: START_REPLICATION from the
// stream's recorded LSN with binary 'true' (values in each type's send format, decoded by the
// binary COPY decoder), up to the commit of a logical decoding message the sync wrote (in a
// synchronously committed transaction of its own) when it started: every transaction committed
// before the sync began comes before it in commit order. Each change is a
// row (_strata_lsn: its LSN; a delete has _strata_deleted_at, its commit time, and the old key).
// The rows and the new LSN commit in one warehouse transaction; only after every stream committed
// does a Standby Status Update confirm the smallest recorded LSN, so the slot keeps the WAL a
// crash before a commit has to read again. Transactions whose commit lies below a stream's recorded
// LSN are skipped: the recorded LSN is the truth, confirmed_flush_lsn only frees WAL.
//
// Choices (written down in README.md and docs/architecture.md): the user creates the publication (as Airbyte
// asks); Strata creates the slot (the exported snapshot needs the slot's creation). A sync
// decodes the WAL once for all streams: the first stream's read records what the slot sends (from
// the smallest of the streams' positions) in a ChangeSpool the others replay.
// A stream added after the slot's first sync (or whose first read failed) is read alone, in the
// exported snapshot of a temporary slot created for it, and follows the connection's slot from
// that snapshot's consistent point on (as Airbyte snapshots a new stream alone); --full-refresh
// drops and re-creates the slot and re-reads every stream. A --stream sync confirms the slot
// only up to the smallest position of all the connection's streams, also those it left out. TRUNCATE is
// reported as a warning and leaves bronze as it is (Airbyte ignores it). An unchanged TOASTed value
// of an UPDATE (not sent by PostgreSQL unless REPLICA IDENTITY FULL) is carried over from the
// key's previous version, in the same read or in bronze (Debezium, under Airbyte, writes a
// placeholder instead); without a primary key it becomes NULL and the stream's report warns.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secrets.h"
#include "ingest/bronze.h"
#include "ingest/catalog.h"
#include "ingest/change_spool.h"
#include "ingest/connection_config.h"
#include "ingest/extract.h"
#include "pg/connection.h"
#include "pg/replication.h"
#include "warehouse/warehouse.h"

namespace strata::ingest {

// The prefix of the logical decoding messages that mark where a sync's read of changes ends.
inline constexpr const char* kCdcMarkerPrefix = "strata_sync";

// A column the snapshot read casts to text (pg::ColumnMapping::cast_to_text: inet, ranges,
// tsvector, citext …): a change carries the type's binary send form, which the source turns into
// the snapshot's text, a batch of changes at a time, so both reads give the same values.
struct TextConversion {
  std::string type;        // format_type() of the column, e.g. "inet" or "inet[]"
  std::string expression;  // the snapshot read's select expression, applied to a column "v"
};

// How one cdc stream is read by this sync.
struct CdcRead {
  std::string snapshot;         // non-empty: the first read, of the table in this exported snapshot
  pg::Lsn snapshot_lsn = 0;     // with a snapshot: the slot's consistent point
  pg::Lsn from = 0;             // changes: the stream's recorded LSN (transactions at or below it are skipped)
  // changes: the content of the logical decoding message (prefix kCdcMarkerPrefix) this sync wrote
  // when it began, in a transaction of its own committed synchronously: its commit ends the read,
  // as every transaction committed before the sync began comes before it in commit order.
  std::string marker;
  pg::Lsn confirmable = 0;      // what status replies may confirm (the smallest recorded LSN)
  std::map<std::string, TextConversion> text_columns;  // changes: by source column name
  std::optional<Error> error;   // set: the stream cannot run (e.g. added after the slot was created)
  // changes: the sync's spool, shared by its reads of changes. The first one reads the slot from
  // spool_from (the smallest of their positions) and records what it receives; the others replay
  // that, when it is complete, instead of decoding the WAL again.
  std::shared_ptr<ChangeSpool> spool;
  pg::Lsn spool_from = 0;
};

// What a read of changes found.
struct CdcReadResult {
  pg::Lsn lsn = 0;  // the stream's position after them (to record with the rows)
  std::vector<std::string> warnings;
  // The source columns (plan indexes) flagged in kUnchangedToastColumn in some row.
  std::vector<size_t> unchanged_columns;
};

// The cdc side of one sync: checks the source, creates or finds the slot, and decides how each
// stream reads. Holds the replication connection whose exported snapshot the first reads use
// (it must stay open and idle until they finish).
class CdcSync {
 public:
  // Checks the source for the selected streams of `config` (already validated) and prepares the
  // reads; `states` are the streams' states (read_state_table). Errors (kConfig, located in the
  // connection file, exit code 2): wal_level is not logical; the publication does not exist or
  // lacks a stream's table; a table has neither a primary key nor REPLICA IDENTITY FULL; the slot
  // is missing (or of another plugin or database) although streams recorded positions in it. kUsage: --full-refresh or a first sync of some streams only
  // (--stream), which would move the slot under the others. kConnection: the source.
  static Result<std::unique_ptr<CdcSync>> start(const ConnectionConfig& config, pg::Connection& source,
                                                const Catalog& catalog, const StateTable& states,
                                                bool full_refresh, bool some_streams, SecretMasker* masker);

  // How `stream` reads in this sync.
  const CdcRead& read_for(const StreamConfig& stream) const;
  // Records that `stream` committed its rows up to `lsn` (its new position).
  void committed(const StreamConfig& stream, pg::Lsn lsn);
  // After every stream ran: confirms the smallest position the streams recorded with a Standby
  // Status Update, so the slot releases the WAL before it. Errors: kConnection, the server's.
  Status confirm();

  CdcSync(const CdcSync&) = delete;
  CdcSync& operator=(const CdcSync&) = delete;
  ~CdcSync();

 private:
  // A slot's exported snapshot: its name and the slot's consistent point.
  struct ExportedSnapshot {
    std::string name;
    pg::Lsn point = 0;
    CdcRead read() const;  // a first read in it
  };
  CdcSync() = default;
  // Runs `create_slot` (a CREATE_REPLICATION_SLOT command without its options) with SNAPSHOT
  // 'export' on a new replication connection, which then holds the snapshot (replication_).
  Result<ExportedSnapshot> export_snapshot(const std::string& create_slot);
  const ConnectionConfig* config_ = nullptr;
  SecretMasker* masker_ = nullptr;
  std::optional<pg::Connection> replication_;  // holds the exported snapshot, when one was taken
  std::vector<std::pair<std::string, CdcRead>> reads_;  // by stream full name
  std::vector<std::pair<std::string, pg::Lsn>> positions_;  // each stream's recorded LSN
  pg::Lsn slot_confirmed_ = 0;
};

// A replication connection (replication=database) to the source. Errors: as Connection::connect.
Result<pg::Connection> connect_replication(const ConnectionConfig& config, SecretMasker* masker);

// A replication connection streaming the connection's slot from `from` (START_REPLICATION with
// pgoutput's protocol 1, the publication, logical decoding messages, and binary values when
// `binary`). A slot still held by
// the walsender of a client that just went away (a killed sync) is waited for, up to 10 s.
// `cancel` (optional) gets the connection. Errors: the server's (55006 after the wait), kConnection.
struct SlotStream {
  pg::Connection connection;
  pg::ReplicationStream stream;  // declared after: ends before its connection closes
};
Result<SlotStream> stream_slot(const ConnectionConfig& config, pg::Lsn from, bool binary, SecretMasker* masker,
                               pg::CancelGroup* cancel = nullptr);

// The stage-only column of a read of changes that lists, per row, the source columns whose value
// was an unchanged TOASTed one PostgreSQL did not send (",i,j,": their plan indexes; NULL when
// none). The merge fills those from the key's previous version (carry_unchanged_sql) and drops
// the column: it never reaches bronze.
inline constexpr const char* kUnchangedToastColumn = "_strata_unchanged_toast";

// The columns a cdc read adds after the source's: _strata_lsn (BIGINT), _strata_deleted_at
// (TIMESTAMPTZ), and for a read of changes of a stream with a key and a variable-width column,
// kUnchangedToastColumn (VARCHAR). For a snapshot read their select expressions are the
// consistent point and NULL.
void add_cdc_columns(ReadPlan& plan, const CdcRead& read, const StreamConfig& stream);
// How many of plan's columns come from the source (those before add_cdc_columns').
size_t source_column_count(const ReadPlan& plan);

// SQL filling, in `stage`, the values of `column` (source index `index`) that rows flagged in
// kUnchangedToastColumn lack: from the latest earlier staged row of the key that has it, else from
// the key's latest row (by _strata_lsn) in the `prior` relations (bronze's table, or a
// merge-on-read bronze's base and delta). A key found nowhere keeps NULL. Pure.
std::string carry_unchanged_sql(const sql::Dialect& dialect, const warehouse::Relation& stage,
                                const std::vector<warehouse::Relation>& prior, const std::vector<std::string>& key,
                                const std::string& column, size_t index);

// Reads one stream for `read`: the table in the exported snapshot (read_stream), or its changes
// from the slot. `plan` lists the source columns then add_cdc_columns'. Batches go to `consumer`
// as in read_stream. The text conversions of read.text_columns run on options.connection (or a
// connection of their own). Errors: as read_stream's; kFailed for a malformed replication stream.
Result<CdcReadResult> read_cdc_stream(const ConnectionConfig& config, const StreamConfig& stream, const ReadPlan& plan,
                                      const CdcRead& read, const ReadOptions& options, const BatchConsumer& consumer);

}  // namespace strata::ingest

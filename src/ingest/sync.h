#pragma once
// `strata sync`: runs a connection's streams from PostgreSQL into bronze, exactly once.
//
// Per stream, ONE warehouse transaction holds the rows and the state that covers them: create a
// staging table, COPY (binary) → decoder → bulk writer into it, apply schema changes,
// swap/append/merge the staged rows into bronze per sync mode and write the stream's
// `_strata_state` row (cursor, schema hash, sync id), commit. A crash at any point leaves bronze
// and state consistent; the next sync resumes from the last commit. A stream that fails before
// that commit commits no rows; other streams' commits stand. On DuckDB, incremental_dedup bronze
// is stored merge-on-read (merge_on_read.h): transactions of their own may change how bronze is
// stored (before the sync, a view becoming a table; after it, a compaction), never which rows it
// shows; a compaction that fails after the commit fails the stream's report, its rows stay.

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/secrets.h"
#include "ingest/catalog.h"
#include "pg/connection.h"
#include "ingest/connection_config.h"
#include "warehouse/warehouse.h"

namespace strata::ingest {

struct StreamReport {
  std::string stream;   // source "schema.table"
  std::string bronze;   // "bronze.table"
  std::string mode;
  bool ok = false;
  std::string error;    // masked; empty when ok
  bool unreachable = false;  // failed because the source could not be reached or was lost
  uint64_t rows = 0;    // rows read from the source
  uint64_t bytes = 0;   // COPY bytes received
  uint64_t notes = 0;   // values replaced by NULL, whole or an array element (see _strata_meta)
  double seconds = 0;
  double stage_seconds = 0;  // of which reading the source into the committed staging table
  double merge_seconds = 0;  // of which moving the stage into bronze (and compacting, if it did)
  int parallelism = 1;
  std::optional<std::string> cursor_before, cursor_after;
  std::vector<std::string> schema_changes;  // human-readable, one per change
  std::vector<std::string> warnings;        // a stream that succeeded with something left to do
};

struct SyncReport {
  std::string sync_id;
  std::string connection;
  std::string started_at, finished_at;  // ISO 8601 UTC
  std::vector<StreamReport> streams;
  bool ok() const;
};

// staging_memory for a process that owns the database (strata sync).
inline constexpr uint64_t kStagingMemory = uint64_t{128} << 20;

struct SyncOptions {
  std::vector<std::string> only_streams;  // --stream (schema.table or table); empty = all
  bool full_refresh = false;              // ignore cursors; rebuild every selected stream
  SecretMasker* masker = nullptr;
  // DuckDB only: the database's worker threads while a stream is staged and merged into bronze
  // (restored afterwards); 0 leaves them alone. 1 suits a process that owns the database (strata
  // sync): the staging session then compresses on its own thread instead of waking workers that
  // compete with the source read for the cores (measured: ~25 % less CPU, 15 % less wall time at
  // pgbench scale 10 on 2 busy cores), and a small incremental merge skips the parallel insert's
  // per-thread collections and the client thread's spinning on them (measured: 1-10 % less wall
  // time and 2-10 % less CPU for the incremental sync at scale 50, near the noise). Not for a
  // database shared with concurrent work (strata serve). > 0 also declares that the process
  // closes the database after the sync (which checkpoints it): the last stream's commit then
  // checkpoints at once instead of logging its rows to the WAL first (measured: the incremental
  // sync at scale 50 ~15 % shorter).
  int staging_threads = 0;
  // DuckDB only, in bytes: the database's memory_limit while a stream is staged, merged and
  // compacted (restored afterwards); 0 leaves it alone. DuckDB holds a transaction's appended rows
  // in memory until a row group of 122,880 fills, so without a limit a table of 4 KB rows staged
  // ~1 GB whatever its size; under the limit it spills them to its temporary folder (measured with
  // 1.2 GB of 4 KB rows: 923 MB peak RSS without, 250 MB with 128 MiB, in the same time). The limit
  // is raised for wider rows (see staging_memory_limit). Like staging_threads, for a process that
  // owns the database.
  uint64_t staging_memory = 0;
  // Optional: cancelling it stops the source's statements (discovery, every reader), also while
  // PostgreSQL makes them wait; the stream being read then fails with kCancelled. Cancel the
  // warehouse's side too (e.g. orchestrate::CancellableDatabase) so later streams do not start.
  pg::CancelGroup* source_cancel = nullptr;
  // Called about twice a second while a stream reads (for a terminal progress line), and once
  // with done=true when it ends. May be empty.
  std::function<void(const std::string& stream, uint64_t rows, uint64_t bytes, double seconds, double estimated_rows,
                     bool done)>
      on_progress;
};

// Runs the sync. Errors (returned, nothing synced): kConfig for streams that do not match the
// catalog or an unknown --stream (located in the connection file), kConnection when the source
// cannot be reached for discovery, warehouse errors preparing bronze. Stream failures are in the
// report (ok == false) instead.
Result<SyncReport> run_sync(ConnectionConfig& config, warehouse::Database& db, const SyncOptions& options);

// Opens the warehouse (e.g. ingest::open_destination of a resolve_destination) for a process that owns it.
using DatabaseOpener = std::function<Result<std::unique_ptr<warehouse::Database>>()>;
// As run_sync, for a process that opens the warehouse for the sync (strata sync): the source is
// connected to and discovered on another thread while `open_database` runs (each costs tens of
// milliseconds, a large share of a small incremental sync; creating a DuckDB file costs more).
// The opened database is left in `database` (the caller closes it, which checkpoints DuckDB).
// Errors: open_database's first, then run_sync's. A DuckDB file the open created stays on an
// error: see CreatedDatabaseCleanup. `open_database` must not change `config`.
Result<SyncReport> run_sync(ConnectionConfig& config, const DatabaseOpener& open_database, const SyncOptions& options,
                            std::unique_ptr<warehouse::Database>& database);

// How many readers read a stream: its own `parallelism` (at most one per page); else, for a
// table (or materialized view, or partitioned table) of at least config.parallel_threshold_bytes
// that fits in the source's shared_buffers (0: unknown, assumed to fit), config.max_parallelism;
// else 1. Views and one-page tables always get 1.
int read_parallelism(const CatalogTable& table, const StreamConfig& stream, const ConnectionConfig& config,
                     int64_t shared_buffers_bytes);

// The report as JSON (the stored and --json form) and as a text table.
nlohmann::json report_to_json(const SyncReport& report);
std::string report_to_text(const SyncReport& report);
// Writes <dir>/<sync_id>.json (creating dir). Errors: kFailed when the file cannot be written.
Status store_report(const SyncReport& report, const std::string& dir);

}  // namespace strata::ingest

#pragma once
// Extraction: reads one stream from PostgreSQL with `COPY (SELECT …) TO STDOUT (FORMAT binary)`,
// decoding straight into column batches. A large table is read in parallel: ctid page ranges over
// N connections that all use one snapshot (pg_export_snapshot + SET TRANSACTION SNAPSHOT in
// REPEATABLE READ READ ONLY), so a row updated during the read is neither lost nor doubled. Rows
// come in physical order (never ORDER BY). Memory is bounded: the batch each reader decodes, and
// the queue of decoded batches (ReadOptions::queue_bytes).

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secrets.h"
#include "pg/connection.h"
#include "pg/copy_binary.h"
#include "sql/column_batch.h"

namespace strata::ingest {

// What to read.
struct ReadPlan {
  std::string relation;                  // quoted "schema"."table"
  std::vector<std::string> expressions;  // quoted select expressions, one per column
  std::vector<pg::CopyColumn> columns;   // how each arrives (same order)
  std::string where;                     // a predicate (the cursor's), or empty
  // True when relation is a plain table and every expression is a bare column: a whole-table read
  // then uses `COPY table (columns) TO`, which PostgreSQL serves without the executor.
  bool plain_table = false;
  int parallelism = 1;                   // > 1: ctid ranges (tables, matviews, partitioned tables)
  int64_t pages = 0;                     // heap pages of the (largest) relation, for the ranges
};

// Counters other threads may read while a read runs (progress display).
struct ReadProgress {
  std::atomic<uint64_t> rows{0};
  std::atomic<uint64_t> bytes{0};
};

// Receives every batch, always on the calling thread of read_stream, in no particular order
// across ranges. A non-ok Status stops the read and is returned.
using BatchConsumer = std::function<Status(sql::ColumnBatch&& batch)>;

struct ReadOptions {
  std::string conninfo;           // contains the password: never logged
  SecretMasker* masker = nullptr;  // receives the password for error scrubbing
  pg::CopyDecoderOptions decoder;
  ReadProgress* progress = nullptr;  // optional
  // An open, idle connection to the source the read may use (for a single range, or as the
  // coordinator of a parallel read) instead of opening one: a new backend costs ~10 ms, a large
  // share of a small incremental read. Left idle after a successful read; after a failure its
  // state is unknown and the caller should close it. If its first statement fails with a lost
  // connection (the server restarted since it was opened), the read opens a fresh one instead.
  pg::Connection* connection = nullptr;
  // A parallel read's decoded batches waiting for the consumer are held up to this many bytes
  // (always at least one batch): readers of wide rows, each batch up to decoder.batch_bytes, then
  // wait instead of queueing a dozen such batches. Each reader also holds the batch it decodes.
  size_t queue_bytes = size_t{32} << 20;
  // Optional: every connection the read uses joins it, so cancelling it from another thread (a
  // signal, a task's timeout) stops a read even while PostgreSQL makes it wait, e.g. on a lock.
  // The read then fails with kCancelled.
  pg::CancelGroup* cancel = nullptr;
  // An exported snapshot (a replication slot's, see cdc.h) the read runs in instead of its own:
  // its transaction imports it with SET TRANSACTION SNAPSHOT. Empty: a snapshot of its own.
  std::string snapshot;
};

// The COPY statement for a plan, restricted to a ctid page range [first_page, end_page) when
// end_page >= 0 (end_page < 0 with first_page > 0: from first_page to the end).
std::string copy_statement(const ReadPlan& plan, int64_t first_page = 0, int64_t end_page = -1);

// Reads the whole stream in one consistent snapshot. Errors: kConnection when the source cannot
// be reached or is lost (the message says which), kFailed for a failed statement or a malformed
// stream, or the consumer's error.
Status read_stream(const ReadPlan& plan, const ReadOptions& options, const BatchConsumer& consumer);

}  // namespace strata::ingest

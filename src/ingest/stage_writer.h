#pragma once
// StageWriter: loads one stream's rows into a staging table and moves them into bronze in ONE
// warehouse transaction on its own session: open() begins it and runs the setup SQL (create the
// stage), append() queues batches for a writer thread (so the warehouse's encoding and compression
// overlap the source read), finish() flushes, commit() runs the merge SQL (stage → bronze, sync
// state) and commits. Nothing is visible or durable before that commit; a failure or a crash at
// any point leaves bronze and its state as they were (destruction without commit() rolls back).
// The queue holds up to kQueueBytes of batches (always at least one): DuckDB compresses a whole
// row group (122,880 rows) at a time, and a deep queue lets the source keep streaming meanwhile
// instead of stalling the COPY; memory stays bounded by that budget.
// One session: measured with pgbench scale 50, several DuckDB sessions were slower and used more
// memory. append() is called by one thread; the writer thread is internal. Not copyable.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.h"
#include "sql/column_batch.h"
#include "warehouse/warehouse.h"

namespace strata::ingest {

class StageWriter {
 public:
  StageWriter() = default;
  ~StageWriter();
  StageWriter(const StageWriter&) = delete;
  StageWriter& operator=(const StageWriter&) = delete;

  // Opens a session on db, begins its transaction, runs setup_sql (which must create `stage`) and
  // starts a bulk writer into `stage` for the columns of `schema` (a subset of the stage's columns
  // is allowed; the others get their defaults). Errors: the warehouse's.
  Status open(warehouse::Database& db, const std::string& setup_sql, const warehouse::Relation& stage,
              const sql::Schema& schema);
  // Queues a batch (blocks while the queue is full). Errors: the writer's first failure.
  Status append(sql::ColumnBatch&& batch);
  // Waits for the queued batches and flushes the writer. Errors: the writer's first failure.
  Status finish();
  // After finish(): runs sql in the same transaction and commits. Errors: the statement's (rolled
  // back) or the commit's.
  Status commit(const std::string& sql);

 private:
  void run();

  std::unique_ptr<warehouse::Warehouse> wh_;
  std::unique_ptr<warehouse::BulkWriter> writer_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<sql::ColumnBatch> queue_;
  size_t queue_bytes_ = 0;  // byte_size() of the queued batches
  static constexpr size_t kQueueBytes = size_t{32} << 20;
  bool closed_ = false;
  Status status_;  // the writer thread's failure; guarded by mutex_
  bool in_transaction_ = false;
};

}  // namespace strata::ingest

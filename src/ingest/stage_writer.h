#pragma once
// StageWriter: loads one stream's rows into a staging table and moves them into bronze in ONE
// warehouse transaction on its own session: open() begins it and starts a writer thread, which runs
// the setup SQL (create the stage, shaped by the first batch) and then the session's bulk load
// (Warehouse::load) into the stage; append() queues batches for that load (so the warehouse's
// encoding and compression overlap the source read), finish() ends the load, commit() runs the
// merge SQL (stage → bronze, sync state) and commits. Nothing is visible or durable before that
// commit; a failure or a crash at any point leaves bronze and its state as they were (destruction
// without commit() stops the load and rolls back).
// The queue holds up to kQueueBytes of batches (always at least one): DuckDB compresses a whole
// row group (122,880 rows) at a time, and a deep queue lets the source keep streaming meanwhile
// instead of stalling the COPY; memory stays bounded by that budget.
// One session: measured with pgbench scale 50, several DuckDB sessions were slower and used more
// memory. append() is called by one thread; the writer thread is internal. Not copyable.

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/result.h"
#include "sql/column_batch.h"
#include "warehouse/warehouse.h"

namespace strata::ingest {

// The DuckDB memory limit for staging rows averaging `row_bytes` (a batch's byte_size over its
// rows): `base` while one and a half vectors of such rows fit in a quarter of it, else `base` plus
// those vectors rounded up to 64 MiB. Why: DuckDB compresses a column one vector (2,048 rows) at
// a time and pins all of that vector's strings meanwhile, whatever its memory limit (a checkpoint
// of 512 KB documents failed under 800 MB and passed under 1.2 GB). Pure.
uint64_t staging_memory_limit(uint64_t base, double row_bytes);

class StageWriter {
 public:
  StageWriter() = default;
  ~StageWriter();
  StageWriter(const StageWriter&) = delete;
  StageWriter& operator=(const StageWriter&) = delete;

  // The setup SQL, which must create the stage, given the first batch (nullptr when there are no
  // rows). Called once, on the writer thread.
  using SetupSql = std::function<std::string(const sql::ColumnBatch* first)>;
  // Opens a session on db, begins its transaction and starts the writer thread: once the first
  // batch is queued (or finish() is called) it runs setup(first), then loads into `stage` the
  // columns of `schema` (a subset of the stage's columns is allowed; the others get their
  // defaults). Errors: the warehouse's; the setup's come from append() or finish().
  Status open(warehouse::Database& db, SetupSql setup, const warehouse::Relation& stage, const sql::Schema& schema);
  // Queues a batch (blocks while the queue is full). Errors: the load's failure.
  Status append(sql::ColumnBatch&& batch);
  // Waits until the load has written every queued batch. Errors: the load's failure.
  Status finish();
  // After finish(): runs sql in the same transaction and commits. Errors: the statement's (rolled
  // back) or the commit's.
  Status commit(const std::string& sql);

 private:
  // The writer thread: runs the setup, then the load, which pulls batches through take().
  void run(const SetupSql& setup, const warehouse::Relation& stage, const sql::Schema& schema);
  // The next queued batch (waits for one); nullopt once finish() was called and the queue is
  // empty; an error once the writer is being destroyed unfinished.
  Result<std::optional<sql::ColumnBatch>> take();

  std::unique_ptr<warehouse::Warehouse> wh_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<sql::ColumnBatch> queue_;
  size_t queue_bytes_ = 0;  // byte_size() of the queued batches
  static constexpr size_t kQueueBytes = size_t{32} << 20;
  bool closed_ = false;     // no more batches: finish() was called, or the load ended
  bool abandoned_ = false;  // destroyed before finish(): the load must stop
  Status status_;           // the load's failure; guarded by mutex_
  bool in_transaction_ = false;
};

}  // namespace strata::ingest

#pragma once
// StageWriter: appends batches to a committed staging table through several warehouse sessions at
// once (each in its own transaction, committed at finish()), so the warehouse's encoding and
// compression work runs on several cores while the source is read. Staged rows are invisible to
// bronze until the sync's merge transaction, so partial stages after a failure are harmless (the
// next sync replaces the staging table).
// append() is called by one thread; the writer threads are internal. Not copyable.

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

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

  // Opens `sessions` sessions on db, each with a transaction and a bulk writer into `stage`.
  // Errors: the warehouse's (connect, begin, writer).
  Status open(warehouse::Database& db, const warehouse::Relation& stage, const sql::Schema& schema, int sessions);
  // Queues a batch (blocks while the queue is full). Errors: the first writer's failure.
  Status append(sql::ColumnBatch&& batch);
  // Flushes and commits every session. Errors: the first failure (the others are rolled back).
  Status finish();

 private:
  struct Session {
    std::unique_ptr<warehouse::Warehouse> wh;
    std::unique_ptr<warehouse::BulkWriter> writer;
    std::thread thread;
    Status status;
  };
  void run(Session& session);
  Status first_error();

  std::vector<std::unique_ptr<Session>> sessions_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<sql::ColumnBatch> queue_;
  size_t capacity_ = 4;
  bool closed_ = false;
  bool failed_ = false;
};

}  // namespace strata::ingest

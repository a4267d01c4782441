#include "ingest/stage_writer.h"

#include <algorithm>
#include <utility>

#include "common/batch_scheduling.h"

namespace strata::ingest {

uint64_t staging_memory_limit(uint64_t base, double row_bytes) {
  constexpr double kVectorRows = 2048;
  constexpr uint64_t kStep = uint64_t{64} << 20;  // coarse, so a stream raises the limit a few times at most
  const double vectors = 1.5 * kVectorRows * std::max(row_bytes, 0.0);
  if (vectors * 4 <= static_cast<double>(base)) return base;
  return base + (static_cast<uint64_t>(vectors) + kStep - 1) / kStep * kStep;
}

StageWriter::~StageWriter() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    abandoned_ = true;
    queue_.clear();  // not finished: drop what is queued
    queue_bytes_ = 0;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (in_transaction_) (void)wh_->rollback();
}

Status StageWriter::open(warehouse::Database& db, SetupSql setup, const warehouse::Relation& stage,
                         const sql::Schema& schema) {
  STRATA_ASSIGN(wh_, db.connect());
  STRATA_TRY(wh_->begin());
  in_transaction_ = true;
  thread_ = std::thread([this, setup = std::move(setup), stage, schema] { run(setup, stage, schema); });
  return ok_status();
}

void StageWriter::run(const SetupSql& setup, const warehouse::Relation& stage, const sql::Schema& schema) {
  const BatchScheduling bulk_work;
  Result<std::optional<sql::ColumnBatch>> first = take();
  Status loaded = first.ok() ? ok_status() : Status(first.error());
  if (loaded.ok()) loaded = wh_->execute(setup(*first ? &**first : nullptr));
  if (loaded.ok()) {
    std::optional<sql::ColumnBatch> held = std::move(*first);
    loaded = wh_->load(stage, schema, [&]() -> Result<std::optional<sql::ColumnBatch>> {
      if (held) return std::exchange(held, std::nullopt);
      return take();
    });
  }
  {
    std::lock_guard lock(mutex_);
    if (!loaded.ok() && status_.ok()) status_ = std::move(loaded);
    closed_ = true;
    queue_.clear();
    queue_bytes_ = 0;
  }
  changed_.notify_all();
}

Result<std::optional<sql::ColumnBatch>> StageWriter::take() {
  std::optional<sql::ColumnBatch> batch;
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return !queue_.empty() || closed_; });
    if (abandoned_) return Error(ErrorCode::kCancelled, "the stage load was abandoned");
    if (queue_.empty()) return batch;
    batch = std::move(queue_.front());
    queue_.pop_front();
    queue_bytes_ -= std::min(queue_bytes_, batch->byte_size());
  }
  changed_.notify_all();
  return batch;
}

Status StageWriter::append(sql::ColumnBatch&& batch) {
  const size_t bytes = batch.byte_size();
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.empty() || queue_bytes_ + bytes <= kQueueBytes || closed_; });
    if (!status_.ok()) return status_;
    if (closed_) return Error(ErrorCode::kInternal, "append() after finish() on a stage writer");
    queue_.push_back(std::move(batch));
    queue_bytes_ += bytes;
  }
  changed_.notify_all();
  return ok_status();
}

Status StageWriter::finish() {
  if (!thread_.joinable()) return Error(ErrorCode::kInternal, "finish() on a stage writer that is not loading");
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
  thread_.join();
  return status_;
}

Status StageWriter::commit(const std::string& sql) {
  if (!in_transaction_ || thread_.joinable()) {
    return Error(ErrorCode::kInternal, "commit() before finish() on a stage writer");
  }
  Status applied = wh_->execute(sql);
  if (!applied.ok()) return applied;  // the destructor rolls back
  in_transaction_ = false;
  return wh_->commit();
}

}  // namespace strata::ingest

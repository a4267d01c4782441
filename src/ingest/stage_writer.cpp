#include "ingest/stage_writer.h"

namespace strata::ingest {

StageWriter::~StageWriter() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
    failed_ = true;  // not finished: drop what is queued
    queue_.clear();
  }
  changed_.notify_all();
  for (auto& s : sessions_) {
    if (s->thread.joinable()) s->thread.join();
    if (s->wh) (void)s->wh->rollback();
  }
}

Status StageWriter::open(warehouse::Database& db, const warehouse::Relation& stage, const sql::Schema& schema,
                         int sessions) {
  capacity_ = static_cast<size_t>(2 * sessions);
  for (int i = 0; i < sessions; ++i) {
    auto s = std::make_unique<Session>();
    STRATA_ASSIGN(s->wh, db.connect());
    STRATA_TRY(s->wh->begin());
    STRATA_ASSIGN(s->writer, s->wh->writer(stage, schema));
    sessions_.push_back(std::move(s));
  }
  for (auto& s : sessions_) {
    Session* session = s.get();
    s->thread = std::thread([this, session] { run(*session); });
  }
  return ok_status();
}

void StageWriter::run(Session& session) {
  while (true) {
    sql::ColumnBatch batch;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !queue_.empty() || closed_; });
      if (queue_.empty()) break;
      batch = std::move(queue_.front());
      queue_.pop_front();
    }
    changed_.notify_all();
    Status st = session.writer->append(batch);
    if (!st.ok()) {
      std::lock_guard lock(mutex_);
      session.status = std::move(st);
      failed_ = true;
      queue_.clear();
      changed_.notify_all();
      return;
    }
  }
  {
    std::lock_guard lock(mutex_);
    if (failed_) return;
  }
  Status st = session.writer->finish();
  if (!st.ok()) {
    std::lock_guard lock(mutex_);
    session.status = std::move(st);
    failed_ = true;
  }
}

// Called with mutex_ held or after every thread was joined.
Status StageWriter::first_error() {
  for (auto& s : sessions_) {
    if (!s->status.ok()) return s->status;
  }
  return Error(ErrorCode::kFailed, "writing the staging table failed");
}

Status StageWriter::append(sql::ColumnBatch&& batch) {
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return queue_.size() < capacity_ || failed_; });
    if (failed_) return first_error();
    queue_.push_back(std::move(batch));
  }
  changed_.notify_all();
  return ok_status();
}

Status StageWriter::finish() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  changed_.notify_all();
  for (auto& s : sessions_) s->thread.join();
  for (auto& s : sessions_) {
    if (!s->status.ok()) return s->status;
  }
  if (failed_) return first_error();
  for (auto& s : sessions_) {
    s->writer.reset();
    STRATA_TRY(s->wh->commit());
  }
  sessions_.clear();
  return ok_status();
}

}  // namespace strata::ingest

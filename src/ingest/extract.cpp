#include "ingest/extract.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include "common/batch_scheduling.h"
#include "ingest/discover.h"
#include "pg/connection.h"

namespace strata::ingest {
namespace {

constexpr const char* kBeginSnapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";

// A multi-producer, single-consumer queue of batches, bounded both in batches and in bytes (it
// always takes one batch when empty, however large); close() wakes everyone.
class BatchQueue {
 public:
  BatchQueue(size_t max_batches, size_t max_bytes) : max_batches_(max_batches), max_bytes_(max_bytes) {}

  // False when the queue was closed (the consumer gave up).
  bool push(sql::ColumnBatch&& batch) {
    const size_t bytes = batch.byte_size();
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] {
      return closed_ || items_.empty() || (items_.size() < max_batches_ && bytes_ + bytes <= max_bytes_);
    });
    if (closed_) return false;
    items_.emplace_back(std::move(batch), bytes);
    bytes_ += bytes;
    not_empty_.notify_one();
    return true;
  }
  // nullopt when every producer finished (or the queue was closed) and nothing is left.
  std::optional<sql::ColumnBatch> pop() {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty() || producers_ == 0; });
    if (items_.empty()) return std::nullopt;
    sql::ColumnBatch b = std::move(items_.front().first);
    bytes_ -= items_.front().second;
    items_.pop_front();
    not_full_.notify_all();  // several small batches may now fit
    return b;
  }
  void add_producer() {
    std::lock_guard lock(mutex_);
    ++producers_;
  }
  void producer_done() {
    std::lock_guard lock(mutex_);
    --producers_;
    not_empty_.notify_all();
  }
  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    items_.clear();
    bytes_ = 0;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  std::deque<std::pair<sql::ColumnBatch, size_t>> items_;  // each batch with its byte_size()
  size_t max_batches_, max_bytes_;
  size_t bytes_ = 0;
  int producers_ = 0;
  bool closed_ = false;
};

Result<pg::Connection> open_source(const ReadOptions& options) {
  return pg::Connection::connect(options.conninfo, source_connect_options(options.masker, "strata sync"));
}

// BEGIN REPEATABLE READ READ ONLY, in `snapshot` when one is given, in one round trip. A read with
// a predicate (a cursor's) may not use a plain index scan: the rows then come in physical order, as
// a bitmap heap scan or a sequential scan reads them. The index scan the planner would pick for a
// narrow range of an indexed cursor fetches the heap in cursor order, one tuple at a time: the
// benchmark's read of 1 % of pgbench_accounts took ~110 ms that way, ~80 ms through the bitmap.
Status begin_on(pg::Connection& conn, const ReadPlan& plan, const std::string& snapshot) {
  std::string sql = kBeginSnapshot;
  if (!snapshot.empty()) sql += ";\nSET TRANSACTION SNAPSHOT " + pg::Connection::quote_literal(snapshot);
  if (!plan.where.empty()) sql += ";\nSET LOCAL enable_indexscan = off";
  return conn.execute(sql);
}

// A connection in an open REPEATABLE READ READ ONLY transaction: options.connection when it
// still works, else a new one (held by `owned`).
Result<pg::Connection*> begin_snapshot(const ReadPlan& plan, const ReadOptions& options,
                                       std::optional<pg::Connection>& owned) {
  if (options.connection) {
    if (options.cancel) STRATA_TRY(options.cancel->add(options.connection->canceller()));
    Status begun = begin_on(*options.connection, plan, options.snapshot);
    if (begun.ok()) return options.connection;
    if (begun.error().code() != ErrorCode::kConnection) {
      (void)options.connection->execute("ROLLBACK");
      return begun.error();
    }
  }
  STRATA_ASSIGN(owned, open_source(options));
  if (options.cancel) STRATA_TRY(options.cancel->add(owned->canceller()));
  STRATA_TRY(begin_on(*owned, plan, options.snapshot));
  return &*owned;
}

// Runs one COPY on an open connection inside its transaction, handing batches to `sink`.
Status copy_into(pg::Connection& conn, const std::string& statement, const ReadPlan& plan,
                 const ReadOptions& options, const pg::BatchSink& sink) {
  const BatchScheduling bulk_work;
  pg::CopyBinaryDecoder decoder(plan.columns, sink, options.decoder);
  if (options.cancel) STRATA_TRY(options.cancel->check());
  STRATA_ASSIGN(pg::CopyOutStream copy, conn.copy_out(statement));
  // A chunk is one row: the shared counter is added to once per 256 KB, not once per row (an
  // atomic add per row cost ~5 % of a full read's CPU).
  constexpr uint64_t kProgressStep = 256 << 10;
  uint64_t unreported = 0;
  auto report = [&] {
    if (options.progress && unreported > 0) options.progress->bytes.fetch_add(unreported, std::memory_order_relaxed);
    unreported = 0;
  };
  while (true) {
    STRATA_ASSIGN(std::optional<std::string_view> chunk, copy.next());
    if (!chunk) break;
    STRATA_TRY(decoder.feed(*chunk));
    unreported += chunk->size();
    if (unreported >= kProgressStep) report();
  }
  report();
  return decoder.finish();
}

pg::BatchSink counting(const ReadOptions& options, pg::BatchSink sink) {
  return [&options, sink = std::move(sink)](sql::ColumnBatch&& batch) -> Status {
    if (options.progress) options.progress->rows.fetch_add(batch.num_rows(), std::memory_order_relaxed);
    return sink(std::move(batch));
  };
}

// One ctid range read by one worker thread on its own connection in the exported snapshot.
struct RangeWorker {
  int index = 0;  // 0-based
  int64_t first = 0, end = -1;
  std::thread thread;
  Status status;
  pg::Canceller canceller;
  std::mutex mutex;                // guards canceller
  std::atomic<bool> ended{false};  // status is set; the thread is about to finish
};

// One range: the calling thread reads, decodes and hands each batch to the consumer itself (the
// consumer, a StageWriter, passes the warehouse's work to its own thread).
Status read_single(const ReadPlan& plan, const ReadOptions& options, const BatchConsumer& consumer) {
  std::optional<pg::Connection> owned;
  STRATA_ASSIGN(pg::Connection * conn, begin_snapshot(plan, options, owned));
  STRATA_TRY(copy_into(*conn, copy_statement(plan), plan, options, counting(options, consumer)));
  return conn->execute("COMMIT");
}

// Several ranges: reader threads decode (one per range) while the calling thread hands batches to
// the consumer.
Status read_threaded(const ReadPlan& plan, const ReadOptions& options, const BatchConsumer& consumer) {
  const int n = plan.parallelism;
  // The readers share one exported snapshot, held by the coordinator's open transaction.
  std::optional<pg::Connection> owned;
  STRATA_ASSIGN(pg::Connection * coordinator, begin_snapshot(plan, options, owned));
  STRATA_ASSIGN(pg::PgResult snap, coordinator->exec("SELECT pg_export_snapshot()"));
  const std::string snapshot(snap.value(0, 0));

  const int64_t step = std::max<int64_t>(1, (plan.pages + n - 1) / n);
  BatchQueue queue(static_cast<size_t>(2 * n + 1), options.queue_bytes);
  std::vector<std::unique_ptr<RangeWorker>> workers;
  for (int i = 0; i < n; ++i) {
    auto w = std::make_unique<RangeWorker>();
    w->index = i;
    w->first = i * step;
    w->end = i + 1 == n ? -1 : (i + 1) * step;  // the last range is open-ended: the table may have grown
    workers.push_back(std::move(w));
  }
  // Stops every reader (a failed one's siblings may be waiting on PostgreSQL, e.g. for a lock).
  std::atomic<bool> stopping{false};  // set before the cancels: a reader connecting meanwhile sees it
  auto cancel_readers = [&workers, &stopping] {
    stopping = true;
    for (auto& w : workers) {
      std::lock_guard lock(w->mutex);
      (void)w->canceller.cancel();
    }
  };
  for (auto& wp : workers) {
    RangeWorker* w = wp.get();
    queue.add_producer();
    w->thread = std::thread([&, w] {
      w->status = [&]() -> Status {
        Result<pg::Connection> opened = open_source(options);
        if (!opened.ok()) {
          return std::move(opened).error().context("reader " + std::to_string(w->index + 1) + " of " +
                                                   std::to_string(n) + " of a parallel read (parallelism " +
                                                   std::to_string(n) + ") could not connect");
        }
        pg::Connection conn = std::move(*opened);
        {
          std::lock_guard lock(w->mutex);
          w->canceller = conn.canceller();
        }
        if (stopping) return Error(ErrorCode::kCancelled, "read stopped");
        if (options.cancel) STRATA_TRY(options.cancel->add(conn.canceller()));
        STRATA_TRY(begin_on(conn, plan, snapshot));
        auto sink = counting(options, [&](sql::ColumnBatch&& batch) -> Status {
          if (!queue.push(std::move(batch))) return Error(ErrorCode::kCancelled, "read stopped");
          return ok_status();
        });
        STRATA_TRY(copy_into(conn, copy_statement(plan, w->first, w->end), plan, options, sink));
        return conn.execute("COMMIT");
      }();
      if (!w->status.ok()) {
        queue.close();
        if (w->status.error().code() != ErrorCode::kCancelled) cancel_readers();
      }
      w->ended = true;
      queue.producer_done();
    });
  }
  Status consumed;
  while (auto batch = queue.pop()) {
    consumed = consumer(std::move(*batch));
    if (!consumed.ok()) {
      queue.close();
      cancel_readers();
      break;
    }
  }
  // A cancel that reaches a reader between two statements is lost, and its next one (the COPY)
  // may then wait on a lock: while the read is stopping, each reader still running is cancelled
  // again until it ends. A read that ends normally finds every reader ended already.
  for (auto& w : workers) {
    while (!w->ended) {
      if (stopping) {
        std::lock_guard lock(w->mutex);
        (void)w->canceller.cancel();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    w->thread.join();
  }
  if (!consumed.ok()) return consumed;
  // Report the first real failure (a worker stopped because another failed says "read stopped").
  for (auto& w : workers) {
    if (!w->status.ok() && w->status.error().code() != ErrorCode::kCancelled) return w->status;
  }
  for (auto& w : workers) {
    if (!w->status.ok()) return w->status;
  }
  return coordinator->execute("COMMIT");
}

}  // namespace

std::string copy_statement(const ReadPlan& plan, int64_t first_page, int64_t end_page) {
  if (plan.plain_table && plan.where.empty() && first_page <= 0 && end_page < 0) {
    std::string sql = "COPY " + plan.relation + " (";
    for (size_t i = 0; i < plan.expressions.size(); ++i) sql += (i ? ", " : "") + plan.expressions[i];
    return sql + ") TO STDOUT (FORMAT binary)";
  }
  std::string sql = "COPY (SELECT ";
  for (size_t i = 0; i < plan.expressions.size(); ++i) {
    if (i) sql += ", ";
    sql += plan.expressions[i];
  }
  sql += " FROM " + plan.relation;
  std::vector<std::string> predicates;
  if (first_page > 0) predicates.push_back("ctid >= '(" + std::to_string(first_page) + ",0)'::tid");
  if (end_page >= 0) predicates.push_back("ctid < '(" + std::to_string(end_page) + ",0)'::tid");
  if (!plan.where.empty()) predicates.push_back("(" + plan.where + ")");
  for (size_t i = 0; i < predicates.size(); ++i) sql += (i ? " AND " : " WHERE ") + predicates[i];
  sql += ") TO STDOUT (FORMAT binary)";
  return sql;
}

Status read_stream(const ReadPlan& plan, const ReadOptions& options, const BatchConsumer& consumer) {
  return plan.parallelism > 1 ? read_threaded(plan, options, consumer) : read_single(plan, options, consumer);
}

}  // namespace strata::ingest

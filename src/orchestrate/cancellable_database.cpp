#include "orchestrate/cancellable_database.h"

#include <mutex>
#include <set>

namespace strata::orchestrate {

struct CancellableDatabase::Shared {
  std::mutex mutex;
  bool cancelled = false;
  std::set<warehouse::Warehouse*> sessions;

  bool is_cancelled() {
    std::lock_guard lock(mutex);
    return cancelled;
  }
  void cancel() {
    std::lock_guard lock(mutex);
    cancelled = true;
    for (auto* s : sessions) s->interrupt();
  }
};

namespace {

using Shared = CancellableDatabase::Shared;

Error cancelled_error() { return Error(ErrorCode::kCancelled, "cancelled: the task was stopped"); }

class CancellableWriter final : public warehouse::BulkWriter {
 public:
  CancellableWriter(std::unique_ptr<warehouse::BulkWriter> inner, std::shared_ptr<Shared> shared)
      : inner_(std::move(inner)), shared_(std::move(shared)) {}
  Status append(const sql::ColumnBatch& batch) override {
    if (shared_->is_cancelled()) return cancelled_error();
    return inner_->append(batch);
  }
  Status finish() override {
    if (shared_->is_cancelled()) return cancelled_error();
    return inner_->finish();
  }

 private:
  std::unique_ptr<warehouse::BulkWriter> inner_;
  std::shared_ptr<Shared> shared_;
};

class CancellableSession final : public warehouse::Warehouse {
 public:
  CancellableSession(std::unique_ptr<warehouse::Warehouse> inner, std::shared_ptr<Shared> shared)
      : inner_(std::move(inner)), shared_(std::move(shared)) {
    std::lock_guard lock(shared_->mutex);
    shared_->sessions.insert(inner_.get());
  }
  ~CancellableSession() override {
    std::lock_guard lock(shared_->mutex);
    shared_->sessions.erase(inner_.get());
  }

  const sql::Dialect& dialect() const override { return inner_->dialect(); }
  Status execute(std::string_view sql) override {
    if (shared_->is_cancelled()) return cancelled_error();
    return inner_->execute(sql);
  }
  Result<warehouse::QueryResult> query(std::string_view sql) override {
    if (shared_->is_cancelled()) return cancelled_error();
    return inner_->query(sql);
  }
  Status query_stream(std::string_view sql,
                      const std::function<Status(const sql::ColumnBatch&)>& on_batch) override {
    if (shared_->is_cancelled()) return cancelled_error();
    return inner_->query_stream(sql, on_batch);
  }
  Status begin() override {
    if (shared_->is_cancelled()) return cancelled_error();
    return inner_->begin();
  }
  Status commit() override {
    if (shared_->is_cancelled()) return cancelled_error();
    return inner_->commit();
  }
  // Rollback always goes through: it is how callers clean up after a cancel.
  Status rollback() override { return inner_->rollback(); }
  Result<std::unique_ptr<warehouse::BulkWriter>> writer(const warehouse::Relation& relation,
                                                        const sql::Schema& schema) override {
    if (shared_->is_cancelled()) return cancelled_error();
    STRATA_ASSIGN(auto w, inner_->writer(relation, schema));
    return std::unique_ptr<warehouse::BulkWriter>(std::make_unique<CancellableWriter>(std::move(w), shared_));
  }
  Status load(const warehouse::Relation& relation, const sql::Schema& schema,
              const warehouse::BatchSource& next) override {
    if (shared_->is_cancelled()) return cancelled_error();
    return inner_->load(relation, schema, [&]() -> Result<std::optional<sql::ColumnBatch>> {
      if (shared_->is_cancelled()) return cancelled_error();
      return next();
    });
  }
  Result<std::vector<warehouse::RelationInfo>> relations(std::string_view schema) override {
    if (shared_->is_cancelled()) return cancelled_error();
    return inner_->relations(schema);
  }
  Result<std::vector<warehouse::ColumnInfo>> columns(const warehouse::Relation& relation) override {
    if (shared_->is_cancelled()) return cancelled_error();
    return inner_->columns(relation);
  }
  Result<bool> table_exists(const warehouse::Relation& relation) override {
    if (shared_->is_cancelled()) return cancelled_error();
    return inner_->table_exists(relation);
  }
  void interrupt() override { inner_->interrupt(); }

 private:
  std::unique_ptr<warehouse::Warehouse> inner_;
  std::shared_ptr<Shared> shared_;
};

}  // namespace

CancellableDatabase::CancellableDatabase(warehouse::Database& inner, CancelToken& token)
    : inner_(inner), token_(token), shared_(std::make_shared<Shared>()) {
  callback_id_ = token_.on_cancel([shared = shared_] { shared->cancel(); });
}

CancellableDatabase::~CancellableDatabase() { token_.remove(callback_id_); }

Result<std::unique_ptr<warehouse::Warehouse>> CancellableDatabase::connect() {
  if (shared_->is_cancelled()) return cancelled_error();
  STRATA_ASSIGN(auto session, inner_.connect());
  auto wrapped = std::make_unique<CancellableSession>(std::move(session), shared_);
  // A cancel between connect() and registration would be missed: check again.
  if (shared_->is_cancelled()) wrapped->interrupt();
  return std::unique_ptr<warehouse::Warehouse>(std::move(wrapped));
}

}  // namespace strata::orchestrate

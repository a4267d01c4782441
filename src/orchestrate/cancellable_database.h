#pragma once
// CancellableDatabase: wraps a warehouse::Database for one task attempt so that its CancelToken
// stops the work for real. Every session handed out is interrupted when the token fires (a
// running DuckDB query stops with kCancelled), and every later call on a session or a bulk
// writer fails with kCancelled at once. A sync task's COPY reader is stopped by the same means:
// the bulk writer's append fails, so the ingest module cancels the PostgreSQL COPY (libpq cancel)
// and closes its connections.
// Thread-safety: as the wrapped Database; the token's callback may run on any thread. The wrapper
// must outlive the sessions it hands out, and the wrapped database must outlive the wrapper.

#include <memory>

#include "orchestrate/task_runner.h"
#include "warehouse/warehouse.h"

namespace strata::orchestrate {

class CancellableDatabase final : public warehouse::Database {
 public:
  CancellableDatabase(warehouse::Database& inner, CancelToken& token);
  ~CancellableDatabase() override;
  CancellableDatabase(const CancellableDatabase&) = delete;
  CancellableDatabase& operator=(const CancellableDatabase&) = delete;

  const sql::Dialect& dialect() const override { return inner_.dialect(); }
  // Errors: kCancelled once the token fired; else those of the wrapped database.
  Result<std::unique_ptr<warehouse::Warehouse>> connect() override;

  struct Shared;  // sessions alive now, under a mutex (shared with the sessions)

 private:
  warehouse::Database& inner_;
  CancelToken& token_;
  std::shared_ptr<Shared> shared_;
  int callback_id_ = 0;
};

}  // namespace strata::orchestrate

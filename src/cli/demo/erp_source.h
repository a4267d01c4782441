#pragma once
// Running the NovaDrive ERP scripts (erp_sql.h) against a PostgreSQL database through the pg
// module: creating it, counting its rows, and the live mode that keeps changing it.
// Functions take the connection they use; a connection is used by one thread at a time.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "cli/demo/erp_sql.h"
#include "common/result.h"
#include "pg/connection.h"

namespace strata::cli::demo {

// Called after each creation step with its label and duration in seconds.
using StepCallback = std::function<void(const std::string& label, double seconds)>;

// Drops and re-creates the seven tables and fills them. Errors: the failing statement's error
// (kFailed, kConnection, kCancelled), with the step's label as context.
Status create_erp(pg::Connection& conn, const ErpOptions& options, const StepCallback& on_step = {});

// Rows per ERP table, by table name.
Result<std::map<std::string, std::int64_t>> erp_row_counts(pg::Connection& conn, const std::string& schema);

struct LiveOptions {
  double rate = 5.0;             // changes per second (> 0)
  std::int64_t max_changes = 0;  // stop after this many changes; 0: until stopped
  std::int64_t first_tick = 0;   // varies the rows chosen, so two runs do not repeat each other
};

// Sleeps up to a duration; returns false to stop the live loop (e.g. Ctrl-C).
using Sleeper = std::function<bool(std::chrono::milliseconds)>;
// Called after each committed batch with the number of changes in it and the running total.
using BatchCallback = std::function<void(std::int64_t changes, std::int64_t total)>;

// Applies one batch of live changes per second (rate changes each, the fraction carried over)
// until `sleep` returns false or max_changes is reached. Returns the number of changes applied.
Result<std::int64_t> run_live(pg::Connection& conn, const ErpOptions& options, const LiveOptions& live,
                              const Sleeper& sleep, const BatchCallback& on_batch = {});

}  // namespace strata::cli::demo

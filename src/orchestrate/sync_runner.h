#pragma once
// SyncRunner: a `sync: CONNECTION` task (optionally `streams:`) as a library call into the ingest
// module. The connection file is `<project>/connections/<CONNECTION>.yml` (or a path); its bronze
// destination is the task's `target:` (a profiles.yml target, as `strata sync --target`), else the
// connection's `duckdb_path` or its profiles.yml target, shared through Databases. The
// per-stream report goes to the metadata store (add_sync_report, the ingest module's JSON, which
// the UI shows), to `.strata/syncs/<sync_id>.json` and to the task log. execution_timeout stops
// the sync for real: warehouse sessions are interrupted and the bulk writer fails, which makes the
// ingest module cancel the PostgreSQL COPY and close its connections; the stream commits nothing.
// A failed stream fails the task (kFailed; retried by policy), and so does an unreachable source
// (kConnection); a `streams:` entry the connection lacks fails it with a located kConfig error that
// names the task's streams: (not the CLI's --stream). A sync stopped by its token stores the report of what it did (the streams
// committed before the stop) and then fails kCancelled; a sync that fails before any report (no
// source, wrong password, locked warehouse, bad file) stores a failed entry with the masked error
// (`status: failed`, `error`, no streams), so the sync history shows the failure. Thread-safe: syncs of different connections run concurrently; syncs of one
// connection (one connection file) run one at a time, as Airbyte runs one job per connection: a
// task whose connection is syncing in another task logs that it waits, and waits until that sync
// ends or its own token fires (execution_timeout, cancel, shutdown: it then fails, kCancelled).

#include "common/env.h"
#include "orchestrate/databases.h"
#include "orchestrate/keyed_locks.h"
#include "orchestrate/task_runner.h"

namespace strata::orchestrate {

class SyncRunner final : public TaskRunner {
 public:
  // `databases` must outlive the runner.
  SyncRunner(Databases& databases, SecretMaskerPtr masker, EnvLookup env = {})
      : databases_(databases), masker_(std::move(masker)), env_(env ? env : process_env()) {}
  Result<TaskOutcome> run(TaskContext& context) override;

 private:
  // The sync itself; `connection` becomes the loaded connection's name, `reported` true once its
  // report is in the store.
  Result<TaskOutcome> sync(TaskContext& ctx, const std::string& path, std::string& connection, bool& reported);

  Databases& databases_;
  SecretMaskerPtr masker_;
  EnvLookup env_;
  KeyedLocks connections_;  // by the connection file's canonical path
};

}  // namespace strata::orchestrate

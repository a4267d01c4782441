#pragma once
// PgStore: the MetadataStore on PostgreSQL, for several `strata serve` / `strata scheduler` /
// `strata worker` processes sharing one run history and work queue (DESIGN.md: scale-out). Its
// statements are SqlStore's (sql_store.h), the same SQL the SQLite store runs.
//
// Schema: every table lives in one PostgreSQL schema (default `strata_meta`), so the store can
// share a database with a warehouse or an Airflow. Opening creates the schema and applies the
// numbered migrations missing from `<schema>.schema_versions`, under a session advisory lock so
// that processes opening at once migrate in turn.
//
// Claims: claim_run (and claim_work) is one `UPDATE … WHERE state = 'queued'`; PostgreSQL's row lock makes a
// second claimer wait for the first and then re-check the condition, so across processes exactly
// one claimer owns a run. adopt_run (recovery) is conditional on the dead owner in the same way.
//
// Work watches: every change to a work item is also a NOTIFY on the channel
// "strata_work:<schema>" (sent with the change's commit); watch_work LISTENs on a connection of
// its own, so workers claim and schedulers see results within milliseconds instead of a poll.
//
// Thread-safety: one connection guarded by SqlStore's mutex (statements are short; the executor's
// workers take turns). A connection lost between statements is reopened before the next one; the
// statement that found it lost fails with kConnection.
// Secrets: the conninfo's password goes to libpq and the masker only; errors name host, port,
// database and user, never the password.

#include <memory>
#include <string>

#include "common/secrets.h"
#include "orchestrate/sql_store.h"

namespace strata::orchestrate {

struct PgStoreOptions {
  // libpq key=value conninfo or postgresql:// URL (the password may come from PGPASSWORD or
  // ~/.pgpass as libpq reads them).
  std::string conninfo;
  // The schema holding the tables; created when missing.
  std::string schema = "strata_meta";
  // Not owned; may be null. Taught the password so logs mask it.
  SecretMasker* masker = nullptr;
};

class PgStore final : public SqlStore {
 public:
  // Connects, creates the schema and migrates it. Errors: kConfig when the conninfo does not
  // parse, kConnection when the server cannot be reached or refuses the login (naming host, port
  // and database), kFailed when a migration fails.
  static Result<std::unique_ptr<PgStore>> open(const PgStoreOptions& options);

  // The highest migration applied.
  int schema_version();

  // LISTENs on its own connection (reconnecting, each second, when it is lost; a reconnection is
  // delivered as WorkSignal::kMissed). Errors: the first connection's (kConnection).
  Result<std::unique_ptr<WorkWatch>> watch_work(WorkSignalHandler on_signal) override;

 private:
  PgStore(std::unique_ptr<SqlSession> session, PgStoreOptions options)
      : SqlStore(std::move(session)), options_(std::move(options)) {}

  PgStoreOptions options_;
};

// The NOTIFY channel of a store schema's work signals (at most 63 bytes, PostgreSQL's limit).
std::string work_channel(const std::string& schema);

// One more connection to the store's database (schema on the search path), for readers beside the
// store (the HTTP API's History). Errors as PgStore::open's connection errors.
Result<std::unique_ptr<SqlSession>> open_pg_session(const PgStoreOptions& options);

// `sql` with each `?` placeholder outside quotes ('…', "…") replaced by $1, $2, … in order.
std::string numbered_placeholders(const std::string& sql);

}  // namespace strata::orchestrate

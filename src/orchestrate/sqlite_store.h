#pragma once
// SqliteStore: the embedded MetadataStore, one SQLite file in WAL mode (default
// `<project>/.strata/strata.db`). Its statements are SqlStore's (sql_store.h), shared with
// PgStore. Schema changes are numbered migrations recorded in the table `schema_versions`;
// opening applies the missing ones.
// Thread-safety: one connection guarded by a mutex; every method may be called from any thread.
// Several processes may open the same file (WAL + busy timeout); claim_run is one conditional
// UPDATE under SQLite's write lock, so two processes never both claim a run.

#include <memory>
#include <string>

#include "orchestrate/sql_store.h"

namespace strata::orchestrate {

class SqliteStore final : public SqlStore {
 public:
  // Opens or creates the file (and its folder) and migrates it. Errors: kConnection when the file
  // cannot be opened, kFailed when a migration fails.
  static Result<std::unique_ptr<SqliteStore>> open(const std::string& path);

  // The highest migration applied.
  int schema_version();

 private:
  using SqlStore::SqlStore;
};

// One more connection to a store's file, for readers beside the store (the HTTP API's History);
// read-only ones read while the store writes (WAL). Errors: kConnection when it cannot be opened.
Result<std::unique_ptr<SqlSession>> open_sqlite_session(const std::string& path, bool read_only);

}  // namespace strata::orchestrate

#pragma once
// Where a connection's bronze lives: the connection file's `destination.duckdb_path` (a DuckDB file
// relative to the project folder), else the profiles.yml target (destination.target, or the
// profile's default target; `target_override` — the CLI's --target — wins over both).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secrets.h"
#include "ingest/connection_config.h"
#include "warehouse/profile.h"
#include "warehouse/warehouse.h"

namespace strata::ingest {

// A connection's destination, resolved once: the DuckDB file of its duckdb_path, or the
// profiles.yml target.
struct Destination {
  std::string duckdb_file;                        // resolved against the project; empty: `target`
  std::optional<warehouse::TargetConfig> target;  // set when duckdb_file is empty
  // The DuckDB file (the connection's or a duckdb target's, not :memory:), else "".
  std::string duckdb_path() const;
  // True when duckdb_path() does not exist yet, not even as a dangling symlink: opening it creates it.
  bool creates_file() const;
};

// Removes the DuckDB file that opening `destination` creates, unless keep() is called: with its
// WAL and the folders opening it made, so a sync that fails before it runs a stream (a bad stream
// configuration, an unreachable source) leaves nothing behind although the file was created while
// the source was discovered. Does nothing when the file existed at construction. Declare it
// before the database's owners, so that they have closed the file when it runs. Not thread-safe.
class CreatedDatabaseCleanup {
 public:
  explicit CreatedDatabaseCleanup(const Destination& destination);
  ~CreatedDatabaseCleanup();
  CreatedDatabaseCleanup(const CreatedDatabaseCleanup&) = delete;
  CreatedDatabaseCleanup& operator=(const CreatedDatabaseCleanup&) = delete;
  // The sync ran: the file stays.
  void keep() { path_.clear(); }

 private:
  std::string path_;                  // empty: nothing to remove
  std::vector<std::string> folders_;  // the missing folders above it, deepest first
};

// Errors: kNotFound/kConfig from profiles.yml (located).
Result<Destination> resolve_destination(const ConnectionConfig& config, const EnvLookup& env, SecretMasker* masker,
                                        const std::string& target_override = {});
// Opens it (creating a DuckDB file's folder). Errors: the warehouse's (kConnection for a locked
// or unreachable database).
Result<std::unique_ptr<warehouse::Database>> open_destination(const Destination& destination);

}  // namespace strata::ingest

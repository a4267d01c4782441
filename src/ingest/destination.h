#pragma once
// Where a connection's bronze lives: the connection file's `destination.duckdb_path` (a DuckDB file
// relative to the project folder), else the profiles.yml target (destination.target, or the
// profile's default target; `target_override` — the CLI's --target — wins over both).

#include <memory>
#include <optional>
#include <string>

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
  // True when it is a DuckDB file (the connection's or a duckdb target's, not :memory:) that does
  // not exist yet, not even as a dangling symlink: opening it creates it.
  bool creates_file() const;
};

// Errors: kNotFound/kConfig from profiles.yml (located).
Result<Destination> resolve_destination(const ConnectionConfig& config, const EnvLookup& env, SecretMasker* masker,
                                        const std::string& target_override = {});
// Opens it (creating a DuckDB file's folder). Errors: the warehouse's (kConnection for a locked
// or unreachable database).
Result<std::unique_ptr<warehouse::Database>> open_destination(const Destination& destination);

}  // namespace strata::ingest

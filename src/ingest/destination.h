#pragma once
// Where a connection's bronze lives: the connection file's `destination.duckdb_path` (a DuckDB file
// relative to the project folder), else the profiles.yml target (destination.target, or the
// profile's default target; `target_override` — the CLI's --target — wins over both).

#include <memory>
#include <string>

#include "common/result.h"
#include "common/secrets.h"
#include "ingest/connection_config.h"
#include "warehouse/warehouse.h"

namespace strata::ingest {

// Opens the destination database. Errors: kNotFound/kConfig from profiles.yml (located), the
// warehouse's errors opening it (kConnection for a locked or unreachable database).
Result<std::unique_ptr<warehouse::Database>> open_destination(const ConnectionConfig& config, const EnvLookup& env,
                                                              SecretMasker* masker,
                                                              const std::string& target_override = {});

// True when the destination is a DuckDB file that does not exist yet (nothing there, not even a
// dangling symlink), which open_destination would create; false for an in-memory database,
// another warehouse, or a profile that cannot be loaded (open_destination reports that).
bool destination_creates_file(const ConnectionConfig& config, const EnvLookup& env, SecretMasker* masker,
                              const std::string& target_override = {});

}  // namespace strata::ingest

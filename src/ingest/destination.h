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

// The DuckDB file the destination is ("" for an in-memory database, another warehouse, or a
// profile that cannot be loaded: open_destination reports that).
std::string destination_file(const ConnectionConfig& config, const EnvLookup& env, SecretMasker* masker,
                             const std::string& target_override = {});

// Removes a DuckDB file (and its WAL) that a sync created and then failed before writing
// anything to (the sync returned an error, not a report), so a bad configuration or an
// unreachable source leaves no empty warehouse behind. Call after the database is closed; a file
// that existed before (`existed`) or another destination is left alone.
void remove_unused_destination(const std::string& file, bool existed);

}  // namespace strata::ingest

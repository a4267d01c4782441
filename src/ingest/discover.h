#pragma once
// Discovery: reads a PostgreSQL database's catalog (pg_catalog) into an ingest::Catalog.

#include <string>
#include <vector>

#include "common/result.h"
#include "ingest/catalog.h"
#include "pg/connection.h"

namespace strata::ingest {

// Tables (relkind r), views (v), materialized views (m), partitioned tables (p, one entry read
// through the parent; partitions themselves are left out) and foreign tables (f) of `schemas`
// (empty: every schema except pg_catalog, information_schema, pg_toast and temp schemas), with
// columns, types (domains resolved to their base), primary keys, size estimates and suggested
// cursor columns. Errors: the connection's (kConnection, kFailed).
Result<Catalog> discover_catalog(pg::Connection& conn, const std::vector<std::string>& schemas);

}  // namespace strata::ingest

#pragma once
// Discovery: reads a PostgreSQL database's catalog (pg_catalog) into an ingest::Catalog.

#include <string>
#include <vector>

#include "common/result.h"
#include "ingest/catalog.h"
#include "pg/connection.h"

namespace strata::ingest {

// How Strata connects to a source (discovery and every reader): UTF8 client encoding (the
// server converts from its own; values and names reach DuckDB as UTF-8; a SQL_ASCII server's
// bytes come unconverted and are checked by the reader instead) and the settings that
// decide the text form of the types read as text, fixed whatever the database or role sets:
// DateStyle ISO, IntervalStyle postgres, TimeZone UTC, extra_float_digits 3 (floats round-trip),
// bytea_output hex. lc_monetary stays the database's: money's scale follows it (see
// discover_catalog). statement_timeout and idle_in_transaction_session_timeout are off, as pg_dump
// sets them, whatever the database or role sets: a long COPY is no runaway query, and a parallel
// read's coordinator sits idle in the transaction that holds the readers' exported snapshot.
pg::ConnectOptions source_connect_options(SecretMasker* masker, const std::string& application_name);

// Tables (relkind r), views (v), materialized views (m), partitioned tables (p, one entry read
// through the parent; partitions themselves are left out) and foreign tables (f) of `schemas`
// (empty: every schema except pg_catalog, information_schema, pg_toast and temp schemas), with
// columns, types (domains resolved to their base), primary keys, size estimates and suggested
// cursor columns. Errors: the connection's (kConnection, kFailed).
Result<Catalog> discover_catalog(pg::Connection& conn, const std::vector<std::string>& schemas);

}  // namespace strata::ingest

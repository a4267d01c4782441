#pragma once
// The source's catalog as discovery finds it: tables (and views, materialized views, partitioned
// tables read through their parent, foreign tables), their columns with PostgreSQL and logical
// types, primary keys, size estimates and suggested cursor columns. Plain data; thread-compatible.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pg/pg_types.h"

namespace strata::ingest {

struct CatalogColumn {
  std::string name;
  int attnum = 0;
  std::string pg_type;  // format_type(): "numeric(12,2)", "character varying(40)", "integer[]"
  uint32_t type_oid = 0;
  int32_t typmod = -1;
  int ndims = 0;
  bool not_null = false;
  bool generated = false;  // GENERATED ALWAYS AS (…) STORED: COPY of the table cannot name it
  pg::ColumnMapping mapping;
};

enum class TableKind { kTable, kView, kMaterializedView, kPartitioned, kForeign };
const char* table_kind_name(TableKind kind);  // "table", "view", "materialized view", …

struct CatalogTable {
  std::string schema, name;
  TableKind kind = TableKind::kTable;
  std::vector<CatalogColumn> columns;
  std::vector<std::string> primary_key;  // in key order; empty when none
  double estimated_rows = -1;            // pg_class.reltuples (summed over partitions); -1 unknown
  int64_t size_bytes = 0;                // heap size (summed over partitions)
  int64_t pages = 0;                     // heap pages (relpages; for ctid ranges)
  std::vector<std::string> suggested_cursors;
  // A table that inherits to others (not a partitioned one): read with SELECT, which includes
  // the children's rows as a query of the table does, never with COPY table, which does not.
  bool has_children = false;
  // The connecting role may SELECT from it (or from some of its columns), and it has rows to read
  // (not an unlogged table on a standby). A table that is not readable is listed, and left out of
  // a sync that has no streams: list unless it synced before.
  bool readable = true;
  bool unlogged_on_standby = false;
  // Why it is not readable ("no SELECT privilege", …) and what would fix it.
  std::string not_readable_reason() const;
  std::string not_readable_hint() const;

  std::string full_name() const { return schema + "." + name; }
  // nullptr when the table has no such column.
  const CatalogColumn* column(const std::string& column_name) const;
};

struct Catalog {
  std::vector<CatalogTable> tables;  // ordered by schema, name
  // The server's shared_buffers in bytes (0 when unknown): a table larger than this is read by
  // one reader unless a stream asks for more (see ConnectionConfig::max_parallelism).
  int64_t shared_buffers_bytes = 0;
  // server_encoding is SQL_ASCII: the server stores text bytes unchecked, so readers check that
  // they are UTF-8 (CopyDecoderOptions::check_utf8).
  bool unchecked_text = false;
  // Partitions (left out of `tables`: a partitioned table is read through its parent), by
  // "schema.name", with their top parent's "schema.name": a stream naming one is pointed there.
  std::map<std::string, std::string> partition_parents;
  // The source's schemas (without PostgreSQL's own), when discovery was given a schema list.
  std::vector<std::string> schemas;
  // nullptr when absent.
  const CatalogTable* find(const std::string& schema, const std::string& name) const;
};

// A stream's name as a user writes it (`name:` in a connection file, --stream): "schema.table",
// or with either part in double quotes ("x.y".z, x."y.z", "say ""hi""".t) when the part holds a
// dot. Without a schema the table is in public.
struct StreamName {
  std::string schema, table;
  bool quoted = false;  // a part was quoted: the split is exact (else any dot may be the one)
};
// nullopt (with `why` set) when a quote is never closed or the name is not one or two parts.
std::optional<StreamName> parse_stream_name(const std::string& text, std::string& why);
// "schema.table", or both parts quoted when either holds a dot or a double quote (the form
// parse_stream_name reads back exactly).
std::string quoted_stream_name(const std::string& schema, const std::string& table);

// Suggested cursor columns: timestamp/date/integer columns whose names look like change markers
// (updated_at, modified, last_modified, changed_at, …, or an *_at timestamp), best first.
std::vector<std::string> suggest_cursors(const std::vector<CatalogColumn>& columns);

// `strata discover` output.
nlohmann::json catalog_to_json(const Catalog& catalog);
std::string catalog_to_text(const Catalog& catalog);

}  // namespace strata::ingest

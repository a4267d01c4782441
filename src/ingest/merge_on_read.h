#pragma once
// Merge-on-read bronze for incremental_dedup streams on DuckDB.
//
// Why: merging an incremental read in place deletes the superseded rows from the bronze table.
// In DuckDB a delete spread over the whole table touches every 2,048-row vector of it, so an
// incremental sync of 1 % of a table cost about a tenth of a full load however few rows changed.
// Instead, after the first incremental sync the stream's rows live in two tables:
//   _strata_base_<t>   the rows as of the last compaction (the old bronze table, renamed);
//   _strata_delta_<t>  every row read since (all versions, each with its _strata_sync_id);
// and bronze `<t>` is a VIEW showing, per key, the delta's latest row (by sync id, then cursor)
// or else the base's. An incremental sync only appends to the delta. Once the delta holds more
// than kCompactFraction as many rows as the base, the sync compacts after its commit: the view's
// rows are written to a new table, which replaces the view, the base and the delta as `<t>` (see
// materialize_bronze_sql). A stream that stops being incremental_dedup has bronze materialized
// the same way, before its sync; a full refresh replaces all three with one table. Readers see
// the same rows either way. The SQL uses DuckDB syntax (UNION ALL BY NAME, QUALIFY); other
// warehouses keep merging in place. Functions returning SQL are pure.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "ingest/bronze.h"
#include "warehouse/warehouse.h"

namespace strata::ingest {

// The delta may grow to this fraction of the base's rows before a sync compacts it.
inline constexpr double kCompactFraction = 0.10;

enum class BronzeLayout {
  kMissing,      // no bronze relation
  kTable,        // one table holding the rows
  kMergeOnRead,  // a view over the base and delta tables
};

// How a bronze relation is stored now, with row counts (base: the table's rows when kTable).
struct BronzeStorage {
  BronzeLayout layout = BronzeLayout::kMissing;
  int64_t base_rows = 0;
  int64_t delta_rows = 0;
};

warehouse::Relation base_relation(const warehouse::Relation& bronze);
warehouse::Relation delta_relation(const warehouse::Relation& bronze);

// True when the warehouse stores incremental_dedup streams merge-on-read (DuckDB).
bool supports_merge_on_read(const sql::Dialect& dialect);

// Inspects bronze on a DuckDB warehouse: its layout and row counts. A view named like bronze
// without its base and delta tables is an error (kFailed) naming them.
Result<BronzeStorage> inspect_bronze(warehouse::Warehouse& wh, const warehouse::Relation& bronze);

// True when a sync adding `staged_rows` to `storage` should compact.
bool should_compact(const BronzeStorage& storage, uint64_t staged_rows);

// Drops whatever bronze is (view, base and delta for kMergeOnRead; the table for kTable).
std::string drop_bronze_sql(const sql::Dialect& dialect, const warehouse::Relation& bronze, BronzeLayout layout);

// `_strata_rows_<t>`: the table a compaction writes the view's rows to (materialize_bronze_sql).
warehouse::Relation rows_relation(const warehouse::Relation& bronze);
// Drops the rows table a compaction stopped between its two transactions left beside bronze (a
// copy of its rows), if any: for a sync that rebuilds bronze from its stage, which no later
// compaction would otherwise replace.
std::string drop_compaction_leftover_sql(const sql::Dialect& dialect, const warehouse::Relation& bronze);

// Applies a schema plan to merge-on-read bronze: to the base as to a table, and to the delta,
// which gets every staged column it lacks (it was created from an earlier sync's columns: a
// column the source dropped and later brought back is in the base and the view, not in the
// delta) and the plan's wider types. Run it before any row is written in the transaction:
// DuckDB refuses at commit a table altered after the same transaction wrote to it.
std::string alter_merge_on_read_sql(const sql::Dialect& dialect, const warehouse::Relation& bronze,
                                    const SchemaPlan& plan, const sql::Schema& staged);

// kMergeOnRead → kTable: statements that write the view's rows to one table, each to run in a
// transaction of its own (a compaction after the sync's commit; before the sync of a stream that is
// no longer incremental_dedup). The first creates `_strata_rows_<t>` with bronze's columns
// (replacing one a crash left behind) and inserts the view's rows; the second drops the view, the
// base and the delta and renames the new table to `<t>`. Bronze shows the same rows after each, so
// a crash between them loses nothing. Why a new table rather than deleting the delta's keys from
// the base: DuckDB keeps ~32 KB of version info per 2,048-row vector a delete touches, for every
// later read of the table too (measured at 5M rows with 10 % of keys changed: +86 MB and 0.15 s for
// a count(*)), and the rewrite was as fast (1.0 s) with a lower peak (176 MB instead of 237 MB).
// The rename comes in a transaction that changes no rows: DuckDB fails to replay a log in which a
// table was changed and then renamed onto a name a view held ("… is not an table"), leaving the
// database unopenable after a crash.
// `columns`: bronze's (Warehouse::columns); `zstd_columns` are stored with ZSTD (wide strings).
std::vector<std::string> materialize_bronze_sql(const sql::Dialect& dialect, const warehouse::Relation& bronze,
                                                const std::vector<warehouse::ColumnInfo>& columns,
                                                const std::vector<std::string>& zstd_columns);

// The columns of bronze a rewrite stores with ZSTD when it has no batch of its own to decide (a
// mode change; a compaction after a sync that read no rows): wide_string_columns of its first
// 2,048 rows. Errors: the warehouse's.
Result<std::vector<std::string>> sample_wide_string_columns(warehouse::Warehouse& wh,
                                                            const warehouse::Relation& bronze);

// Moves `stage` (the sync's rows, columns spec.columns) into bronze stored as `layout`, in the
// sync's transaction: from kTable the table becomes the base and the stage the delta; from
// kMergeOnRead the stage is appended to the delta and dropped. Either way the view is (re)created
// with spec's key and cursor.
std::string merge_on_read_sql(const sql::Dialect& dialect, const warehouse::Relation& stage,
                              const warehouse::Relation& bronze, const MergeSpec& spec, BronzeLayout layout);

// (Re)creates bronze's view with spec's key and cursor: all a sync that appended its rows straight
// to the delta (kMergeOnRead, the schema its state recorded) still has to do.
std::string merge_on_read_view_sql(const sql::Dialect& dialect, const warehouse::Relation& bronze,
                                   const MergeSpec& spec);

}  // namespace strata::ingest

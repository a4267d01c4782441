#pragma once
// The bronze side of a sync, written once for every warehouse through its Dialect: table names,
// the `_strata_state` table (cursor, schema hash, sync id per stream), schema-change planning, and
// the statements that swap, append or merge a staging table into a bronze table.
// Functions are pure (SQL text) except those taking a Warehouse&, which run statements on it.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "ingest/connection_config.h"
#include "sql/column_batch.h"
#include "warehouse/warehouse.h"

namespace strata::ingest {

inline constexpr const char* kExtractedAtColumn = "_strata_extracted_at";
inline constexpr const char* kSyncIdColumn = "_strata_sync_id";
inline constexpr const char* kStateTable = "_strata_state";

// A stream's committed state, one row of <bronze>._strata_state.
struct StreamState {
  std::string stream;        // "schema.table" in the source
  std::string mode;          // sync mode name
  std::string cursor_field;  // empty when none
  std::optional<std::string> cursor_value;  // text the source and warehouse parse; nullopt: none yet
  std::string schema_hash;
  std::string sync_id;
  int64_t rows = 0;  // rows loaded by that sync
  // The key the rows were merged on, as a JSON array of column names; empty when the state was
  // written before Strata recorded it.
  std::string primary_key;
  // The schema notes that stand while bronze and the source stay as they are (a kept dropped
  // column, a source type narrower than bronze's), as the report words them: a later schema
  // change reports only the new ones. Stored as a JSON array; empty in states from before.
  std::vector<std::string> schema_notes;
};

// The stream's bronze table (see bronze_table_name).
warehouse::Relation bronze_relation(const std::string& bronze_schema, const StreamConfig& stream);
// The staging table used while loading `bronze`.
warehouse::Relation staging_relation(const warehouse::Relation& bronze);

// Strings at least this long on average are stored with ZSTD (see warehouse::create_table_sql).
inline constexpr size_t kWideStringBytes = 256;
// The variable-width columns of `batch` (named as in it) whose non-NULL values average at least
// kWideStringBytes: the stream's first batch decides how the stage stores them.
std::vector<std::string> wide_string_columns(const sql::ColumnBatch& batch);

// A stable hash (hex) of a schema's names and logical types.
std::string schema_hash(const sql::Schema& schema);

// Every stream's committed state in <bronze>._strata_state, read once per sync (one query instead
// of one per stream and purpose). A sync's streams each write only their own row, so the states
// read at its start stay theirs until they commit.
struct StateTable {
  bool exists = false;  // false: the table cannot be read (it, or the bronze schema, is missing)
  // Columns a state table from before them lacks ("primary_key", "schema_notes"): ensure_bronze
  // adds them.
  std::vector<std::string> missing_columns;
  std::map<std::string, StreamState> states;  // by stream ("schema.table")

  std::optional<StreamState> find(const std::string& stream) const;
  // The streams it holds a state for (synced before).
  SyncedStreams synced() const;
  // The largest sync id of the 19-digit kind (empty when there is none).
  std::string latest_sync_id() const;
};
// Reads the table (SELECT *: older tables lack some columns). Never fails: a table that cannot be
// read is reported as missing, and creating it (ensure_bronze) then reports the warehouse's error.
StateTable read_state_table(warehouse::Warehouse& wh, const std::string& bronze_schema);
// Creates the bronze schema and the state table when `table` says they are missing, and adds the
// columns an older table lacks. Errors: the warehouse's.
Status ensure_bronze(warehouse::Warehouse& wh, const std::string& bronze_schema, const StateTable& table);
// Statements replacing the stream's state row (run them inside the data transaction).
std::string write_state_sql(const sql::Dialect& dialect, const std::string& bronze_schema, const StreamState& state);

// What must happen to an existing bronze table before new rows fit.
struct SchemaPlan {
  std::vector<sql::ColumnSchema> add;     // source columns missing in bronze
  std::vector<sql::ColumnSchema> widen;   // bronze columns to change to the given (wider) type
  std::vector<sql::ColumnSchema> kept;    // bronze columns no longer in the source (stay, NULL)
  // Source columns whose new type bronze's wider column already holds (e.g. BIGINT → INTEGER, or
  // anything → VARCHAR): bronze keeps its type and the rows are cast into it.
  struct Narrowed {
    std::string name;
    sql::LogicalType source, bronze;
  };
  std::vector<Narrowed> narrowed;
};
// Compares the stream's schema with the bronze table's columns (names ignore case, as DuckDB's
// do). Errors (kFailed, naming the column and both types): schema_changes fail and a column was
// added or would widen (a narrowing into bronze's wider column passes); a type change bronze's column can neither widen to nor already holds (its
// hint: `refresh_hint`). `replacing` (full_refresh_overwrite rebuilds the table): type changes are
// taken as they are and never fail.
Result<SchemaPlan> plan_schema_change(const std::string& stream, const sql::Schema& incoming,
                                      const std::vector<warehouse::ColumnInfo>& existing, SchemaChanges policy,
                                      bool replacing,
                                      const std::string& refresh_hint = "run a full refresh to rebuild the bronze table");
// True when a column of type `from` can hold every value of `to`'s old values after
// ALTER … TYPE to `to` (integers and floats to wider ones, DECIMAL with more room, anything to VARCHAR).
bool can_widen(const sql::LogicalType& from, const sql::LogicalType& to);
// ALTER statements applying a plan to `table` (adds and widens; kept columns need nothing).
std::string apply_schema_plan_sql(const sql::Dialect& dialect, const warehouse::Relation& table, const SchemaPlan& plan);

// How staged rows reach bronze.
struct MergeSpec {
  SyncMode mode = SyncMode::kFullRefreshOverwrite;
  std::vector<std::string> columns;      // the staged columns (all of them)
  std::vector<std::string> primary_key;  // may be empty (except dedup)
  std::string cursor_field;              // incremental modes
  // incremental_append: the previous cursor as a SQL literal of the cursor's warehouse type
  // (e.g. CAST('…' AS TIMESTAMPTZ)); rows read again at exactly this value are skipped as many
  // times as bronze holds them (by key, or by every source column without one).
  std::optional<std::string> previous_cursor_literal;
  // Columns this sync adds to bronze: bronze's earlier rows hold NULL there, so they are left out
  // of the comparison above, and the rows at the previous cursor that matched get their values
  // (a row read again is the same row; later syncs then compare every column).
  std::vector<std::string> added_columns;
  // True when the key is the source table's own primary key (unique and NOT NULL in one snapshot):
  // dedup then matches keys with = and inserts the staged rows without ranking them.
  bool key_is_source_primary_key = false;
};
// "<prefix>"c1", <prefix>"c2", …": quoted column names, comma-separated.
std::string list_columns(const sql::Dialect& dialect, const std::vector<std::string>& columns,
                         const std::string& prefix = "");
// "l.k1 = r.k1 AND …" (exact: keys that are NOT NULL) or "l.k1 IS NOT DISTINCT FROM r.k1 AND …".
std::string key_match_sql(const sql::Dialect& dialect, const std::vector<std::string>& key, const std::string& left,
                          const std::string& right, bool exact);
// "row_number() OVER (PARTITION BY <key> ORDER BY <order_by>)": rank 1 is the row a merge keeps.
std::string rank_per_key_sql(const sql::Dialect& dialect, const std::vector<std::string>& key,
                             const std::string& order_by);
// "<cursor> DESC NULLS LAST": the latest version of a row first.
std::string latest_first_sql(const sql::Dialect& dialect, const std::string& cursor_field);

// The statements (to run in one transaction with the state) that move `stage` into `bronze`.
// full_refresh_overwrite (or a new bronze table): drop bronze and rename stage; the others: insert
// (append) or delete the staged keys then insert the latest row per key (dedup; a new bronze table
// for a configured key that may repeat is created from the latest rows).
std::string merge_sql(const sql::Dialect& dialect, const warehouse::Relation& stage, const warehouse::Relation& bronze,
                      const MergeSpec& spec, bool bronze_exists);

}  // namespace strata::ingest

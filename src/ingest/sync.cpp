#include "ingest/sync.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <future>

#include "common/json_text.h"
#include "common/strings.h"
#include "common/time.h"
#include "ingest/bronze.h"
#include "ingest/cdc.h"
#include "ingest/cursor.h"
#include "ingest/discover.h"
#include "ingest/extract.h"
#include "ingest/merge_on_read.h"
#include "ingest/scoped_setting.h"
#include "ingest/stage_writer.h"
#include "pg/connection.h"

namespace strata::ingest {
namespace {

using sql::LogicalType;
using sql::TypeId;

// A sync id is a number that reads as its UTC start time: yyyymmddHHMMSS and five digits of
// 10-microsecond ticks (19 digits, below 2^63 until the year 9223), so ids sort by start time and
// bronze stores them as BIGINT: a constant BIGINT column costs DuckDB almost nothing to store,
// a constant VARCHAR about 0.1 s of CPU per million rows.
// `after`: the largest id already in bronze's state (empty when none): the new id is above it
// even when the clock went back, so "the later sync wins" (merge-on-read bronze ranks the
// delta's rows by sync id) never depends on the clock.
std::string new_sync_id(const std::string& after) {
  const int64_t micros = now_micros();
  std::string stamp = format_iso8601(micros / 1000000 * 1000000);
  auto not_digit = [](char c) { return !std::isdigit(static_cast<unsigned char>(c)); };
  stamp.erase(std::remove_if(stamp.begin(), stamp.end(), not_digit), stamp.end());
  char ticks[8];
  std::snprintf(ticks, sizeof ticks, "%05lld", static_cast<long long>(micros % 1000000 / 10));
  std::string id = stamp.substr(0, 14) + ticks;
  if (after.size() == id.size() && after >= id &&
      std::all_of(after.begin(), after.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    id = std::to_string(std::stoll(after) + 1);
  }
  return id;
}

// Everything one stream's sync needs.
struct StreamJob {
  const ConnectionConfig& config;
  const CatalogTable& table;
  const StreamConfig& stream;
  warehouse::Warehouse& wh;
  warehouse::Database& db;  // for the staging writers' extra sessions
  const SyncOptions& options;
  const std::string& sync_id;
  std::optional<StreamState> state;  // the stream's committed state (StateTable at the sync's start)
  pg::Connection* source = nullptr;  // an idle source connection the read may use, or null
  int64_t shared_buffers_bytes = 0;  // the source server's (0: unknown)
  bool unchecked_text = false;        // the source's text may not be UTF-8 (Catalog::unchecked_text)
  bool last = false;                 // the sync's last stream
  CdcSync* cdc = nullptr;            // replication: cdc (see cdc.h), else null
};

// The source columns the stream reads, in table order.
std::vector<const CatalogColumn*> selected_columns(const StreamJob& job) {
  std::vector<const CatalogColumn*> out;
  for (const CatalogColumn& c : job.table.columns) {
    if (job.stream.selects(c.name)) out.push_back(&c);
  }
  return out;
}

// The values the batch's _strata_meta column records as made NULL: its {"change": …} objects
// whose change is NULLED or ELEMENT_NULLED (not BOUNDS_DROPPED, which keeps the value). The
// objects' keys are sorted, so the change comes first; quotes inside strings are escaped, so the
// text cannot occur inside a column name or reason.
uint64_t count_notes(const sql::Column& meta) {
  constexpr std::string_view kKey = "NULLED\",\"column\":";
  uint64_t notes = 0;
  for (size_t r = 0; r < meta.size(); ++r) {
    if (meta.is_null(r)) continue;
    const std::string_view json = meta.get_bytes(r);
    for (size_t at = json.find(kKey); at != std::string_view::npos; at = json.find(kKey, at + kKey.size())) ++notes;
  }
  return notes;
}

// The constant bronze columns are the staging table's DEFAULTs while it is written, so the writer
// sends no value per row for them (DuckDB fills constant vectors).
std::string sync_column_defaults_sql(const sql::Dialect& d, const warehouse::Relation& stage, int64_t extracted_at,
                                     const std::string& sync_id, const LogicalType& sync_id_type) {
  const std::string name = warehouse::qualified_name(d, stage);
  return "ALTER TABLE " + name + " ALTER COLUMN " + d.quote_identifier(kExtractedAtColumn) + " SET DEFAULT CAST(" +
         d.quote_string(format_cursor(LogicalType::timestamptz(), extracted_at)) + " AS " +
         d.type_name(LogicalType::timestamptz()) + ");\nALTER TABLE " + name + " ALTER COLUMN " +
         d.quote_identifier(kSyncIdColumn) + " SET DEFAULT CAST(" + d.quote_string(sync_id) + " AS " +
         d.type_name(sync_id_type) + ");\n";
}

std::string drop_sync_column_defaults_sql(const sql::Dialect& d, const warehouse::Relation& stage) {
  const std::string name = warehouse::qualified_name(d, stage);
  std::string sql;
  for (const char* c : {kExtractedAtColumn, kSyncIdColumn}) {
    sql += "ALTER TABLE " + name + " ALTER COLUMN " + d.quote_identifier(c) + " DROP DEFAULT;\n";
  }
  return sql;
}

std::string kept_note(const std::string& column) { return "kept dropped column " + column; }

std::string narrowed_note(const std::string& column, const sql::LogicalType& source, const sql::LogicalType& bronze) {
  return "column " + column + " is " + source.to_string() + " in the source now; bronze keeps its wider type " +
         bronze.to_string();
}

// The lines of `plan`'s kept and narrowed columns: the report's wording of what stands.
std::vector<std::string> kept_and_narrowed_notes(const SchemaPlan& plan) {
  std::vector<std::string> out;
  for (const auto& c : plan.kept) out.push_back(kept_note(c.name));
  for (const auto& c : plan.narrowed) out.push_back(narrowed_note(c.name, c.source, c.bronze));
  return out;
}

// One line per change a plan makes (the report's schema_changes).
std::vector<std::string> describe_plan(const SchemaPlan& plan, bool replacing) {
  std::vector<std::string> out;
  for (const auto& c : plan.add) {
    out.push_back("added column " + c.name + (replacing ? "" : " (NULL in the rows synced before; a full refresh fills them)"));
  }
  for (const auto& c : plan.widen) {
    out.push_back(std::string(replacing ? "column " : "widened column ") + c.name + " to " + c.type.to_string());
  }
  for (auto& note : kept_and_narrowed_notes(plan)) out.push_back(std::move(note));
  return out;
}

// The notes of `plan` that stand until bronze or the source changes again (StreamState::schema_notes):
// its kept and narrowed columns, and a column widened to a type wider than the source's (a common
// DECIMAL), which later plans see as narrowed.
std::vector<std::string> standing_notes(const SchemaPlan& plan, const sql::Schema& staged) {
  std::vector<std::string> out = kept_and_narrowed_notes(plan);
  for (const auto& w : plan.widen) {
    for (const auto& c : staged)
      if (c.name == w.name && !(c.type == w.type)) out.push_back(narrowed_note(c.name, c.type, w.type));
  }
  return out;
}

// Runs each group of statements in a transaction of its own; stops at the first that fails
// (rolled back).
Status run_transactions(warehouse::Warehouse& wh, const std::vector<std::string>& steps) {
  for (const std::string& step : steps) {
    STRATA_TRY(wh.begin());
    Status done = wh.execute(step);
    if (done.ok()) done = wh.commit();
    if (!done.ok()) {
      (void)wh.rollback();
      return done;
    }
  }
  return ok_status();
}

// Rewrites merge-on-read bronze into one table (materialize_bronze_sql). `wide`: the string
// columns to store with ZSTD, or null to sample them from bronze.
Status rewrite_bronze(warehouse::Warehouse& wh, const warehouse::Relation& bronze, const std::vector<std::string>* wide) {
  STRATA_ASSIGN(std::vector<warehouse::ColumnInfo> columns, wh.columns(bronze));
  std::vector<std::string> sampled;
  if (!wide) {
    STRATA_ASSIGN(sampled, sample_wide_string_columns(wh, bronze));
    wide = &sampled;
  }
  return run_transactions(wh, materialize_bronze_sql(wh.dialect(), bronze, columns, *wide));
}

// The statements that move the stage into bronze, given how bronze is stored now (`storage`).
// `replace`: bronze is rebuilt from the stage (a full refresh). `merge_on_read`: an existing
// bronze ends this sync merge-on-read (see sync_one). `staged`: the staged columns when the
// source's schema differs from the one the stream's state recorded, else null.
std::string move_stage_sql(const sql::Dialect& d, const warehouse::Relation& stage, const warehouse::Relation& bronze,
                           const MergeSpec& merge, const SchemaPlan& schema_plan, const BronzeStorage& storage,
                           bool replace, bool merge_on_read, const sql::Schema* staged) {
  const bool exists = storage.layout != BronzeLayout::kMissing;
  if (replace || !exists) {
    // The stage becomes bronze: without the defaults, and with the dropped source columns the
    // old table kept (NULL).
    std::string sql = drop_sync_column_defaults_sql(d, stage);
    MergeSpec spec = merge;
    if (exists) {
      SchemaPlan keep;
      keep.add = schema_plan.kept;
      sql += apply_schema_plan_sql(d, stage, keep) + drop_bronze_sql(d, bronze, storage.layout);
      if (supports_merge_on_read(d)) sql += drop_compaction_leftover_sql(d, bronze);
      for (const auto& c : schema_plan.kept) spec.columns.push_back(c.name);
    }
    return sql + merge_sql(d, stage, bronze, spec, false);
  }
  const BronzeLayout layout = storage.layout;
  // With the schema the state recorded, the delta already has the staged columns.
  std::string sql = layout != BronzeLayout::kMergeOnRead ? apply_schema_plan_sql(d, bronze, schema_plan)
                    : staged                            ? alter_merge_on_read_sql(d, bronze, schema_plan, *staged)
                                                        : "";
  if (merge_on_read) {
    if (layout == BronzeLayout::kTable) sql += drop_sync_column_defaults_sql(d, stage);  // it becomes the delta
    return sql + merge_on_read_sql(d, stage, bronze, merge, layout);
  }
  return sql + merge_sql(d, stage, bronze, merge, true) + "DROP TABLE " + warehouse::qualified_name(d, stage) + ";\n";
}

// The stage's unchanged TOASTed values (`unchanged`: their plan indexes) filled from the key's
// previous versions (carry_unchanged_sql), then the stage without kUnchangedToastColumn. A column
// bronze does not have yet has no previous version there.
std::string carry_unchanged_values_sql(const sql::Dialect& d, const warehouse::Relation& stage,
                                       const warehouse::Relation& bronze, const BronzeStorage& storage,
                                       const std::vector<std::string>& key, const SchemaPlan& schema_plan,
                                       const ReadPlan& plan, const std::vector<size_t>& unchanged) {
  std::vector<warehouse::Relation> prior;
  if (storage.layout == BronzeLayout::kMergeOnRead) {
    prior = {base_relation(bronze), delta_relation(bronze)};
  } else if (storage.layout != BronzeLayout::kMissing) {
    prior = {bronze};
  }
  std::string sql;
  for (size_t index : unchanged) {
    const std::string& name = plan.columns[index].name;
    const bool added = std::any_of(schema_plan.add.begin(), schema_plan.add.end(),
                                   [&](const sql::ColumnSchema& c) { return c.name == name; });
    sql += carry_unchanged_sql(d, stage, added ? std::vector<warehouse::Relation>{} : prior, key, name, index);
  }
  return sql + "ALTER TABLE " + warehouse::qualified_name(d, stage) + " DROP COLUMN " +
         d.quote_identifier(kUnchangedToastColumn) + ";\n";
}

// A key as the state records it: a JSON array of column names.
std::string key_json(const std::vector<std::string>& key) { return json_text(nlohmann::json(key)); }

// Whether bronze, holding one row per recorded key (key_json), holds one row per `key` too: the
// new key has every recorded column (in any order, maybe more).
bool key_covers(const std::string& recorded, const std::vector<std::string>& key) {
  auto parsed = nlohmann::json::parse(recorded, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) return false;
  for (const auto& c : parsed) {
    if (!c.is_string() || std::find(key.begin(), key.end(), c.get<std::string>()) == key.end()) return false;
  }
  return true;
}

// Whether merge-on-read bronze no longer fits the stream (`state`: what its last sync recorded,
// with the view): the stream is not incremental_dedup any more, or its key or cursor differs
// from the view's (unknown without a state), which ranks the delta's rows and hides the base's.
bool view_outdated(const StreamConfig& stream, const std::optional<StreamState>& state) {
  if (stream.mode != SyncMode::kIncrementalDedup || !state) return true;
  return state->primary_key != key_json(stream.primary_key) || state->cursor_field != stream.cursor_field;
}

// The hint of an error a full refresh of the stream fixes.
std::string refresh_hint(const std::string& connection, const StreamConfig& stream) {
  std::string hint = "rebuild its bronze table with strata sync " + connection + " --full-refresh --stream " +
                     stream.full_name();
  if (stream.mode == SyncMode::kIncrementalAppend || stream.mode == SyncMode::kFullRefreshAppend) {
    hint += " (bronze then holds the source's current rows only: the versions appended before are dropped)";
  }
  return hint;
}

// Whether the stream's configured mode can go on from what its earlier syncs wrote (`state`)
// without a full refresh: incremental_dedup needs bronze to hold one row per key (so not after an
// append mode, nor after another key, nor after a full_refresh_overwrite whose key is not the
// source's primary key), and incremental_append cannot go on from another cursor or from one
// saved at infinity (it would append every row again, or none).
Status check_continuation(const std::string& connection, const StreamConfig& stream, const StreamState& state,
                          bool key_is_source_key) {
  auto refresh = [&](std::string why) {
    return Error(ErrorCode::kFailed, "stream " + stream.full_name() + ": " + why, stream.where_mode,
                 refresh_hint(connection, stream));
  };
  const bool appended = state.mode == sync_mode_name(SyncMode::kIncrementalAppend) ||
                        state.mode == sync_mode_name(SyncMode::kFullRefreshAppend);
  const bool deduped = state.mode == sync_mode_name(SyncMode::kIncrementalDedup);
  if (stream.mode == SyncMode::kIncrementalDedup) {
    if (appended) {
      return refresh("its bronze table was written by " + state.mode +
                     " and may hold several versions of a row, which incremental_dedup cannot continue from");
    }
    if (!deduped && !key_is_source_key) {
      return refresh("its bronze table was written by " + state.mode + ", which may hold several rows of the key " +
                     key_json(stream.primary_key));
    }
    if (deduped && !state.primary_key.empty() && !key_covers(state.primary_key, stream.primary_key)) {
      return refresh("its primary_key changed from " + state.primary_key + " to " + key_json(stream.primary_key) +
                     ", and bronze may hold several rows of a new key");
    }
  }
  if (stream.mode == SyncMode::kIncrementalAppend && state.cursor_value && state.cursor_field == stream.cursor_field &&
      is_infinite_cursor(*state.cursor_value)) {
    return refresh("its cursor was saved at " + *state.cursor_value + " (by an older version), which no new row passes");
  }
  if (stream.mode == SyncMode::kIncrementalAppend && state.cursor_value && state.cursor_field != stream.cursor_field) {
    return refresh("its cursor_field changed from '" + state.cursor_field + "' to '" + stream.cursor_field +
                   "', and incremental_append would append every row again");
  }
  return ok_status();
}

// DuckDB's merge-on-read view orders a sync's rows by rowid, which a source column of that name
// hides; such a dedup stream is a configuration error there.
Status check_rowid_columns(const ConnectionConfig& config, const Catalog& catalog) {
  for (const StreamConfig& s : config.streams) {
    if (s.mode != SyncMode::kIncrementalDedup || s.invalid) continue;
    for (const CatalogColumn& c : catalog.find(s.schema, s.table)->columns) {
      if (s.selects(c.name) && to_lower(c.name) == "rowid") {
        return Error(ErrorCode::kConfig,
                     "column '" + c.name + "' of " + s.full_name() +
                         " hides DuckDB's rowid, which incremental_dedup bronze on DuckDB needs",
                     s.where_mode,
                     "leave it out with columns: [...] (it cannot then be the key or the cursor), or use "
                     "incremental_append");
      }
    }
  }
  return ok_status();
}

Status sync_one(const StreamJob& job, StreamReport& report) {
  const int64_t started = monotonic_micros();
  const sql::Dialect& d = job.wh.dialect();
  // A cdc stream reads its changes, or the whole table in the slot's snapshot (its first sync,
  // which rebuilds bronze as a full refresh does).
  const CdcRead* cdc_read = job.cdc ? &job.cdc->read_for(job.stream) : nullptr;
  if (cdc_read && cdc_read->error) return *cdc_read->error;
  const bool overwrite = job.options.full_refresh || job.stream.mode == SyncMode::kFullRefreshOverwrite ||
                         (cdc_read && !cdc_read->snapshot.empty());
  const std::string stream_name = job.stream.full_name();

  // What to read and the staged schema: source columns, _strata_meta, _strata_extracted_at, _strata_sync_id.
  ReadPlan plan;
  plan.relation = pg::Connection::quote_identifier(job.table.schema) + "." +
                  pg::Connection::quote_identifier(job.table.name);
  plan.pages = job.table.pages;
  CursorTracker cursor;
  const CatalogColumn* cursor_column = nullptr;
  bool plain = job.table.kind == TableKind::kTable && !job.table.has_children;
  for (const CatalogColumn* c : selected_columns(job)) {
    if (c->name == job.stream.cursor_field) {
      cursor.column = static_cast<int>(plan.columns.size());
      cursor.type = c->mapping.type;
      cursor_column = c;
    }
    const std::string column = pg::Connection::quote_identifier(c->name);
    plan.expressions.push_back(pg::copy_select_expression(column, c->mapping));
    plain = plain && plan.expressions.back() == column && !c->generated;
    plan.columns.push_back({c->name, c->mapping.kind, c->mapping.array_depth, c->mapping.type});
  }
  plan.plain_table = plain && !plan.expressions.empty();
  if (cdc_read) add_cdc_columns(plan, *cdc_read, job.stream);
  sql::Schema staged;  // bronze's columns
  std::optional<sql::ColumnSchema> flags_column;  // kUnchangedToastColumn: the stage's only
  for (const auto& c : plan.columns) {
    if (c.name == kUnchangedToastColumn) {
      flags_column = sql::ColumnSchema{c.name, c.type, true};
    } else {
      staged.push_back({c.name, c.type, true});
    }
  }
  staged.push_back({pg::kMetaColumn, LogicalType::json(), true});
  // What the decoder produces (the plan's columns, then _strata_meta); the rest are stage DEFAULTs.
  const sql::Schema written = [&] {
    sql::Schema w;
    for (const auto& c : plan.columns) w.push_back({c.name, c.type, true});
    w.push_back(staged.back());
    return w;
  }();
  staged.push_back({kExtractedAtColumn, LogicalType::timestamptz(), true});
  staged.push_back({kSyncIdColumn, LogicalType::int64(), true});
  LogicalType& sync_id_type = staged.back().type;  // staged gets no more columns

  const warehouse::Relation bronze = bronze_relation(job.config.destination.schema, job.stream);
  const warehouse::Relation stage = staging_relation(bronze);
  report.bronze = bronze.schema + "." + bronze.name;

  std::optional<StreamState> state = job.state;
  // DuckDB: how bronze is stored (a table, or merge-on-read for incremental_dedup) and its row
  // counts (they decide when the delta is compacted). A bronze table dropped by hand is read
  // again in full, not from the state's cursor.
  BronzeStorage storage;
  if (supports_merge_on_read(d)) {
    STRATA_ASSIGN(storage, inspect_bronze(job.wh, bronze));
    if (storage.layout == BronzeLayout::kMissing) state.reset();
  }
  const bool merge_key_is_source_key =
      !job.table.primary_key.empty() && job.stream.primary_key == job.table.primary_key;
  if (state && !overwrite) STRATA_TRY(check_continuation(job.config.name, job.stream, *state, merge_key_is_source_key));
  // A stream no longer incremental_dedup appends to one table, and a view whose key or cursor the
  // stream changed would re-rank the rows the old ones superseded: the view's rows become one
  // table first, in a transaction of its own that leaves bronze's rows as they are, and the sync
  // then goes on as on any table.
  if (storage.layout == BronzeLayout::kMergeOnRead && !overwrite && view_outdated(job.stream, state)) {
    STRATA_TRY(rewrite_bronze(job.wh, bronze, nullptr));
    STRATA_ASSIGN(storage, inspect_bronze(job.wh, bronze));
  }
  const bool same_cursor = state && state->cursor_field == job.stream.cursor_field;
  std::optional<std::string> previous_cursor;
  // A cursor saved at ±infinity (older versions did) is no position: a dedup stream reads again.
  if (same_cursor && state->cursor_value && !is_infinite_cursor(*state->cursor_value)) previous_cursor = state->cursor_value;
  report.cursor_before = previous_cursor;
  const bool incremental = is_incremental(job.stream.mode) && !job.options.full_refresh;
  const bool resume = incremental && previous_cursor;
  const bool appending = incremental && job.stream.mode == SyncMode::kIncrementalAppend;
  if (cursor_column && (resume || (appending && same_cursor))) {
    const std::string column = pg::Connection::quote_identifier(cursor_column->name);
    // Without a cursor value the earlier syncs saw only NULL cursors (or no row): rows with a
    // NULL cursor were read then (later syncs skip them, as `>=` does), and appending them again
    // would duplicate them.
    plan.where = resume ? column + " >= " + pg::Connection::quote_literal(postgres_cursor_text(*previous_cursor)) + "::" + cursor_column->pg_type
                        : column + " IS NOT NULL";
    // Rows at ±infinity are no position either: an append stream reads them with its first sync
    // only, as it does NULL cursors.
    if (appending && has_infinities(cursor.type)) {
      plan.where += " AND " + column + " <> 'infinity' AND " + column + " <> '-infinity'";
    }
  }
  plan.parallelism = read_parallelism(job.table, job.stream, job.config, job.shared_buffers_bytes);
  report.parallelism = plan.parallelism;

  // An incremental sync whose source schema is the one the state recorded needs no schema change
  // and skips the warehouse's column listing (a catalog scan: ~0.2 s on a cold DuckDB). On other
  // warehouses a bronze table dropped by hand then fails the merge instead of being rebuilt from
  // a later cursor.
  const bool same_schema = state && state->schema_hash == schema_hash(staged) && !overwrite;
  std::vector<warehouse::ColumnInfo> existing;
  if (!same_schema) {
    STRATA_ASSIGN(existing, job.wh.columns(bronze));
  }
  // A bronze table written when sync ids were text keeps its VARCHAR column (rows are appended or
  // merged into it); a rebuilt one gets the BIGINT column.
  for (const auto& e : existing)
    if (!overwrite && e.name == kSyncIdColumn && e.type.id() == TypeId::kVarchar) sync_id_type = e.type;
  if (!supports_merge_on_read(d) && (same_schema || !existing.empty())) storage.layout = BronzeLayout::kTable;
  SchemaPlan schema_plan;
  if (!existing.empty()) {
    STRATA_ASSIGN(schema_plan, plan_schema_change(stream_name, staged, existing, job.config.schema_changes, overwrite,
                                                  refresh_hint(job.config.name, job.stream)));
    report.schema_changes = describe_plan(schema_plan, overwrite);
    // A note that stood after the last sync is no change: it is not reported again.
    if (state) {
      std::erase_if(report.schema_changes, [&](const std::string& note) {
        return std::find(state->schema_notes.begin(), state->schema_notes.end(), note) != state->schema_notes.end();
      });
    }
  }
  // Without the column listing (same_schema), bronze and the source are as the state recorded them.
  std::vector<std::string> schema_notes =
      existing.empty() && state ? state->schema_notes : standing_notes(schema_plan, staged);
  // A dedup key that takes in a column bronze lacked cannot match bronze's rows (NULL there): each
  // row read again would land beside its old version. Airbyte asks for a reset then too.
  if (job.stream.mode == SyncMode::kIncrementalDedup && !overwrite) {
    for (const auto& added : schema_plan.add)
      for (const auto& key : job.stream.primary_key)
        if (to_lower(key) == to_lower(added.name))
          return Error(ErrorCode::kFailed,
                       "stream " + stream_name + ": its primary key now includes the new column '" + added.name +
                           "', which the rows in bronze do not have, so they cannot be matched to their new versions",
                       {}, refresh_hint(job.config.name, job.stream));
  }
  // A column whose source type narrowed (SchemaPlan::narrowed) is staged in bronze's type: its
  // values are cast as they are written, and every comparison and insert after is in one type.
  sql::Schema stage_schema = staged;
  for (const auto& n : schema_plan.narrowed) {
    for (auto& c : stage_schema) {
      if (c.name == n.name) c.type = n.bronze;
    }
  }
  // The state then records both schemas, so the next sync, seeing only the source's, lists
  // bronze's columns again, and says nothing when it finds the narrowing it reported before.
  std::string next_schema_hash = schema_hash(staged);
  if (!schema_plan.narrowed.empty()) {
    sql::Schema both = staged;
    both.insert(both.end(), stage_schema.begin(), stage_schema.end());
    next_schema_hash = schema_hash(both);
    if (state && state->schema_hash == next_schema_hash) report.schema_changes.clear();
  }

  // One warehouse transaction on the stage writer's session: create the stage, append every row
  // read (a writer thread, so the warehouse's encoding overlaps the read), then apply schema
  // changes, swap/append/merge the rows into bronze and write the state that covers them, and
  // commit once. A failure or crash anywhere before that commit leaves nothing behind.
  // An incremental sync into merge-on-read bronze with the schema its state recorded appends its
  // rows straight to the delta (the constant columns become the delta's DEFAULTs before any row is
  // written, and stay) instead of staging them and copying them over at the merge.
  const bool into_delta = same_schema && storage.layout == BronzeLayout::kMergeOnRead &&
                          job.stream.mode == SyncMode::kIncrementalDedup && !flags_column;
  const warehouse::Relation target = into_delta ? delta_relation(bronze) : stage;
  sql::Schema stage_table_schema = stage_schema;
  if (flags_column) stage_table_schema.push_back(*flags_column);
  const std::string stage_name = warehouse::qualified_name(d, stage);
  const int64_t extracted_at = now_micros();
  // The first batch decides which string columns are wide (stored with ZSTD), in the stage and in
  // a compaction's rewrite. Set on the writer's thread, read after finish().
  std::vector<std::string> zstd_columns;
  auto setup = [&](const sql::ColumnBatch* first) {
    if (first) zstd_columns = wide_string_columns(*first);
    const std::string defaults = sync_column_defaults_sql(d, target, extracted_at, job.sync_id, sync_id_type);
    if (into_delta) return defaults;
    return "DROP TABLE IF EXISTS " + stage_name + ";\n" +
           warehouse::create_table_sql(d, stage, stage_table_schema, false, zstd_columns) + ";\n" + defaults;
  };
  StageWriter writer;
  std::optional<CdcReadResult> changes;  // a cdc stream's read
  // Until the commit (see SyncOptions::staging_threads). A process that owns the database
  // checkpoints it when closing it after the sync; the last stream's commit checkpoints at once
  // instead (DuckDB then skips writing its rows to the WAL first, as it does for any commit
  // beyond the threshold), and the close has nothing left to do.
  const bool owns_database = job.options.staging_threads > 0;
  std::optional<ScopedSetting> threads;
  threads.emplace(job.wh, "threads", owns_database ? std::to_string(job.options.staging_threads) : "");
  ScopedSetting checkpoint(job.wh, "checkpoint_threshold", owns_database && job.last ? "0KB" : "");
  // Until the sync's compaction is done (see SyncOptions::staging_memory); raised before the
  // writer sees a batch of rows too wide for it.
  uint64_t memory_limit = job.options.staging_memory;
  auto mebibytes = [](uint64_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20) + "MiB"; };
  ScopedSetting memory(job.wh, "memory_limit", memory_limit > 0 ? mebibytes(memory_limit) : "");
  {
    STRATA_TRY(writer.open(job.db, setup, target, written));
    ReadProgress progress;
    ReadOptions read;
    read.conninfo = job.config.source.conninfo();
    read.masker = job.options.masker;
    read.progress = &progress;
    read.connection = job.source;
    read.cancel = job.options.source_cancel;
    read.decoder.check_utf8 = job.unchecked_text;
    int64_t last_report = 0;
    auto emit = [&](bool done) {
      if (!job.options.on_progress) return;
      double secs = static_cast<double>(monotonic_micros() - started) / 1e6;
      // An incremental read's rows are no share of the table's estimate.
      job.options.on_progress(stream_name, progress.rows.load(), progress.bytes.load(), secs,
                              plan.where.empty() ? job.table.estimated_rows : -1, done);
    };
    auto consume = [&](sql::ColumnBatch&& batch) -> Status {
      cursor.observe(batch);
      report.notes += count_notes(batch.column(plan.columns.size()));
      if (memory_limit > 0 && batch.num_rows() > 0) {
        const double row_bytes = static_cast<double>(batch.byte_size()) / static_cast<double>(batch.num_rows());
        const uint64_t needed = staging_memory_limit(job.options.staging_memory, row_bytes);
        if (needed > memory_limit) memory.change(mebibytes(memory_limit = needed));
      }
      STRATA_TRY(writer.append(std::move(batch)));
      if (monotonic_micros() - last_report > 500000) {
        last_report = monotonic_micros();
        emit(false);
      }
      return ok_status();
    };
    if (cdc_read) {
      STRATA_ASSIGN(changes, read_cdc_stream(job.config, job.stream, plan, *cdc_read, read, consume));
      for (auto& warning : changes->warnings) report.warnings.push_back(std::move(warning));
    } else {
      STRATA_TRY(read_stream(plan, read, consume));
    }
    STRATA_TRY(writer.finish());
    report.rows = progress.rows.load();
    report.bytes = progress.bytes.load();
    emit(true);
  }

  // Resuming, every row read is at or above the previous cursor, so the new maximum never goes back.
  std::optional<std::string> new_cursor = resume ? previous_cursor : std::nullopt;
  if (cursor.max) new_cursor = format_cursor(cursor.type, *cursor.max);
  if (changes) new_cursor = pg::format_lsn(changes->lsn);
  MergeSpec merge;
  // A cdc read may hold several changes of one key: dedup ranks them by _strata_lsn.
  merge.key_is_source_primary_key = merge_key_is_source_key && !cdc_read;
  // A dedup stream whose configured key may repeat is rebuilt from its latest rows, also when
  // fully refreshed.
  const bool rebuild_ranked =
      overwrite && job.stream.mode == SyncMode::kIncrementalDedup && !merge.key_is_source_primary_key;
  merge.mode = overwrite && !rebuild_ranked ? SyncMode::kFullRefreshOverwrite : job.stream.mode;
  for (const auto& c : staged) merge.columns.push_back(c.name);
  for (const auto& c : schema_plan.add) merge.added_columns.push_back(c.name);
  merge.primary_key = job.stream.primary_key;
  merge.cursor_field = job.stream.cursor_field;
  if (resume && job.stream.mode == SyncMode::kIncrementalAppend && !cdc_read) {
    // DuckDB reads the astronomical years of format_cursor; PostgreSQL needs its era form.
    const std::string text =
        d.id() == sql::DialectId::kPostgres ? postgres_cursor_text(*previous_cursor) : *previous_cursor;
    merge.previous_cursor_literal = "CAST(" + d.quote_string(text) + " AS " + d.type_name(cursor.type) + ")";
  }
  StreamState next;
  next.stream = stream_name;
  // What bronze now holds: a full refresh of a stream that is not dedup leaves one row per source
  // row, whatever the mode it appends with later (see check_continuation).
  next.mode = job.options.full_refresh && job.stream.mode != SyncMode::kIncrementalDedup
                  ? sync_mode_name(SyncMode::kFullRefreshOverwrite)
                  : sync_mode_name(job.stream.mode);
  next.cursor_field = job.stream.cursor_field;
  next.cursor_value = new_cursor;
  next.schema_hash = next_schema_hash;
  next.sync_id = job.sync_id;
  next.rows = static_cast<int64_t>(report.rows);
  next.primary_key = key_json(job.stream.primary_key);
  next.schema_notes = std::move(schema_notes);

  // An existing DuckDB bronze of a dedup stream is merge-on-read after this sync.
  const bool merge_on_read = !overwrite && merge.mode == SyncMode::kIncrementalDedup && supports_merge_on_read(d) &&
                             storage.layout != BronzeLayout::kMissing;
  std::string sql = flags_column ? carry_unchanged_values_sql(d, stage, bronze, storage, job.stream.primary_key,
                                                               schema_plan, plan, changes->unchanged_columns)
                                 : "";
  sql += into_delta ? merge_on_read_view_sql(d, bronze, merge)
                    : move_stage_sql(d, stage, bronze, merge, schema_plan, storage, overwrite, merge_on_read,
                                     same_schema ? nullptr : &stage_schema);
  sql += write_state_sql(d, job.config.destination.schema, next);
  report.stage_seconds = static_cast<double>(monotonic_micros() - started) / 1e6;
  STRATA_TRY(writer.commit(sql));
  if (changes) job.cdc->committed(job.stream, changes->lsn);
  threads.reset();  // a compaction uses every core (its rewrite at 5M rows: ~1.0 s instead of 2.1 s on one)
  report.cursor_after = new_cursor;
  if (merge_on_read && should_compact(storage, report.rows)) {
    Status compacted = rewrite_bronze(job.wh, bronze, report.rows > 0 ? &zstd_columns : nullptr);
    // The rows and the state are committed: the stream succeeded, and says what is left to do.
    if (!compacted.ok()) {
      report.warnings.push_back("compacting " + report.bronze + " failed: " + compacted.error().message() +
                                "; bronze stays correct (a view over its base and delta) and the next sync "
                                "compacts it again");
    }
  }
  report.seconds = static_cast<double>(monotonic_micros() - started) / 1e6;
  report.merge_seconds = report.seconds - report.stage_seconds;
  return ok_status();
}

// Keeps only the streams named by --stream ("schema.table" or a unique "table").
Status filter_streams(ConnectionConfig& config, const std::vector<std::string>& only) {
  if (only.empty()) return ok_status();
  std::string all;
  for (const auto& s : config.streams) all += (all.empty() ? "" : ", ") + s.full_name();
  std::vector<StreamConfig> kept;
  for (const std::string& want : only) {
    // A quoted name ("x.y".z) names one table exactly; else the full name, else the table name.
    std::string why;
    const std::optional<StreamName> quoted = parse_stream_name(want, why);
    if (!quoted && want.find('"') != std::string::npos) {
      return Error(ErrorCode::kUsage, "--stream " + want + " is not a valid stream name: " + why);
    }
    const bool exact = quoted && quoted->quoted;
    std::vector<const StreamConfig*> matches;
    for (const auto& s : config.streams) {
      if (exact ? s.schema == quoted->schema && s.table == quoted->table : s.full_name() == want) matches.push_back(&s);
    }
    if (matches.empty()) {
      for (const auto& s : config.streams) {
        if (s.table == want) matches.push_back(&s);
      }
    }
    if (matches.empty()) {
      return Error(ErrorCode::kUsage, "--stream " + want + " is not a stream of connection " + config.name, {},
                   "streams: " + all);
    }
    if (matches.size() > 1) {
      return Error(ErrorCode::kUsage, "--stream " + want + " names several streams of connection " + config.name, {},
                   "name one with its schema, in double quotes where a part holds a dot: " +
                       quoted_stream_name(matches[0]->schema, matches[0]->table) + " or " +
                       quoted_stream_name(matches[1]->schema, matches[1]->table));
    }
    // A stream named twice runs once.
    const bool listed = std::any_of(kept.begin(), kept.end(), [&](const StreamConfig& k) {
      return k.schema == matches[0]->schema && k.table == matches[0]->table;
    });
    if (!listed) kept.push_back(*matches[0]);
  }
  for (const StreamConfig& s : config.streams) {
    const bool selected = std::any_of(kept.begin(), kept.end(), [&](const StreamConfig& k) {
      return k.schema == s.schema && k.table == s.table;
    });
    if (!selected) config.unselected_streams.push_back(s.full_name());
  }
  config.streams = std::move(kept);
  return ok_status();
}

}  // namespace

int read_parallelism(const CatalogTable& table, const StreamConfig& stream, const ConnectionConfig& config,
                     int64_t shared_buffers_bytes) {
  const bool has_ctid = table.kind == TableKind::kTable || table.kind == TableKind::kMaterializedView ||
                        table.kind == TableKind::kPartitioned;
  if (!has_ctid || table.pages < 2) return 1;
  if (stream.parallelism > 0) return static_cast<int>(std::min<int64_t>(stream.parallelism, table.pages));
  // Parallel reads are ctid range scans, which PostgreSQL runs without the small ring of buffers
  // its sequential scans use: a table larger than shared_buffers would evict the source's working
  // set, and the readers then contend for buffers (measured: two halves of a 700 MB table with
  // 256 MB shared_buffers, 4.0 s each in parallel; one plain COPY of the whole table, 2.5 s).
  const bool fits = shared_buffers_bytes <= 0 || table.size_bytes <= shared_buffers_bytes;
  if (table.size_bytes >= config.parallel_threshold_bytes && fits) return config.max_parallelism;
  return 1;
}

bool SyncReport::ok() const {
  return std::all_of(streams.begin(), streams.end(), [](const StreamReport& s) { return s.ok; });
}

namespace {

// The source connection and what it discovered: the first half of a sync, which needs nothing
// from the warehouse.
struct DiscoveredSource {
  pg::Connection connection;
  Catalog catalog;
};

Result<DiscoveredSource> discover_source(const ConnectionConfig& config, const SyncOptions& options) {
  STRATA_ASSIGN(pg::Connection connection, pg::Connection::connect(config.source.conninfo(),
                                                                  source_connect_options(options.masker, "strata sync")));
  if (options.source_cancel) STRATA_TRY(options.source_cancel->add(connection.canceller()));
  STRATA_ASSIGN(Catalog catalog, discover_catalog(connection, config.source.schemas));
  return DiscoveredSource{std::move(connection), std::move(catalog)};
}

// Checks the streams against the catalog and keeps the selected ones (see validate_streams;
// `synced`: the streams with a state in the warehouse).
Status prepare_streams(ConnectionConfig& config, const Catalog& catalog, const SyncOptions& options,
                       const SyncedStreams& synced) {
  STRATA_TRY(validate_streams(config, catalog, synced));
  return filter_streams(config, options.only_streams);
}

// The second half of a sync, once prepare_streams passed.
Result<SyncReport> sync_prepared(ConnectionConfig& config, DiscoveredSource discovered, warehouse::Database& db,
                                 std::unique_ptr<warehouse::Warehouse> wh, const StateTable& states,
                                 const SyncOptions& options) {
  const Catalog& catalog = discovered.catalog;
  SyncReport report;
  report.connection = config.name;
  report.started_at = format_iso8601(now_micros());
  if (supports_merge_on_read(wh->dialect())) STRATA_TRY(check_rowid_columns(config, catalog));
  STRATA_TRY(ensure_bronze(*wh, config.destination.schema, states));
  report.sync_id = new_sync_id(states.latest_sync_id());
  std::unique_ptr<CdcSync> cdc;
  if (config.source.cdc()) {
    STRATA_ASSIGN(cdc, CdcSync::start(config, discovered.connection, catalog, states, options.full_refresh,
                                      !options.only_streams.empty(), options.masker));
  }
  // The discovery connection also serves the streams' reads (see ReadOptions::connection); a
  // stream that fails closes it and the next one opens its own.
  std::optional<pg::Connection> source(std::move(discovered.connection));
  for (const StreamConfig& stream : config.streams) {
    StreamReport sr;
    sr.stream = stream.full_name();
    sr.mode = options.full_refresh ? "full_refresh_overwrite" : sync_mode_name(stream.mode);
    if (stream.invalid) {
      sr.error = stream.invalid->message() + "; hint: " + stream.invalid->hint();
      report.streams.push_back(std::move(sr));
      continue;
    }
    StreamJob job{config, *catalog.find(stream.schema, stream.table), stream, *wh, db, options, report.sync_id,
                  states.find(stream.full_name()), source ? &*source : nullptr, catalog.shared_buffers_bytes,
                  catalog.unchecked_text, &stream == &config.streams.back(), cdc.get()};
    Status st = sync_one(job, sr);
    sr.ok = st.ok();
    sr.unreachable = !st.ok() && st.error().code() == ErrorCode::kConnection;
    if (!st.ok()) {
      source.reset();
      std::string message = st.error().message();
      if (!st.error().hint().empty()) message += "; hint: " + st.error().hint();
      sr.error = options.masker ? options.masker->mask(message) : message;
    }
    report.streams.push_back(std::move(sr));
  }
  // Only now, with every stream's rows committed, may the slot release the WAL before them.
  if (Status confirmed = cdc ? cdc->confirm() : ok_status(); !confirmed.ok()) {
    for (StreamReport& sr : report.streams) {
      if (sr.ok) sr.warnings.push_back("the replication slot was not told of the new position (" +
                                       confirmed.error().message() + "); it keeps the WAL until a later sync does");
    }
  }
  report.finished_at = format_iso8601(now_micros());
  return report;
}

// A session of the warehouse, and the streams it holds a state for (see synced_streams).
struct WarehouseSession {
  std::unique_ptr<warehouse::Warehouse> session;
  StateTable states;
};

// The session holds the sync's lock (Warehouse::try_lock) until the sync ends: two syncs of one
// connection into one bronze schema (two workers, a CLI sync beside a scheduler's) would both read
// the state and both append the rows after it. The second fails at once, as in Airbyte.
Result<WarehouseSession> connect_destination(warehouse::Database& db, const ConnectionConfig& config) {
  STRATA_ASSIGN(std::unique_ptr<warehouse::Warehouse> wh, db.connect());
  STRATA_ASSIGN(std::string holder, wh->try_lock("strata sync " + config.destination.schema + " " + config.name));
  if (!holder.empty()) {
    return Error(ErrorCode::kFailed,
                 "another sync of connection '" + config.name + "' into schema '" + config.destination.schema +
                     "' is running (" + holder + ")",
                 {}, "run this sync again once that one has ended");
  }
  StateTable states = read_state_table(*wh, config.destination.schema);
  return WarehouseSession{std::move(wh), std::move(states)};
}

}  // namespace

Result<SyncReport> run_sync(ConnectionConfig& config, warehouse::Database& db, const SyncOptions& options) {
  STRATA_ASSIGN(DiscoveredSource discovered, discover_source(config, options));
  STRATA_ASSIGN(WarehouseSession destination, connect_destination(db, config));
  STRATA_TRY(prepare_streams(config, discovered.catalog, options, destination.states.synced()));
  return sync_prepared(config, std::move(discovered), db, std::move(destination.session), destination.states, options);
}

Result<SyncReport> run_sync(ConnectionConfig& config, const DatabaseOpener& open_database, const SyncOptions& options,
                            std::unique_ptr<warehouse::Database>& database) {
  const ConnectionConfig& source_config = config;  // read-only until both halves are done
  auto discovering = std::async(std::launch::async, [&] { return discover_source(source_config, options); });
  Result<std::unique_ptr<warehouse::Database>> opened = open_database();
  Result<DiscoveredSource> discovered = discovering.get();
  if (!opened.ok()) return opened.error();
  database = std::move(*opened);
  if (!discovered.ok()) return discovered.error();
  STRATA_ASSIGN(WarehouseSession destination, connect_destination(*database, config));
  STRATA_TRY(prepare_streams(config, discovered->catalog, options, destination.states.synced()));
  return sync_prepared(config, std::move(*discovered), *database, std::move(destination.session), destination.states,
                       options);
}

}  // namespace strata::ingest

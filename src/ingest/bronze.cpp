#include "ingest/bronze.h"

#include <algorithm>
#include <cstdio>

#include "common/json_text.h"
#include "common/strings.h"

namespace strata::ingest {
namespace {

using sql::TypeId;

int rank_int(TypeId id) {
  switch (id) {
    case TypeId::kInt16: return 1;
    case TypeId::kInt32: return 2;
    case TypeId::kInt64: return 3;
    default: return 0;
  }
}

}  // namespace

std::string list_columns(const sql::Dialect& d, const std::vector<std::string>& columns, const std::string& prefix) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) out += ", ";
    out += prefix + d.quote_identifier(columns[i]);
  }
  return out;
}

std::string key_match_sql(const sql::Dialect& d, const std::vector<std::string>& columns, const std::string& left,
                          const std::string& right, bool exact) {
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) out += " AND ";
    std::string c = d.quote_identifier(columns[i]);
    out += left + "." + c + (exact ? " = " : " IS NOT DISTINCT FROM ") + right + "." + c;
  }
  return out;
}

std::string rank_per_key_sql(const sql::Dialect& d, const std::vector<std::string>& key, const std::string& order_by) {
  return "row_number() OVER (PARTITION BY " + list_columns(d, key) + " ORDER BY " + order_by + ")";
}

std::string latest_first_sql(const sql::Dialect& d, const std::string& cursor_field) {
  return d.quote_identifier(cursor_field) + " DESC NULLS LAST";
}

std::vector<std::string> wide_string_columns(const sql::ColumnBatch& batch) {
  std::vector<std::string> wide;
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    const sql::Column& column = batch.column(c);
    if (!column.type().is_variable_width()) continue;
    size_t values = 0;
    for (size_t r = 0; r < column.size(); ++r) values += column.is_null(r) ? 0 : 1;
    if (values > 0 && column.heap_size() >= kWideStringBytes * values) wide.push_back(batch.name(c));
  }
  return wide;
}

warehouse::Relation bronze_relation(const std::string& bronze_schema, const StreamConfig& stream) {
  return warehouse::Relation{"", bronze_schema, bronze_table_name(stream)};
}

warehouse::Relation staging_relation(const warehouse::Relation& bronze) {
  return warehouse::Relation{bronze.database, bronze.schema, "_strata_stage_" + bronze.name};
}

std::string schema_hash(const sql::Schema& schema) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xFF;
    h *= 1099511628211ULL;
  };
  for (const sql::ColumnSchema& c : schema) {
    mix(c.name);
    mix(c.type.to_string());
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

Status ensure_bronze(warehouse::Warehouse& wh, const std::string& bronze_schema, const StateTable& table) {
  const sql::Dialect& d = wh.dialect();
  if (table.exists) {
    for (const std::string& column : table.missing_columns) {
      STRATA_TRY(wh.execute("ALTER TABLE " + d.qualify("", bronze_schema, kStateTable) + " ADD COLUMN IF NOT EXISTS " +
                            d.quote_identifier(column) + " " + d.type_name(sql::LogicalType::varchar())));
    }
    return ok_status();
  }
  STRATA_TRY(wh.execute(warehouse::create_schema_sql(d, "", bronze_schema)));
  sql::Schema state = {
      {"stream", sql::LogicalType::varchar(), false},      {"mode", sql::LogicalType::varchar(), true},
      {"cursor_field", sql::LogicalType::varchar(), true}, {"cursor_value", sql::LogicalType::varchar(), true},
      {"schema_hash", sql::LogicalType::varchar(), true},  {"sync_id", sql::LogicalType::varchar(), true},
      {"rows", sql::LogicalType::int64(), true},           {"updated_at", sql::LogicalType::timestamptz(), true},
      {"primary_key", sql::LogicalType::varchar(), true},  {"schema_notes", sql::LogicalType::varchar(), true},
  };
  return wh.execute(warehouse::create_table_sql(d, {"", bronze_schema, kStateTable}, state, true));
}

StateTable read_state_table(warehouse::Warehouse& wh, const std::string& bronze_schema) {
  StateTable table;
  auto r = wh.query("SELECT * FROM " + wh.dialect().qualify("", bronze_schema, kStateTable));
  if (!r.ok()) return table;
  std::map<std::string, size_t> at;
  for (size_t c = 0; c < r->schema.size(); ++c) at[to_lower(r->schema[c].name)] = c;
  if (!at.count("stream")) return table;
  table.exists = true;
  for (const char* column : {"primary_key", "schema_notes"})
    if (!at.count(column)) table.missing_columns.emplace_back(column);
  // The cell of `column` in row i, or nullopt when it is NULL or the table lacks the column.
  auto cell = [&](size_t i, const char* column) -> std::optional<std::string> {
    auto it = at.find(column);
    if (it == at.end() || r->is_null(i, it->second)) return std::nullopt;
    return r->cell_text(i, it->second);
  };
  for (size_t i = 0; i < r->num_rows(); ++i) {
    StreamState s;
    s.stream = cell(i, "stream").value_or("");
    s.mode = cell(i, "mode").value_or("");
    s.cursor_field = cell(i, "cursor_field").value_or("");
    s.cursor_value = cell(i, "cursor_value");
    s.schema_hash = cell(i, "schema_hash").value_or("");
    s.sync_id = cell(i, "sync_id").value_or("");
    const std::optional<std::string> rows = cell(i, "rows");
    s.rows = rows ? std::stoll(*rows) : 0;
    s.primary_key = cell(i, "primary_key").value_or("");
    if (const std::optional<std::string> notes_text = cell(i, "schema_notes")) {
      // Written by write_state_sql; anything else (edited by hand) counts as no notes.
      const nlohmann::json notes = nlohmann::json::parse(*notes_text, nullptr, /*allow_exceptions=*/false);
      if (notes.is_array()) {
        for (const auto& note : notes)
          if (note.is_string()) s.schema_notes.push_back(note.get<std::string>());
      }
    }
    table.states[s.stream] = std::move(s);
  }
  return table;
}

std::optional<StreamState> StateTable::find(const std::string& stream) const {
  auto it = states.find(stream);
  return it == states.end() ? std::nullopt : std::optional<StreamState>(it->second);
}

SyncedStreams StateTable::synced() const {
  SyncedStreams out;
  for (const auto& [name, state] : states) out[name] = SyncedStream{state.cursor_field, state.primary_key};
  return out;
}

std::string StateTable::latest_sync_id() const {
  std::string latest;
  for (const auto& [name, state] : states)
    if (state.sync_id.size() == 19 && state.sync_id > latest) latest = state.sync_id;
  return latest;
}

std::string write_state_sql(const sql::Dialect& d, const std::string& bronze_schema, const StreamState& s) {
  const std::string table = d.qualify("", bronze_schema, kStateTable);
  auto text = [&](const std::string& v) { return d.quote_string(v); };
  return "DELETE FROM " + table + " WHERE stream = " + text(s.stream) + ";\nINSERT INTO " + table +
         " (stream, mode, cursor_field, cursor_value, schema_hash, sync_id, rows, updated_at, primary_key, schema_notes)"
         " VALUES (" +
         text(s.stream) + ", " + text(s.mode) + ", " + text(s.cursor_field) + ", " +
         (s.cursor_value ? text(*s.cursor_value) : "NULL") + ", " + text(s.schema_hash) + ", " + text(s.sync_id) +
         ", " + std::to_string(s.rows) + ", CURRENT_TIMESTAMP, " +
         (s.primary_key.empty() ? "NULL" : text(s.primary_key)) + ", " +
         (s.schema_notes.empty() ? "NULL" : text(json_text(nlohmann::json(s.schema_notes)))) + ");\n";
}

bool can_widen(const sql::LogicalType& from, const sql::LogicalType& to) {
  if (from == to) return true;
  if (to.id() == TypeId::kVarchar) return from.id() != TypeId::kList && from.id() != TypeId::kBlob;
  if (rank_int(from.id()) && rank_int(to.id())) return rank_int(from.id()) < rank_int(to.id());
  if (from.id() == TypeId::kFloat && to.id() == TypeId::kDouble) return true;
  if (rank_int(from.id()) && to.id() == TypeId::kDecimal) {
    int digits = from.id() == TypeId::kInt16 ? 5 : from.id() == TypeId::kInt32 ? 10 : 19;
    return to.precision() - to.scale() >= digits;
  }
  if (from.id() == TypeId::kDecimal && to.id() == TypeId::kDecimal) {
    return to.scale() >= from.scale() && to.precision() - to.scale() >= from.precision() - from.scale();
  }
  if (from.id() == TypeId::kTimestamp && to.id() == TypeId::kTimestampTz) return false;  // meaning changes
  if (from.id() == TypeId::kList && to.id() == TypeId::kList) return from.child() == to.child();
  return false;
}

namespace {

// The narrowest DECIMAL holding every value of two DECIMALs neither of which holds the other's
// (numeric(10,2) and numeric(10,4): DECIMAL(12,4)); nullopt when it would pass 38 digits.
std::optional<sql::LogicalType> common_decimal(const sql::LogicalType& a, const sql::LogicalType& b) {
  if (a.id() != TypeId::kDecimal || b.id() != TypeId::kDecimal) return std::nullopt;
  const int scale = std::max(a.scale(), b.scale());
  const int digits = std::max(a.precision() - a.scale(), b.precision() - b.scale());
  if (digits + scale > 38) return std::nullopt;
  return sql::LogicalType::decimal(static_cast<uint8_t>(digits + scale), static_cast<uint8_t>(scale));
}

}  // namespace

Result<SchemaPlan> plan_schema_change(const std::string& stream, const sql::Schema& incoming,
                                      const std::vector<warehouse::ColumnInfo>& existing, SchemaChanges policy,
                                      bool replacing, const std::string& refresh_hint) {
  SchemaPlan plan;
  auto same_name = [](const std::string& a, const std::string& b) { return to_lower(a) == to_lower(b); };
  for (const sql::ColumnSchema& c : incoming) {
    const warehouse::ColumnInfo* old = nullptr;
    for (const auto& e : existing) {
      if (same_name(e.name, c.name)) old = &e;
    }
    if (!old) {
      if (policy == SchemaChanges::kFail) {
        return Error(ErrorCode::kFailed, "stream " + stream + ": the source has a new column '" + c.name + "' (" +
                                             c.type.to_string() + ") and schema_changes is fail",
                     {}, "set schema_changes: propagate to add it to bronze, or leave it out with columns: […]");
      }
      plan.add.push_back(c);
      continue;
    }
    if (old->type == c.type) continue;
    if (replacing) {
      plan.widen.push_back(c);
      continue;
    }
    std::string what = "stream " + stream + ": column '" + c.name + "' changed type from " + old->type.to_string() +
                       " to " + c.type.to_string();
    const bool widens = can_widen(old->type, c.type);
    const bool fits = !widens && can_widen(c.type, old->type);
    const std::optional<sql::LogicalType> common = widens || fits ? std::nullopt : common_decimal(old->type, c.type);
    if (!widens && !fits && !common) {
      return Error(ErrorCode::kFailed, what + ", which bronze cannot widen to", {}, refresh_hint);
    }
    // A type bronze's column already holds changes nothing in bronze, so `fail` lets it pass (a
    // notice): it is also what a column bronze widened to a common DECIMAL looks like afterwards.
    if (policy == SchemaChanges::kFail && !fits) {
      return Error(ErrorCode::kFailed, what + " and schema_changes is fail", {},
                   "set schema_changes: propagate to widen the bronze column");
    }
    if (common) {
      plan.widen.push_back({c.name, *common, c.nullable});  // bronze holds the old and the new values
    } else if (widens) {
      plan.widen.push_back(c);
    } else {
      plan.narrowed.push_back({c.name, c.type, old->type});
    }
  }
  for (const auto& e : existing) {
    bool present = false;
    for (const auto& c : incoming) present = present || same_name(c.name, e.name);
    if (!present) plan.kept.push_back({e.name, e.type, true});
  }
  return plan;
}

std::string apply_schema_plan_sql(const sql::Dialect& d, const warehouse::Relation& table, const SchemaPlan& plan) {
  const std::string name = warehouse::qualified_name(d, table);
  std::string sql;
  for (const auto& c : plan.add) {
    sql += "ALTER TABLE " + name + " ADD COLUMN " + d.quote_identifier(c.name) + " " + d.type_name(c.type) + ";\n";
  }
  for (const auto& c : plan.widen) {
    sql += "ALTER TABLE " + name + " ALTER COLUMN " + d.quote_identifier(c.name) + " TYPE " + d.type_name(c.type) +
           ";\n";
  }
  return sql;
}

std::string merge_sql(const sql::Dialect& d, const warehouse::Relation& stage, const warehouse::Relation& bronze,
                      const MergeSpec& spec, bool bronze_exists) {
  const std::string stage_name = warehouse::qualified_name(d, stage);
  const std::string bronze_name = warehouse::qualified_name(d, bronze);
  const std::string cols = list_columns(d, spec.columns);
  // The latest staged row per key (a configured key may repeat within one read).
  const std::string latest = "SELECT " + cols + " FROM (SELECT " + cols + ", " +
                             rank_per_key_sql(d, spec.primary_key, latest_first_sql(d, spec.cursor_field)) +
                             " AS _strata_rn FROM " + stage_name + ") t WHERE _strata_rn = 1";
  const bool rank = spec.mode == SyncMode::kIncrementalDedup && !spec.key_is_source_primary_key;
  if (!bronze_exists && rank) {
    return "CREATE TABLE " + bronze_name + " AS " + latest + ";\nDROP TABLE " + stage_name + ";\n";
  }
  if (spec.mode == SyncMode::kFullRefreshOverwrite || !bronze_exists) {
    std::string sql;
    if (bronze_exists) sql += "DROP TABLE " + bronze_name + ";\n";
    return sql + "ALTER TABLE " + stage_name + " RENAME TO " + d.quote_identifier(bronze.name) + ";\n";
  }
  const std::string insert = "INSERT INTO " + bronze_name + " (" + cols + ") ";
  switch (spec.mode) {
    case SyncMode::kFullRefreshOverwrite:
    case SyncMode::kFullRefreshAppend:
      return insert + "SELECT " + cols + " FROM " + stage_name + ";\n";
    case SyncMode::kIncrementalAppend: {
      if (!spec.previous_cursor_literal) return insert + "SELECT " + cols + " FROM " + stage_name + ";\n";
      // The cursor comparison is inclusive: rows at the previous cursor value were read again.
      // Among the staged rows at that value that match (by key, or by every source column bronze
      // had before without one), as many as bronze holds are skipped: a row read again is not
      // appended twice, and an identical row that is new still is.
      const std::string cur = d.quote_identifier(spec.cursor_field);
      const std::string& at = *spec.previous_cursor_literal;
      std::vector<std::string> match = spec.primary_key;
      if (match.empty()) {
        for (const auto& c : spec.columns) {
          const bool added =
              std::find(spec.added_columns.begin(), spec.added_columns.end(), c) != spec.added_columns.end();
          if (c.rfind("_strata_", 0) != 0 && !added) match.push_back(c);
        }
      }
      // A NULL staged cursor is a value beyond the warehouse's range (e.g. a timestamp past
      // 294246 AD, NULL with a meta note; a NULL in the source is not read again): read again by
      // every sync, so matched like the rows at the cursor.
      auto at_boundary = [&](const std::string& prefix) {
        return "(" + prefix + cur + " = " + at + " OR " + prefix + cur + " IS NULL)";
      };
      const std::string boundary = "SELECT " + cols + " FROM " + stage_name + " WHERE " + at_boundary("");
      std::string sql;
      if (spec.primary_key.empty() && !spec.added_columns.empty()) {
        sql += "UPDATE " + bronze_name + " AS b SET ";
        for (size_t i = 0; i < spec.added_columns.size(); ++i) {
          const std::string c = d.quote_identifier(spec.added_columns[i]);
          sql += (i ? ", " : "") + c + " = s." + c;
        }
        sql += " FROM (" + boundary + ") s WHERE " + at_boundary("b.") + " AND " +
               key_match_sql(d, match, "b", "s", false) + ";\n";
      }
      return sql + insert + "SELECT " + cols + " FROM " + stage_name + " WHERE NOT " + at_boundary("") +
             "\nUNION ALL\nSELECT " + cols + " FROM (SELECT *, row_number() OVER (PARTITION BY " +
             list_columns(d, match) + ") AS _strata_n FROM (" + boundary + ") t) s\nWHERE s._strata_n > " +
             "(SELECT count(*) FROM " + bronze_name + " b WHERE " + at_boundary("b.") + " AND " +
             key_match_sql(d, match, "b", "s", false) + ");\n";
    }
    case SyncMode::kIncrementalDedup: {
      // With the source's primary key each key appears once in the stage: no ranking, and = is
      // exact for NOT NULL keys.
      const bool exact = spec.key_is_source_primary_key;
      return "DELETE FROM " + bronze_name + " AS b WHERE EXISTS (SELECT 1 FROM " + stage_name + " s WHERE " +
             key_match_sql(d, spec.primary_key, "s", "b", exact) + ");\n" + insert +
             (exact ? "SELECT " + cols + " FROM " + stage_name : latest) + ";\n";
    }
  }
  return "";
}

}  // namespace strata::ingest

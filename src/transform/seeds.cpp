// Seeds: CSV parsing, dbt's type inference, loading through the warehouse's bulk writer.
#include <cctype>

#include "common/strings.h"
#include "common/time.h"
#include "transform/runner.h"
#include "transform/runner_internal.h"

namespace strata::transform {

Result<std::vector<std::vector<std::string>>> parse_csv(std::string_view text, const std::string& file, char delimiter) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, field_started = false;
  int line = 1, quote_line = 0;
  size_t i = 0;
  if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF) i = 3;  // UTF-8 BOM
  auto end_row = [&] {
    row.push_back(std::move(field));
    field.clear();
    field_started = false;
    if (!(row.size() == 1 && row[0].empty())) rows.push_back(std::move(row));
    row.clear();
  };
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      quoted = true;
      field_started = true;
      quote_line = line;
    } else if (c == delimiter) {
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\r') {
      if (i + 1 < text.size() && text[i + 1] == '\n') continue;
      end_row();
      ++line;
    } else if (c == '\n') {
      end_row();
      ++line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (quoted)
    return Error(ErrorCode::kConfig, "unterminated quoted field", {file, quote_line, 0},
                 "close the field with a double quote; write \"\" for a quote inside it");
  if (!field.empty() || !row.empty()) end_row();
  if (rows.empty()) return Error(ErrorCode::kConfig, "the seed file is empty", {file, 1, 0}, "add a header row");
  for (size_t r = 1; r < rows.size(); ++r)
    if (rows[r].size() != rows[0].size())
      return Error(ErrorCode::kConfig,
                   "row has " + std::to_string(rows[r].size()) + " fields but the header has " +
                       std::to_string(rows[0].size()),
                   {file, static_cast<int>(r + 1), 0}, "make every row have one value per column");
  return rows;
}

namespace {

bool is_int(std::string_view s) {
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return s.size() < 19;
}

bool is_float(std::string_view s) {
  std::string t(s);
  char* end = nullptr;
  std::strtod(t.c_str(), &end);
  return end && *end == '\0' && !t.empty() && (std::isdigit(static_cast<unsigned char>(t.back())) || t.back() == '.');
}

bool is_bool(std::string_view s) {
  std::string l = to_lower(s);
  return l == "true" || l == "false";
}

bool is_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  return parse_iso8601(s).has_value();
}

bool is_timestamp(std::string_view s) {
  if (s.size() < 16 || s[4] != '-' || s[7] != '-' || (s[10] != ' ' && s[10] != 'T')) return false;
  std::string t(s);
  t[10] = 'T';
  return parse_iso8601(t).has_value();
}

}  // namespace

namespace detail {

SeedType infer_seed_column(const std::vector<std::string>& values) {
  bool any = false, ints = true, floats = true, bools = true, dates = true, stamps = true;
  for (const auto& v : values) {
    if (v.empty()) continue;
    any = true;
    ints = ints && is_int(v);
    floats = floats && is_float(v);
    bools = bools && is_bool(v);
    dates = dates && is_date(v);
    stamps = stamps && (is_timestamp(v) || is_date(v));
  }
  if (!any) return SeedType::kText;
  if (ints) return SeedType::kInteger;
  if (floats) return SeedType::kFloat;
  if (bools) return SeedType::kBoolean;
  if (dates) return SeedType::kDate;
  if (stamps) return SeedType::kTimestamp;
  return SeedType::kText;
}

}  // namespace detail

std::string infer_seed_type(const std::vector<std::string>& values) {
  return detail::adapter_sql(sql::duckdb_dialect()).seed_type(detail::infer_seed_column(values));
}

namespace detail {

// Loads a seed: CSV → a VARCHAR staging table through the bulk writer → typed table.
Result<std::string> load_seed(NodeContext& ctx) {
  const Node& n = ctx.node;
  std::string file = node_file_path(ctx.graph.project(), n);
  std::string text;
  if (!read_file(file, text)) return Error(ErrorCode::kFailed, "cannot read seed file " + file);
  std::string delim = n.config.value("delimiter", std::string(","));
  STRATA_ASSIGN(auto rows, parse_csv(text, file, delim.empty() ? ',' : delim[0]));
  // Checked before the staging table exists: a bad value leaves nothing behind.
  STRATA_ASSIGN(const TableConfig indexes, index_config(n, ctx.wh));
  const std::vector<std::string>& header = rows[0];
  const Json column_types = n.config.value("column_types", Json::object());
  bool quote_columns = n.config.value("quote_columns", Json(true)).is_boolean()
                           ? n.config.value("quote_columns", Json(true)).get<bool>()
                           : true;
  const sql::Dialect& d = ctx.wh.dialect();
  const AdapterSql& adapter = adapter_sql(d);
  auto col_name = [&](const std::string& c) { return quote_columns ? d.quote_identifier(c) : d.quote_identifier(c); };
  std::vector<std::string> types;
  for (size_t c = 0; c < header.size(); ++c) {
    if (column_types.contains(header[c]) && column_types[header[c]].is_string()) {
      types.push_back(column_types[header[c]].get<std::string>());
      continue;
    }
    std::vector<std::string> values;
    values.reserve(rows.size());
    for (size_t r = 1; r < rows.size(); ++r) values.push_back(rows[r][c]);
    types.push_back(adapter.seed_type(infer_seed_column(values)));
  }
  warehouse::Relation staging{n.database, n.schema, n.alias + "__dbt_seed_stage"};
  sql::Schema schema;
  for (const auto& h : header) schema.push_back({h, sql::LogicalType::varchar(), true});
  std::string staging_name = warehouse::qualified_name(d, staging);
  STRATA_TRY(ctx.execute("drop table if exists " + staging_name));
  STRATA_TRY(ctx.execute(warehouse::create_table_sql(d, staging, schema)));
  {
    STRATA_ASSIGN(auto writer, ctx.wh.writer(staging, schema));
    sql::ColumnBatch batch(schema);
    for (size_t r = 1; r < rows.size(); ++r) {
      for (size_t c = 0; c < header.size(); ++c) {
        if (rows[r][c].empty()) batch.column(c).append_null();
        else batch.column(c).append_bytes(rows[r][c]);
      }
      if (batch.num_rows() >= sql::kBatchRows) {
        STRATA_TRY(writer->append(batch));
        batch = sql::ColumnBatch(schema);
      }
    }
    if (batch.num_rows() > 0) STRATA_TRY(writer->append(batch));
    STRATA_TRY(writer->finish());
  }
  std::string select = "select ";
  for (size_t c = 0; c < header.size(); ++c) {
    if (c) select += ", ";
    std::string src = d.quote_identifier(header[c]);
    if (to_lower(types[c]) == "boolean") src = "lower(" + src + ")";
    select += "cast(" + src + " as " + types[c] + ") as " + col_name(header[c]);
  }
  select += " from " + staging_name;
  bool is_view = false;
  STRATA_ASSIGN(bool exists, relation_exists(ctx, is_view));
  if (exists && !is_view && !ctx.options.full_refresh) {
    // As dbt: without --full-refresh the table is kept and its rows replaced; a changed header
    // needs --full-refresh.
    STRATA_ASSIGN(auto current, ctx.wh.columns({n.database, n.schema, n.alias}));
    std::vector<std::string> have, want;
    for (const auto& c : current) have.push_back(to_lower(c.name));
    for (const auto& h : header) want.push_back(to_lower(h));
    if (have != want)
      return Error(ErrorCode::kFailed,
                   "the columns of seed " + n.name + " changed (table has " + join(have, ", ") + "; file has " +
                       join(want, ", ") + ")",
                   n.where, "run `strata seed --full-refresh` to recreate the table");
    STRATA_TRY(in_transaction(ctx, [&]() -> Status {
      STRATA_TRY(ctx.execute("delete from " + n.relation_name));
      return ctx.execute("insert into " + n.relation_name + " " + select);
    }));
  } else {
    STRATA_TRY(replace_node_relation(ctx, warehouse::RelationKind::kTable, select, indexes));
  }
  STRATA_TRY(ctx.execute("drop table if exists " + staging_name));
  ctx.rows_affected = static_cast<long long>(rows.size() - 1);
  return std::string("INSERT " + std::to_string(rows.size() - 1));
}

}  // namespace detail
}  // namespace strata::transform

#include "warehouse/postgres/postgres_warehouse.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <utility>

#include "common/strings.h"
#include "pg/copy_binary_encode.h"
#include "sql/statements.h"

namespace strata::warehouse {

namespace {

const sql::Dialect& pg_dialect() { return sql::postgres_dialect(); }

// The relation's name for to_regclass(): "schema"."name" (the current schema when empty; the
// database part is the connection's own).
std::string regclass_name(const Relation& relation) { return pg_dialect().qualify("", relation.schema, relation.name); }

// Skips whitespace and comments; returns the first keyword in lower case ("(" for a parenthesis).
std::string first_keyword(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[i]))) {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      i = sql.find('\n', i);
      if (i == std::string_view::npos) return "";
    } else if (sql.substr(i, 2) == "/*") {
      i = sql.find("*/", i + 2);
      if (i == std::string_view::npos) return "";
      i += 2;
    } else {
      break;
    }
  }
  if (i < sql.size() && sql[i] == '(') return "(";
  std::string word;
  while (i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i]))) {
    word += static_cast<char>(std::tolower(static_cast<unsigned char>(sql[i++])));
  }
  return word;
}

// A statement COPY (…) TO STDOUT can wrap, and a subquery in FROM can hold.
bool copyable(std::string_view sql) {
  const std::string word = first_keyword(sql);
  return word == "select" || word == "with" || word == "values" || word == "table" || word == "(";
}

// The statement without trailing whitespace and semicolons.
std::string_view trim_statement(std::string_view sql) {
  while (!sql.empty() && (std::isspace(static_cast<unsigned char>(sql.back())) || sql.back() == ';')) {
    sql.remove_suffix(1);
  }
  return sql;
}

// A statement's binary result rewritten as a binary COPY stream, for the decoder.
Status feed_result(const pg::PgResult& result, pg::CopyBinaryDecoder& decoder) {
  STRATA_TRY(decoder.feed(pg::CopyBinaryEncoder::header()));
  std::string tuple;
  for (int row = 0; row < result.rows(); ++row) {
    tuple.clear();
    pg::append_copy_tuple(result, row, tuple);
    STRATA_TRY(decoder.feed(tuple));
  }
  STRATA_TRY(decoder.feed(pg::CopyBinaryEncoder::trailer()));
  return decoder.finish();
}

// Writes batches into one `COPY … FROM STDIN (FORMAT binary)`.
class PostgresBulkWriter final : public BulkWriter {
 public:
  PostgresBulkWriter(pg::CopyInStream stream, pg::CopyBinaryEncoder encoder, std::string table)
      : stream_(std::move(stream)), encoder_(std::move(encoder)), table_(std::move(table)) {}

  Status append(const sql::ColumnBatch& batch) override {
    if (failed_) return Error(ErrorCode::kInternal, "append() after a failed append() on a writer into " + table_);
    buffer_.clear();
    if (!started_) buffer_ = pg::CopyBinaryEncoder::header(), started_ = true;
    Status encoded = encoder_.encode(batch, buffer_);
    if (!encoded.ok()) {
      failed_ = true;
      (void)stream_.abort(encoded.error().message());
      return Error(ErrorCode::kFailed, "writing into " + table_ + ": " + encoded.error().message());
    }
    Status written = stream_.write(buffer_);
    if (!written.ok()) failed_ = true;
    return written;
  }

  Status finish() override {
    if (failed_) return Error(ErrorCode::kInternal, "finish() after a failed append() on a writer into " + table_);
    std::string tail = started_ ? std::string() : pg::CopyBinaryEncoder::header();
    tail += pg::CopyBinaryEncoder::trailer();
    STRATA_TRY(stream_.write(tail));
    STRATA_TRY(stream_.finish());
    return ok_status();
  }

 private:
  pg::CopyInStream stream_;
  pg::CopyBinaryEncoder encoder_;
  std::string table_;
  std::string buffer_;
  bool started_ = false;
  bool failed_ = false;
};

std::string oid_list(const std::vector<uint32_t>& oids) {
  std::string out = "{";
  for (size_t i = 0; i < oids.size(); ++i) out += (i ? "," : "") + std::to_string(oids[i]);
  return out + "}";
}

}  // namespace

PostgresDatabase::PostgresDatabase(std::string conninfo, pg::ConnectOptions options)
    : conninfo_(std::move(conninfo)), options_(std::move(options)) {}

void PostgresDatabase::keep(pg::Connection conn) {
  std::lock_guard lock(mutex_);
  kept_.emplace(std::move(conn));
}

Result<std::unique_ptr<Warehouse>> PostgresDatabase::connect() {
  {
    std::lock_guard lock(mutex_);
    if (kept_ && kept_->ok()) {
      auto session = std::make_unique<PostgresWarehouse>(std::move(*kept_));
      kept_.reset();
      return std::unique_ptr<Warehouse>(std::move(session));
    }
    kept_.reset();
  }
  STRATA_ASSIGN(pg::Connection conn, pg::Connection::connect(conninfo_, options_));
  return std::unique_ptr<Warehouse>(std::make_unique<PostgresWarehouse>(std::move(conn)));
}

PostgresWarehouse::PostgresWarehouse(pg::Connection conn) : conn_(std::move(conn)), canceller_(conn_.canceller()) {}

Status PostgresWarehouse::execute(std::string_view sql) { return conn_.execute(sql); }

Status PostgresWarehouse::begin() { return conn_.execute("BEGIN"); }
Status PostgresWarehouse::commit() { return conn_.execute("COMMIT"); }
Status PostgresWarehouse::rollback() { return conn_.execute("ROLLBACK"); }

void PostgresWarehouse::interrupt() { (void)canceller_.cancel(); }

Status PostgresWarehouse::load_types(std::vector<uint32_t> oids) {
  while (true) {
    std::vector<uint32_t> missing;
    for (uint32_t oid : oids) {
      if (oid != 0 && !types_.count(oid) && std::find(missing.begin(), missing.end(), oid) == missing.end()) {
        missing.push_back(oid);
      }
    }
    if (missing.empty()) return ok_status();
    STRATA_ASSIGN(pg::PgResult rows,
                  conn_.exec_params("SELECT oid, typname, typtype, typbasetype, typtypmod, typelem, typcategory "
                                    "FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[])",
                                    {oid_list(missing)}));
    oids.clear();
    for (int r = 0; r < rows.rows(); ++r) {
      pg::PgType t;
      t.oid = static_cast<uint32_t>(std::stoul(std::string(rows.value(r, 0))));
      t.name = std::string(rows.value(r, 1));
      t.typtype = rows.value(r, 2).empty() ? 'b' : rows.value(r, 2)[0];
      t.base_type = static_cast<uint32_t>(std::stoul(std::string(rows.value(r, 3))));
      t.base_typmod = std::stoi(std::string(rows.value(r, 4)));
      t.element = static_cast<uint32_t>(std::stoul(std::string(rows.value(r, 5))));
      t.category = rows.value(r, 6).empty() ? 'U' : rows.value(r, 6)[0];
      oids.push_back(t.base_type);
      oids.push_back(t.element);
      types_[t.oid] = std::move(t);
    }
    // An oid the catalog does not know stays unknown (mapped to text), without a second lookup.
    for (uint32_t oid : missing) types_.try_emplace(oid, pg::PgType{oid, "", 'b', 0, -1, 0, 'U'});
  }
}

uint32_t PostgresWarehouse::resolve_domain(uint32_t oid) const {
  for (int guard = 0; guard < 32; ++guard) {
    auto it = types_.find(oid);
    if (it == types_.end() || it->second.typtype != 'd') return oid;
    oid = it->second.base_type;
  }
  return oid;
}

Result<PostgresWarehouse::ReadPlan> PostgresWarehouse::plan_read(std::string_view sql) {
  STRATA_ASSIGN(pg::PgResult described, conn_.describe_statement(sql));
  ReadPlan plan;
  const int n = described.columns();
  if (n == 0) return plan;
  std::vector<uint32_t> oids;
  std::string origins;  // (table, attnum) of array columns read straight from a table
  for (int i = 0; i < n; ++i) oids.push_back(described.column_type(i));
  STRATA_TRY(load_types(oids));
  for (int i = 0; i < n; ++i) {
    const auto& t = types_[resolve_domain(oids[i])];
    if (t.category == 'A' && described.column_table(i) != 0) {
      origins += (origins.empty() ? "" : ",") + std::string("(") + std::to_string(described.column_table(i)) + "," +
                 std::to_string(described.column_table_attnum(i)) + ")";
    }
  }
  // A result column's dimensions are not in its description; a table column's are in the catalog.
  std::map<std::pair<uint32_t, int>, int> dims;
  if (!origins.empty()) {
    STRATA_ASSIGN(pg::PgResult rows,
                  conn_.exec("SELECT a.attrelid, a.attnum, a.attndims FROM pg_catalog.pg_attribute a JOIN (VALUES " +
                             origins + ") AS o(rel, num) ON a.attrelid = o.rel::oid AND a.attnum = o.num"));
    for (int r = 0; r < rows.rows(); ++r) {
      dims[{static_cast<uint32_t>(std::stoul(std::string(rows.value(r, 0)))), std::stoi(std::string(rows.value(r, 1)))}] =
          std::stoi(std::string(rows.value(r, 2)));
    }
  }
  std::vector<pg::ColumnMapping> mappings;
  for (int i = 0; i < n; ++i) {
    auto it = dims.find({described.column_table(i), described.column_table_attnum(i)});
    const int ndims = it == dims.end() ? 0 : it->second;
    mappings.push_back(pg::map_column_type(types_, oids[i], described.column_type_modifier(i), ndims));
    plan.columns.push_back(
        {std::string(described.column_name(i)), mappings.back().kind, mappings.back().array_depth, mappings.back().type});
    plan.needs_text_cast = plan.needs_text_cast || mappings.back().cast_to_text;
  }
  if (!copyable(sql)) return plan;
  std::string body(trim_statement(sql));
  if (plan.needs_text_cast) {
    // Positional aliases: the result's own names may repeat or be "?column?".
    std::string select, aliases;
    for (int i = 0; i < n; ++i) {
      const std::string alias = pg_dialect().quote_identifier("c" + std::to_string(i + 1));
      select += (i ? ", " : "") + pg::copy_select_expression("q." + alias, mappings[i]);
      aliases += (i ? ", " : "") + alias;
    }
    body = "SELECT " + select + " FROM (\n" + body + "\n) AS q(" + aliases + ")";
    plan.needs_text_cast = false;
  }
  plan.copy_sql = "COPY (\n" + body + "\n) TO STDOUT (FORMAT binary)";
  return plan;
}

Status PostgresWarehouse::run_read(std::string_view text, const pg::BatchSink& sink, sql::Schema* schema) {
  // As on DuckDB, the statements before the last run first; the last one's rows are read.
  auto [before, sql] = sql::split_last_statement(text);
  if (!before.empty()) STRATA_TRY(conn_.execute(before));
  if (trim_statement(sql).empty()) return ok_status();
  STRATA_ASSIGN(ReadPlan plan, plan_read(sql));
  if (plan.columns.empty()) return conn_.execute(sql);
  if (plan.needs_text_cast) {
    return Error(ErrorCode::kFailed,
                 "the statement returns a column of a type Strata reads as text (e.g. inet or a range) and is not a "
                 "SELECT; select it cast to text");
  }
  pg::CopyDecoderOptions options;
  options.meta_column = false;
  pg::CopyBinaryDecoder decoder(std::move(plan.columns), sink, options);
  if (schema) *schema = decoder.schema();
  if (plan.copy_sql.empty()) {
    STRATA_ASSIGN(pg::PgResult result, conn_.exec_params(sql, {}, pg::Format::kBinary));
    return feed_result(result, decoder);
  }
  STRATA_ASSIGN(pg::CopyOutStream stream, conn_.copy_out(plan.copy_sql));
  while (true) {
    STRATA_ASSIGN(std::optional<std::string_view> chunk, stream.next());
    if (!chunk) break;
    STRATA_TRY(decoder.feed(*chunk));
  }
  return decoder.finish();
}

Result<QueryResult> PostgresWarehouse::query(std::string_view sql) {
  QueryResult out;
  STRATA_TRY(run_read(
      sql,
      [&](sql::ColumnBatch&& batch) -> Status {
        out.batches.push_back(std::move(batch));
        return ok_status();
      },
      &out.schema));
  return out;
}

Status PostgresWarehouse::query_stream(std::string_view sql,
                                       const std::function<Status(const sql::ColumnBatch&)>& on_batch) {
  return run_read(
      sql, [&](sql::ColumnBatch&& batch) { return on_batch(batch); }, nullptr);
}

Result<std::vector<PostgresWarehouse::TableColumn>> PostgresWarehouse::table_columns(const Relation& relation) {
  STRATA_ASSIGN(pg::PgResult rows,
                conn_.exec_params("SELECT a.attname, a.atttypid, a.atttypmod, a.attndims, a.attnotnull, "
                                  "pg_catalog.format_type(a.atttypid, a.atttypmod) FROM pg_catalog.pg_attribute a "
                                  "WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attnum > 0 AND NOT "
                                  "a.attisdropped ORDER BY a.attnum",
                                  {regclass_name(relation)}));
  std::vector<TableColumn> out;
  for (int r = 0; r < rows.rows(); ++r) {
    TableColumn c;
    c.name = std::string(rows.value(r, 0));
    c.type_oid = static_cast<uint32_t>(std::stoul(std::string(rows.value(r, 1))));
    c.typmod = std::stoi(std::string(rows.value(r, 2)));
    c.ndims = std::stoi(std::string(rows.value(r, 3)));
    c.not_null = rows.value(r, 4) == "t";
    c.native_type = std::string(rows.value(r, 5));
    out.push_back(std::move(c));
  }
  std::vector<uint32_t> oids;
  for (const auto& c : out) oids.push_back(c.type_oid);
  STRATA_TRY(load_types(oids));
  return out;
}

Result<std::vector<ColumnInfo>> PostgresWarehouse::columns(const Relation& relation) {
  STRATA_ASSIGN(std::vector<TableColumn> cols, table_columns(relation));
  std::vector<ColumnInfo> out;
  for (const auto& c : cols) {
    out.push_back({c.name, pg::map_column_type(types_, c.type_oid, c.typmod, c.ndims).type, c.native_type, !c.not_null});
  }
  return out;
}

Result<std::vector<RelationInfo>> PostgresWarehouse::relations(std::string_view schema) {
  const std::string schema_expr = schema.empty() ? "current_schema()" : "$1";
  std::vector<std::optional<std::string>> params;
  if (!schema.empty()) params.emplace_back(std::string(schema));
  STRATA_ASSIGN(pg::PgResult rows,
                conn_.exec_params("SELECT n.nspname, c.relname, c.relkind FROM pg_catalog.pg_class c JOIN "
                                  "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = " +
                                      schema_expr + " AND c.relkind IN ('r', 'p', 'f', 'v', 'm') ORDER BY c.relname",
                                  params));
  std::vector<RelationInfo> out;
  for (int r = 0; r < rows.rows(); ++r) {
    RelationInfo info;
    info.relation = {conn_.database(), std::string(rows.value(r, 0)), std::string(rows.value(r, 1))};
    const char kind = rows.value(r, 2).empty() ? 'r' : rows.value(r, 2)[0];
    info.kind = kind == 'v' || kind == 'm' ? RelationKind::kView : RelationKind::kTable;
    out.push_back(std::move(info));
  }
  return out;
}

Result<bool> PostgresWarehouse::table_exists(const Relation& relation) {
  STRATA_ASSIGN(pg::PgResult rows, conn_.exec_params("SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid = "
                                                     "pg_catalog.to_regclass($1) AND c.relkind IN ('r', 'p', 'f')",
                                                     {regclass_name(relation)}));
  return rows.rows() > 0;
}

Result<std::string> PostgresWarehouse::try_lock(std::string_view name) {
  // The advisory key is a 64-bit hash of the name; pg_locks shows it as classid (high half) and
  // objid (low half).
  const std::string key(name);
  STRATA_ASSIGN(pg::PgResult taken, conn_.exec_params("SELECT pg_catalog.pg_try_advisory_lock("
                                                      "pg_catalog.hashtextextended($1, 0))",
                                                      {key}));
  if (std::string_view(taken.value(0, 0)) == "t") return std::string();
  STRATA_ASSIGN(pg::PgResult holder,
                conn_.exec_params("SELECT a.pid, a.application_name, a.client_addr, a.backend_start FROM "
                                  "pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid WHERE "
                                  "l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND ((l.classid::int8 << "
                                  "32) | l.objid::int8) = pg_catalog.hashtextextended($1, 0)",
                                  {key}));
  if (holder.rows() == 0) return std::string("another session (it may just have ended)");
  std::string who = "PostgreSQL backend " + std::string(holder.value(0, 0));
  if (!std::string_view(holder.value(0, 1)).empty()) who += " of '" + std::string(holder.value(0, 1)) + "'";
  if (!holder.is_null(0, 2)) who += " from " + std::string(holder.value(0, 2));
  return who + ", connected since " + std::string(holder.value(0, 3));
}

Result<std::unique_ptr<BulkWriter>> PostgresWarehouse::writer(const Relation& relation, const sql::Schema& schema) {
  const std::string table = regclass_name(relation);
  STRATA_ASSIGN(std::vector<TableColumn> cols, table_columns(relation));
  if (cols.empty()) {
    return Error(ErrorCode::kNotFound, "table " + table + " does not exist", SourceLocation{},
                 "create it before writing into it");
  }
  // By name when every name is the table's, else by position.
  std::vector<const TableColumn*> targets;
  for (const auto& column : schema) {
    auto it = std::find_if(cols.begin(), cols.end(), [&](const TableColumn& c) { return c.name == column.name; });
    if (it == cols.end()) break;
    targets.push_back(&*it);
  }
  if (targets.size() != schema.size()) {
    if (schema.size() != cols.size()) {
      return Error(ErrorCode::kFailed, "writing " + std::to_string(schema.size()) + " columns into " + table +
                                           ", which has " + std::to_string(cols.size()) +
                                           " and not every name matches one of them");
    }
    targets.clear();
    for (const auto& c : cols) targets.push_back(&c);
  }
  std::vector<pg::CopyInColumn> encoded;
  std::string names;
  for (size_t i = 0; i < schema.size(); ++i) {
    const TableColumn& target = *targets[i];
    // An enum's binary form is its label, as text's.
    auto wire = [&](uint32_t oid) {
      oid = resolve_domain(oid);
      auto it = types_.find(oid);
      return it != types_.end() && it->second.typtype == 'e' ? pg::oid::kText : oid;
    };
    const uint32_t oid = wire(target.type_oid);
    auto it = types_.find(oid);
    const uint32_t element = it != types_.end() && it->second.category == 'A' ? wire(it->second.element) : 0;
    if (!pg::can_encode(schema[i].type, oid, element)) {
      return Error(ErrorCode::kFailed, "column " + target.name + " of " + table + " is " + target.native_type +
                                           "; a " + schema[i].type.to_string() + " cannot be written into it");
    }
    encoded.push_back({target.name, schema[i].type, oid, element});
    names += (i ? ", " : "") + pg_dialect().quote_identifier(target.name);
  }
  STRATA_ASSIGN(pg::CopyInStream stream, conn_.copy_in("COPY " + table + " (" + names + ") FROM STDIN (FORMAT binary)"));
  return std::unique_ptr<BulkWriter>(
      std::make_unique<PostgresBulkWriter>(std::move(stream), pg::CopyBinaryEncoder(std::move(encoded)), table));
}

Result<std::unique_ptr<Database>> open_postgres(const std::string& conninfo, SecretMasker* masker) {
  pg::ConnectOptions options;
  options.masker = masker;
  auto db = std::make_unique<PostgresDatabase>(conninfo, options);
  // Connecting once now reports an unreachable server or a refused login at open, as a DuckDB
  // file that cannot be opened is; the first session then reuses that connection.
  STRATA_ASSIGN(pg::Connection first, pg::Connection::connect(conninfo, options));
  db->keep(std::move(first));
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace strata::warehouse

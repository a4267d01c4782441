#include "ingest/discover.h"

#include <map>

namespace strata::ingest {
namespace {

long long to_ll(std::string_view s) { return s.empty() ? 0 : std::stoll(std::string(s)); }

// The WHERE clause selecting the streams' relations (alias c for pg_class, n for pg_namespace).
std::string relation_filter(const std::vector<std::string>& schemas) {
  std::string where =
      "c.relkind IN ('r','v','m','p','f') AND NOT c.relispartition"
      " AND n.nspname NOT IN ('pg_catalog','information_schema')"
      " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";
  if (!schemas.empty()) {
    where += " AND n.nspname IN (";
    for (size_t i = 0; i < schemas.size(); ++i) {
      if (i) where += ",";
      where += pg::Connection::quote_literal(schemas[i]);
    }
    where += ")";
  }
  return where;
}

TableKind kind_of(char relkind) {
  switch (relkind) {
    case 'v': return TableKind::kView;
    case 'm': return TableKind::kMaterializedView;
    case 'p': return TableKind::kPartitioned;
    case 'f': return TableKind::kForeign;
    default: return TableKind::kTable;
  }
}

constexpr const char* kTypesSql =
    "SELECT oid, typname, typtype, typbasetype, typtypmod, typelem, typcategory"
    " FROM pg_catalog.pg_type WHERE typtype <> 'c' OR typelem <> 0";

pg::PgTypeMap load_types(const pg::PgResult& r) {
  pg::PgTypeMap types;
  for (int i = 0; i < r.rows(); ++i) {
    pg::PgType t;
    t.oid = static_cast<uint32_t>(to_ll(r.value(i, 0)));
    t.name = std::string(r.value(i, 1));
    t.typtype = r.value(i, 2).empty() ? 'b' : r.value(i, 2)[0];
    t.base_type = static_cast<uint32_t>(to_ll(r.value(i, 3)));
    t.base_typmod = static_cast<int32_t>(to_ll(r.value(i, 4)));
    t.element = static_cast<uint32_t>(to_ll(r.value(i, 5)));
    t.category = r.value(i, 6).empty() ? 'U' : r.value(i, 6)[0];
    types[t.oid] = std::move(t);
  }
  return types;
}

// money's DECIMAL(19,2) (or a list of it) with `scale` fraction digits instead.
sql::LogicalType with_money_scale(const sql::LogicalType& type, uint8_t scale) {
  if (type.id() == sql::TypeId::kList) return sql::LogicalType::list(with_money_scale(type.child(), scale));
  return sql::LogicalType::decimal(19, scale);
}

}  // namespace

pg::ConnectOptions source_connect_options(SecretMasker* masker, const std::string& application_name) {
  pg::ConnectOptions options;
  options.masker = masker;
  options.application_name = application_name;
  // A SQL_ASCII server checks text it converts to UTF8 and fails the whole statement at the
  // first bad byte; read unconverted instead, and the decoder checks each value (see
  // Catalog::unchecked_text).
  // Timeouts set for the role or database are meant for interactive sessions: they would cancel a
  // long COPY or end a parallel read's idle coordinator. Off from the first statement on (the
  // startup packet), and again in the session's SQL for servers that refuse startup settings.
  options.startup_settings = {{"statement_timeout", "0"}, {"idle_in_transaction_session_timeout", "0"}};
  options.session_sql =
      "SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0; "
      "SELECT set_config('client_encoding', CASE current_setting('server_encoding') WHEN 'SQL_ASCII' THEN "
      "'SQL_ASCII' ELSE 'UTF8' END, false); SET DateStyle = ISO; SET IntervalStyle = postgres; "
      "SET TimeZone = 'UTC'; SET extra_float_digits = 3; SET bytea_output = hex";
  return options;
}

Result<Catalog> discover_catalog(pg::Connection& conn, const std::vector<std::string>& schemas) {
  const std::string filter = relation_filter(schemas);
  // Every catalog query at once, in one round trip (they do not depend on each other): the types,
  // the relations with size estimates (a partitioned table sums its leaf partitions), their
  // columns, primary keys, the partitions' roots, the schemas, and settings.
  std::vector<std::string> queries{kTypesSql};
  queries.push_back(
      "SELECT c.oid, n.nspname, c.relname, c.relkind,"
      // A partition never analyzed (reltuples -1) makes the sum unknown.
      " CASE WHEN c.relkind = 'p' THEN (SELECT CASE WHEN bool_or(p.reltuples < 0) THEN -1 ELSE sum(p.reltuples) END"
      "   FROM pg_partition_tree(c.oid) t JOIN pg_class p ON p.oid = t.relid WHERE t.isleaf) ELSE c.reltuples END,"
      " CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(pg_relation_size(t.relid)), 0)"
      "   FROM pg_partition_tree(c.oid) t WHERE t.isleaf)"
      "   WHEN c.relkind IN ('r','m') THEN pg_relation_size(c.oid) ELSE 0 END,"
      " CASE WHEN c.relkind = 'p' THEN (SELECT coalesce(max(pg_relation_size(t.relid)), 0)"
      "   FROM pg_partition_tree(c.oid) t WHERE t.isleaf)"
      "   WHEN c.relkind IN ('r','m') THEN pg_relation_size(c.oid) ELSE 0 END"
      "   / current_setting('block_size')::int,"
      " c.relkind = 'r' AND c.relhassubclass,"
      " has_any_column_privilege(c.oid, 'SELECT'),"
      // A standby has no rows of an unlogged table: reading one fails ("could not open file").
      " c.relpersistence = 'u' AND pg_is_in_recovery()"
      " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
      " WHERE " + filter + " ORDER BY n.nspname, c.relname");
  queries.push_back(
      "SELECT a.attrelid, a.attname, a.attnum, format_type(a.atttypid, a.atttypmod), a.atttypid, a.atttypmod,"
      " a.attndims, a.attnotnull, a.attgenerated <> ''"
      " FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
      " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
      " WHERE a.attnum > 0 AND NOT a.attisdropped AND " + filter + " ORDER BY a.attrelid, a.attnum");
  queries.push_back(
      "SELECT i.indrelid, a.attname FROM pg_catalog.pg_index i"
      " JOIN pg_catalog.pg_class c ON c.oid = i.indrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
      " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY k(attnum, ord)"
      " JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
      " WHERE i.indisprimary AND " + filter + " ORDER BY i.indrelid, k.ord");
  queries.push_back(
      "SELECT pn.nspname || '.' || p.relname, rn.nspname || '.' || r.relname"
      " FROM pg_catalog.pg_class p JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace"
      " JOIN pg_catalog.pg_class r ON r.oid = pg_partition_root(p.oid)"
      " JOIN pg_catalog.pg_namespace rn ON rn.oid = r.relnamespace WHERE p.relispartition");
  // money's scale: its values count the minor unit of lc_monetary's currency (2 digits for most,
  // 0 for yen, 3 for dinar), which money's cast to numeric divides by.
  queries.push_back(
      "SELECT pg_size_bytes(current_setting('shared_buffers')), scale(0::money::numeric),"
      " current_setting('server_encoding') = 'SQL_ASCII'");
  if (!schemas.empty()) {
    queries.push_back("SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname NOT LIKE "
                      "'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1");
  }
  std::string batch;
  for (const std::string& q : queries) batch += q + ";\n";
  STRATA_ASSIGN(std::vector<pg::PgResult> results, conn.exec_all(batch));
  if (results.size() != queries.size()) {
    return Error(ErrorCode::kInternal, "the catalog queries returned " + std::to_string(results.size()) +
                                           " results for " + std::to_string(queries.size()));
  }
  const pg::PgTypeMap types = load_types(results[0]);
  const pg::PgResult &rels = results[1], &cols = results[2], &keys = results[3], &parts = results[4];
  const pg::PgResult& settings = results[5];
  Catalog catalog;
  std::map<std::string, size_t> by_oid;
  for (int i = 0; i < rels.rows(); ++i) {
    CatalogTable t;
    t.schema = std::string(rels.value(i, 1));
    t.name = std::string(rels.value(i, 2));
    t.kind = kind_of(rels.value(i, 3).empty() ? 'r' : rels.value(i, 3)[0]);
    t.estimated_rows = rels.is_null(i, 4) ? -1 : std::stod(std::string(rels.value(i, 4)));
    t.size_bytes = to_ll(rels.value(i, 5));
    t.pages = to_ll(rels.value(i, 6));
    t.has_children = rels.value(i, 7) == "t";
    t.unlogged_on_standby = rels.value(i, 9) == "t";
    t.readable = rels.value(i, 8) == "t" && !t.unlogged_on_standby;
    by_oid[std::string(rels.value(i, 0))] = catalog.tables.size();
    catalog.tables.push_back(std::move(t));
  }
  for (int i = 0; i < cols.rows(); ++i) {
    auto it = by_oid.find(std::string(cols.value(i, 0)));
    if (it == by_oid.end()) continue;
    CatalogColumn c;
    c.name = std::string(cols.value(i, 1));
    c.attnum = static_cast<int>(to_ll(cols.value(i, 2)));
    c.pg_type = std::string(cols.value(i, 3));
    c.type_oid = static_cast<uint32_t>(to_ll(cols.value(i, 4)));
    c.typmod = static_cast<int32_t>(to_ll(cols.value(i, 5)));
    c.ndims = static_cast<int>(to_ll(cols.value(i, 6)));
    c.not_null = cols.value(i, 7) == "t";
    c.generated = cols.value(i, 8) == "t";
    c.mapping = pg::map_column_type(types, c.type_oid, c.typmod, c.ndims);
    catalog.tables[it->second].columns.push_back(std::move(c));
  }
  for (int i = 0; i < keys.rows(); ++i) {
    auto it = by_oid.find(std::string(keys.value(i, 0)));
    if (it != by_oid.end()) catalog.tables[it->second].primary_key.emplace_back(keys.value(i, 1));
  }
  for (CatalogTable& t : catalog.tables) t.suggested_cursors = suggest_cursors(t.columns);
  for (int i = 0; i < parts.rows(); ++i) {
    catalog.partition_parents[std::string(parts.value(i, 0))] = std::string(parts.value(i, 1));
  }
  if (!schemas.empty()) {
    const pg::PgResult& names = results[6];
    for (int i = 0; i < names.rows(); ++i) catalog.schemas.emplace_back(names.value(i, 0));
  }
  catalog.shared_buffers_bytes = to_ll(settings.value(0, 0));
  catalog.unchecked_text = settings.value(0, 2) == "t";
  const auto money_scale = static_cast<uint8_t>(to_ll(settings.value(0, 1)));
  for (CatalogTable& t : catalog.tables) {
    for (CatalogColumn& c : t.columns) {
      if (c.mapping.kind == pg::WireKind::kMoney) c.mapping.type = with_money_scale(c.mapping.type, money_scale);
    }
  }
  return catalog;
}

}  // namespace strata::ingest

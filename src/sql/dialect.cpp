#include "sql/dialect.h"

namespace strata::sql {

std::string Dialect::quote_identifier(std::string_view name) const {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string Dialect::quote_string(std::string_view value) const {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::string Dialect::qualify(std::string_view database, std::string_view schema, std::string_view table) const {
  std::string out;
  if (!database.empty()) out += quote_identifier(database) + ".";
  if (!schema.empty()) out += quote_identifier(schema) + ".";
  out += quote_identifier(table);
  return out;
}

namespace {

std::string common_type_name(const LogicalType& t, const Dialect& d) {
  switch (t.id()) {
    case TypeId::kBoolean: return "BOOLEAN";
    case TypeId::kInt16: return "SMALLINT";
    case TypeId::kInt32: return "INTEGER";
    case TypeId::kInt64: return "BIGINT";
    case TypeId::kFloat: return "REAL";
    case TypeId::kDouble: return "DOUBLE PRECISION";
    case TypeId::kDecimal:
      return "NUMERIC(" + std::to_string(t.precision()) + "," + std::to_string(t.scale()) + ")";
    case TypeId::kVarchar: return "TEXT";
    case TypeId::kBlob: return "BYTEA";
    case TypeId::kDate: return "DATE";
    case TypeId::kTime: return "TIME";
    case TypeId::kTimeTz: return "TIMETZ";
    case TypeId::kTimestamp: return "TIMESTAMP";
    case TypeId::kTimestampTz: return "TIMESTAMPTZ";
    case TypeId::kInterval: return "INTERVAL";
    case TypeId::kUuid: return "UUID";
    case TypeId::kJson: return "JSON";
    case TypeId::kList: return d.type_name(t.child()) + "[]";
  }
  return "TEXT";
}

class DuckDbDialect final : public Dialect {
 public:
  DialectId id() const override { return DialectId::kDuckDb; }
  std::string_view name() const override { return "duckdb"; }
  std::string type_name(const LogicalType& t) const override {
    switch (t.id()) {
      case TypeId::kFloat: return "FLOAT";
      case TypeId::kDouble: return "DOUBLE";
      case TypeId::kDecimal:
        return "DECIMAL(" + std::to_string(t.precision()) + "," + std::to_string(t.scale()) + ")";
      case TypeId::kVarchar: return "VARCHAR";
      case TypeId::kBlob: return "BLOB";
      case TypeId::kTimestampTz: return "TIMESTAMPTZ";
      default: return common_type_name(t, *this);
    }
  }
};

class PostgresDialect final : public Dialect {
 public:
  DialectId id() const override { return DialectId::kPostgres; }
  std::string_view name() const override { return "postgres"; }
  std::string type_name(const LogicalType& t) const override {
    if (t.id() == TypeId::kJson) return "JSONB";
    return common_type_name(t, *this);
  }
};

class BigQueryDialect final : public Dialect {
 public:
  DialectId id() const override { return DialectId::kBigQuery; }
  std::string_view name() const override { return "bigquery"; }
  std::string quote_identifier(std::string_view name) const override {
    std::string out = "`";
    for (char c : name) {
      if (c == '`' || c == '\\') out += '\\';
      out += c;
    }
    out += '`';
    return out;
  }
  std::string quote_string(std::string_view value) const override {
    std::string out = "'";
    for (char c : value) {
      if (c == '\'' || c == '\\') out += '\\';
      if (c == '\n') { out += "\\n"; continue; }
      out += c;
    }
    out += '\'';
    return out;
  }
  std::string type_name(const LogicalType& t) const override {
    switch (t.id()) {
      case TypeId::kBoolean: return "BOOL";
      case TypeId::kInt16:
      case TypeId::kInt32:
      case TypeId::kInt64: return "INT64";
      case TypeId::kFloat:
      case TypeId::kDouble: return "FLOAT64";
      // NUMERIC holds 29 integer and 9 fractional digits; BIGNUMERIC 38 and 38.
      case TypeId::kDecimal: return t.scale() <= 9 && t.precision() - t.scale() <= 29 ? "NUMERIC" : "BIGNUMERIC";
      case TypeId::kVarchar:
      case TypeId::kTimeTz:  // BigQuery's TIME has no offset: the text form keeps it
      case TypeId::kUuid: return "STRING";
      case TypeId::kBlob: return "BYTES";
      case TypeId::kDate: return "DATE";
      case TypeId::kTime: return "TIME";
      case TypeId::kTimestamp: return "DATETIME";
      case TypeId::kTimestampTz: return "TIMESTAMP";
      case TypeId::kInterval: return "INTERVAL";
      case TypeId::kJson: return "JSON";
      case TypeId::kList: return "ARRAY<" + type_name(t.child()) + ">";
    }
    return "STRING";
  }
};

}  // namespace

const Dialect& duckdb_dialect() {
  static const DuckDbDialect kDialect;
  return kDialect;
}
const Dialect& postgres_dialect() {
  static const PostgresDialect kDialect;
  return kDialect;
}
const Dialect& bigquery_dialect() {
  static const BigQueryDialect kDialect;
  return kDialect;
}

}  // namespace strata::sql

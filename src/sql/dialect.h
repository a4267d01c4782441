#pragma once
// SQL dialects: identifier and literal quoting, and the type names each warehouse uses. Everything
// that generates SQL goes through a Dialect so it is written once for every warehouse.
// Dialect objects are stateless and thread-safe.

#include <string>
#include <string_view>

#include "sql/logical_type.h"

namespace strata::sql {

enum class DialectId { kDuckDb, kPostgres, kBigQuery };

class Dialect {
 public:
  virtual ~Dialect() = default;
  virtual DialectId id() const = 0;
  virtual std::string_view name() const = 0;
  // Quotes any identifier safely: quotes, spaces, unicode, semicolons.
  virtual std::string quote_identifier(std::string_view name) const;
  // A string literal with every character escaped as the dialect needs.
  virtual std::string quote_string(std::string_view value) const;
  // "schema"."table" (or "db"."schema"."table" when database is non-empty).
  std::string qualify(std::string_view database, std::string_view schema, std::string_view table) const;
  // The warehouse's column type for a logical type.
  virtual std::string type_name(const LogicalType& type) const = 0;
};

const Dialect& duckdb_dialect();
const Dialect& postgres_dialect();
const Dialect& bigquery_dialect();

}  // namespace strata::sql

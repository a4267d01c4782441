#pragma once
// PostgreSQL type → sql::LogicalType mapping, and how each column is read by a binary COPY: the
// wire kind the decoder expects, and whether the SELECT list casts the column to text (types with
// no native logical type: inet, cidr, macaddr, tsvector, geometric, ranges, citext, bit, xml …).
// Pure functions over catalog facts; thread-safe.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "pg/copy_binary.h"
#include "sql/logical_type.h"

namespace strata::pg {

// One row of pg_type, the facts the mapping needs.
struct PgType {
  uint32_t oid = 0;
  std::string name;        // typname
  char typtype = 'b';      // b base, c composite, d domain, e enum, p pseudo, r range, m multirange
  uint32_t base_type = 0;  // typbasetype (domains)
  int32_t base_typmod = -1;  // typtypmod (domains)
  uint32_t element = 0;    // typelem
  char category = 'U';     // typcategory ('A' = array)
};

// Types by oid (a database's pg_type, or just the types a table uses).
using PgTypeMap = std::map<uint32_t, PgType>;

// How one column is read and what it becomes.
struct ColumnMapping {
  sql::LogicalType type;
  WireKind kind = WireKind::kText;
  int array_depth = 0;
  // Select the column as `col::text` (or `col::text[]` for arrays) so the wire carries text.
  bool cast_to_text = false;
  // With cast_to_text: a function giving the type's output form where the cast to text differs
  // (inet: abbrev, as inet's output leaves out a host's /32 or /128, which ::text keeps).
  std::string text_function;
};

// Maps a column of type `type_oid` with modifier `typmod` and declared array dimensions `ndims`
// (pg_attribute.attndims; 0 is taken as 1 for arrays). Domains resolve to their base type; an
// unknown oid maps to text (cast). Never fails.
ColumnMapping map_column_type(const PgTypeMap& types, uint32_t type_oid, int32_t typmod, int ndims);

// The expression that selects column `quoted_name` for a COPY, e.g. "\"a b\"" or "\"ip\"::text".
std::string copy_select_expression(const std::string& quoted_name, const ColumnMapping& mapping);

// numeric typmod → (precision, scale); nullopt for an unconstrained numeric (typmod -1).
std::optional<std::pair<int, int>> numeric_precision_scale(int32_t typmod);

// Well-known oids (stable across PostgreSQL versions).
namespace oid {
inline constexpr uint32_t kBool = 16, kBytea = 17, kChar = 18, kName = 19, kInt8 = 20, kInt2 = 21, kInt4 = 23,
                          kText = 25, kJson = 114, kFloat4 = 700, kFloat8 = 701, kMoney = 790, kBpchar = 1042,
                          kVarchar = 1043, kDate = 1082, kTime = 1083, kTimestamp = 1114, kTimestampTz = 1184,
                          kInterval = 1186, kTimeTz = 1266, kInet = 869, kNumeric = 1700, kUuid = 2950, kJsonb = 3802;
}  // namespace oid

}  // namespace strata::pg

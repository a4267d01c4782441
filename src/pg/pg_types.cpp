#include "pg/pg_types.h"

namespace strata::pg {
namespace {

using sql::LogicalType;

struct Scalar {
  WireKind kind;
  LogicalType type;
  bool cast_to_text;
  std::string text_function = {};
};

Scalar text_cast() { return {WireKind::kText, LogicalType::varchar(), true}; }

// A non-array, non-domain type.
Scalar map_scalar(const PgType* type, uint32_t type_oid, int32_t typmod) {
  switch (type_oid) {
    case oid::kBool: return {WireKind::kBool, LogicalType::boolean(), false};
    case oid::kInt2: return {WireKind::kInt2, LogicalType::int16(), false};
    case oid::kInt4: return {WireKind::kInt4, LogicalType::int32(), false};
    case oid::kInt8: return {WireKind::kInt8, LogicalType::int64(), false};
    case oid::kFloat4: return {WireKind::kFloat4, LogicalType::float32(), false};
    case oid::kFloat8: return {WireKind::kFloat8, LogicalType::float64(), false};
    case oid::kNumeric: {
      auto ps = numeric_precision_scale(typmod);
      if (ps && ps->first <= 38 && ps->second >= 0 && ps->second <= ps->first) {
        return {WireKind::kNumeric,
                LogicalType::decimal(static_cast<uint8_t>(ps->first), static_cast<uint8_t>(ps->second)), false};
      }
      // Unconstrained or wider than DECIMAL(38): the exact text form.
      return {WireKind::kNumeric, LogicalType::varchar(), false};
    }
    // money is an int64 count of the currency's minor unit; lc_monetary with 2 fraction digits.
    case oid::kMoney: return {WireKind::kMoney, LogicalType::decimal(19, 2), false};
    case oid::kText:
    case oid::kVarchar:
    case oid::kBpchar:
    case oid::kName: return {WireKind::kText, LogicalType::varchar(), false};
    case oid::kBytea: return {WireKind::kBytea, LogicalType::blob(), false};
    case oid::kDate: return {WireKind::kDate, LogicalType::date(), false};
    case oid::kTime: return {WireKind::kTime, LogicalType::time(), false};
    case oid::kTimeTz: return {WireKind::kTimeTz, LogicalType::timetz(), false};
    case oid::kTimestamp: return {WireKind::kTimestamp, LogicalType::timestamp(), false};
    case oid::kTimestampTz: return {WireKind::kTimestampTz, LogicalType::timestamptz(), false};
    case oid::kInterval: return {WireKind::kInterval, LogicalType::interval(), false};
    case oid::kUuid: return {WireKind::kUuid, LogicalType::uuid(), false};
    case oid::kJson: return {WireKind::kJson, LogicalType::json(), false};
    case oid::kJsonb: return {WireKind::kJsonb, LogicalType::json(), false};
    case oid::kInet: return {WireKind::kText, LogicalType::varchar(), true, "abbrev"};
    default: break;
  }
  // An enum's binary form is its label; everything else travels as text.
  if (type && type->typtype == 'e') return {WireKind::kText, LogicalType::varchar(), false};
  return text_cast();
}

const PgType* find(const PgTypeMap& types, uint32_t type_oid) {
  auto it = types.find(type_oid);
  return it == types.end() ? nullptr : &it->second;
}

// Follows domains down to their base type; a domain's typmod replaces an unset one.
const PgType* resolve_domain(const PgTypeMap& types, uint32_t& type_oid, int32_t& typmod) {
  const PgType* type = find(types, type_oid);
  for (int guard = 0; type && type->typtype == 'd' && guard < 32; ++guard) {
    if (typmod < 0) typmod = type->base_typmod;
    type_oid = type->base_type;
    type = find(types, type_oid);
  }
  return type;
}

}  // namespace

std::optional<std::pair<int, int>> numeric_precision_scale(int32_t typmod) {
  if (typmod < 4) return std::nullopt;
  int32_t t = typmod - 4;
  int precision = (t >> 16) & 0xFFFF;
  int scale = t & 0x7FF;
  if (scale & 0x400) scale -= 0x800;  // PostgreSQL 15 allows negative scales (11-bit signed)
  return std::make_pair(precision, scale);
}

ColumnMapping map_column_type(const PgTypeMap& types, uint32_t type_oid, int32_t typmod, int ndims) {
  const PgType* type = resolve_domain(types, type_oid, typmod);
  ColumnMapping out;
  bool is_array = type && type->category == 'A' && type->element != 0 && type->typtype == 'b';
  if (!is_array) {
    Scalar s = map_scalar(type, type_oid, typmod);
    out.type = s.type;
    out.kind = s.kind;
    out.cast_to_text = s.cast_to_text;
    out.text_function = s.text_function;
    return out;
  }
  uint32_t element_oid = type->element;
  int32_t element_typmod = typmod;  // an array column's typmod applies to its elements
  const PgType* element = resolve_domain(types, element_oid, element_typmod);
  Scalar s = map_scalar(element, element_oid, element_typmod);
  out.kind = s.kind;
  out.cast_to_text = s.cast_to_text;
  out.text_function = s.text_function;
  out.array_depth = ndims > 0 ? ndims : 1;
  out.type = s.type;
  for (int d = 0; d < out.array_depth; ++d) out.type = LogicalType::list(out.type);
  return out;
}

std::string copy_select_expression(const std::string& quoted_name, const ColumnMapping& mapping) {
  if (!mapping.cast_to_text) return quoted_name;
  const std::string& f = mapping.text_function;
  if (!f.empty() && mapping.array_depth == 0) return f + "(" + quoted_name + ")";
  if (!f.empty() && mapping.array_depth == 1) {
    // Element by element, in order; NULL and empty arrays stay as they are.
    return "CASE WHEN " + quoted_name + " IS NULL THEN NULL ELSE ARRAY(SELECT " + f + "(e) FROM unnest(" +
           quoted_name + ") WITH ORDINALITY AS u(e, o) ORDER BY o) END";
  }
  return quoted_name + (mapping.array_depth > 0 ? "::text[]" : "::text");
}

}  // namespace strata::pg

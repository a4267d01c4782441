#include "warehouse/duckdb/duckdb_types.h"

#include <string>

namespace strata::warehouse::duckdb_detail {
namespace {

using sql::LogicalType;
using sql::TypeId;

std::string take_string(char* text) {
  std::string out = text ? text : "";
  if (text) duckdb_free(text);
  return out;
}

struct SimpleType {
  duckdb_type id;
  const char* native;
  TypeId logical;
};

// DuckDB types read straight into a Strata type (some widened: TINYINT -> INT16, ...).
constexpr SimpleType kSimpleTypes[] = {
    {DUCKDB_TYPE_BOOLEAN, "BOOLEAN", TypeId::kBoolean},
    {DUCKDB_TYPE_TINYINT, "TINYINT", TypeId::kInt16},
    {DUCKDB_TYPE_SMALLINT, "SMALLINT", TypeId::kInt16},
    {DUCKDB_TYPE_INTEGER, "INTEGER", TypeId::kInt32},
    {DUCKDB_TYPE_BIGINT, "BIGINT", TypeId::kInt64},
    {DUCKDB_TYPE_UTINYINT, "UTINYINT", TypeId::kInt16},
    {DUCKDB_TYPE_USMALLINT, "USMALLINT", TypeId::kInt32},
    {DUCKDB_TYPE_UINTEGER, "UINTEGER", TypeId::kInt64},
    {DUCKDB_TYPE_FLOAT, "FLOAT", TypeId::kFloat},
    {DUCKDB_TYPE_DOUBLE, "DOUBLE", TypeId::kDouble},
    {DUCKDB_TYPE_VARCHAR, "VARCHAR", TypeId::kVarchar},
    {DUCKDB_TYPE_BLOB, "BLOB", TypeId::kBlob},
    {DUCKDB_TYPE_DATE, "DATE", TypeId::kDate},
    {DUCKDB_TYPE_TIME, "TIME", TypeId::kTime},
    {DUCKDB_TYPE_TIME_NS, "TIME_NS", TypeId::kTime},
    {DUCKDB_TYPE_TIME_TZ, "TIME WITH TIME ZONE", TypeId::kTimeTz},
    {DUCKDB_TYPE_TIMESTAMP, "TIMESTAMP", TypeId::kTimestamp},
    {DUCKDB_TYPE_TIMESTAMP_S, "TIMESTAMP_S", TypeId::kTimestamp},
    {DUCKDB_TYPE_TIMESTAMP_MS, "TIMESTAMP_MS", TypeId::kTimestamp},
    {DUCKDB_TYPE_TIMESTAMP_NS, "TIMESTAMP_NS", TypeId::kTimestamp},
    {DUCKDB_TYPE_TIMESTAMP_TZ, "TIMESTAMP WITH TIME ZONE", TypeId::kTimestampTz},
    {DUCKDB_TYPE_INTERVAL, "INTERVAL", TypeId::kInterval},
    {DUCKDB_TYPE_UUID, "UUID", TypeId::kUuid},
};

const char* unsupported_name(duckdb_type id) {
  switch (id) {
    case DUCKDB_TYPE_STRUCT: return "STRUCT";
    case DUCKDB_TYPE_MAP: return "MAP";
    case DUCKDB_TYPE_UNION: return "UNION";
    case DUCKDB_TYPE_BIT: return "BIT";
    case DUCKDB_TYPE_BIGNUM: return "BIGNUM";
    case DUCKDB_TYPE_UHUGEINT: return "UHUGEINT";
    case DUCKDB_TYPE_SQLNULL: return "NULL";
    default: return "UNKNOWN";
  }
}

void describe_decimal(duckdb_logical_type type, DuckColumnType& out) {
  uint8_t width = duckdb_decimal_width(type);
  uint8_t scale = duckdb_decimal_scale(type);
  out.storage = duckdb_decimal_internal_type(type);
  out.logical = LogicalType::decimal(width, scale);
  out.native = "DECIMAL(" + std::to_string(width) + "," + std::to_string(scale) + ")";
}

void describe_enum(duckdb_logical_type type, DuckColumnType& out) {
  out.storage = duckdb_enum_internal_type(type);
  uint32_t n = duckdb_enum_dictionary_size(type);
  out.enum_values.reserve(n);
  for (uint32_t i = 0; i < n; ++i) out.enum_values.push_back(take_string(duckdb_enum_dictionary_value(type, i)));
  out.logical = LogicalType::varchar();
  out.native = "ENUM";
}

void describe_nested(duckdb_logical_type type, DuckColumnType& out) {
  LogicalTypeHandle child(out.id == DUCKDB_TYPE_LIST ? duckdb_list_type_child_type(type)
                                                     : duckdb_array_type_child_type(type));
  auto child_desc = std::make_shared<DuckColumnType>(describe_duckdb_type(child.get()));
  out.supported = child_desc->supported;
  out.logical = LogicalType::list(child_desc->logical);
  if (out.id == DUCKDB_TYPE_ARRAY) {
    out.array_size = duckdb_array_type_array_size(type);
    out.native = child_desc->native + "[" + std::to_string(out.array_size) + "]";
  } else {
    out.native = child_desc->native + "[]";
  }
  out.child = std::move(child_desc);
}

}  // namespace

DuckColumnType describe_duckdb_type(duckdb_logical_type type) {
  DuckColumnType out;
  out.id = duckdb_get_type_id(type);
  std::string alias = take_string(duckdb_logical_type_get_alias(type));
  for (const auto& simple : kSimpleTypes) {
    if (simple.id == out.id) {
      out.logical = LogicalType(simple.logical);
      out.native = simple.native;
      if (out.id == DUCKDB_TYPE_VARCHAR && alias == "JSON") {
        out.logical = LogicalType::json();
        out.native = "JSON";
      }
      return out;
    }
  }
  switch (out.id) {
    case DUCKDB_TYPE_DECIMAL: describe_decimal(type, out); break;
    case DUCKDB_TYPE_HUGEINT:
      out.logical = LogicalType::decimal(38, 0);
      out.native = "HUGEINT";
      break;
    case DUCKDB_TYPE_UBIGINT:
      out.logical = LogicalType::decimal(20, 0);
      out.native = "UBIGINT";
      break;
    case DUCKDB_TYPE_ENUM: describe_enum(type, out); break;
    case DUCKDB_TYPE_LIST:
    case DUCKDB_TYPE_ARRAY: describe_nested(type, out); break;
    default:
      out.supported = false;
      out.logical = LogicalType::varchar();
      out.native = unsupported_name(out.id);
      break;
  }
  return out;
}

LogicalTypeHandle to_duckdb_type(const sql::LogicalType& type) {
  switch (type.id()) {
    case TypeId::kBoolean: return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN));
    case TypeId::kInt16: return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_SMALLINT));
    case TypeId::kInt32: return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_INTEGER));
    case TypeId::kInt64: return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_BIGINT));
    case TypeId::kFloat: return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_FLOAT));
    case TypeId::kDouble: return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_DOUBLE));
    case TypeId::kDecimal:
      return LogicalTypeHandle(duckdb_create_decimal_type(type.precision(), type.scale()));
    case TypeId::kVarchar: return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR));
    case TypeId::kBlob: return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_BLOB));
    case TypeId::kDate: return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_DATE));
    case TypeId::kTime: return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_TIME));
    case TypeId::kTimeTz: return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_TIME_TZ));
    case TypeId::kTimestamp: return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP));
    case TypeId::kTimestampTz: return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_TIMESTAMP_TZ));
    case TypeId::kInterval: return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_INTERVAL));
    case TypeId::kUuid: return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_UUID));
    case TypeId::kJson: {
      LogicalTypeHandle json(duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR));
      duckdb_logical_type_set_alias(json.get(), "JSON");
      return json;
    }
    case TypeId::kList: {
      LogicalTypeHandle child = to_duckdb_type(type.child());
      return LogicalTypeHandle(duckdb_create_list_type(child.get()));
    }
  }
  return LogicalTypeHandle(duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR));
}

}  // namespace strata::warehouse::duckdb_detail

// dbt's Column objects and the `api` context object (see compiler_internal.h).
#include <array>
#include <charconv>

#include "common/strings.h"
#include "transform/compiler_internal.h"

namespace strata::transform::detail {

using jinja::CallArgs;
using jinja::CallContext;
using jinja::Value;

namespace {

template <size_t N>
bool listed(const std::array<const char*, N>& names, const std::string& name) {
  for (const char* n : names)
    if (name == n) return true;
  return false;
}

// dbt's Column type tests, widened by the integer and float names DuckDB and PostgreSQL report.
constexpr std::array<const char*, 4> kStringTypes = {"text", "character varying", "character", "varchar"};
constexpr std::array<const char*, 6> kFloatTypes = {"real", "float4", "float", "double precision", "float8", "double"};
constexpr std::array<const char*, 19> kIntegerTypes = {
    "smallint", "integer", "bigint", "smallserial", "serial", "bigserial", "int2",     "int4",   "int8",  "int",
    "tinyint",  "hugeint", "utinyint", "usmallint", "uinteger", "ubigint", "uhugeint", "int1", "int16"};
constexpr std::array<const char*, 2> kNumericTypes = {"numeric", "decimal"};

// dbt's Column.TYPE_LABELS, applied by Column.create.
std::string translate_type(const std::string& label) {
  const std::string upper = to_upper(label);
  if (upper == "STRING") return "TEXT";
  if (upper == "INTEGER") return "INT";
  return label;
}

class ColumnObject : public jinja::Object {
 public:
  ColumnObject(const sql::Dialect& dialect, std::string name, std::string native_type)
      : dialect_(dialect), name_(std::move(name)), dtype_(std::move(native_type)) {
    // "DECIMAL(18,2)" → base "decimal", sizes {18, 2}; "character varying(20)" → {20}.
    const size_t open = dtype_.find('(');
    base_ = to_lower(std::string(trim(std::string_view(dtype_).substr(0, open))));
    if (open == std::string::npos) return;
    std::string_view inside = std::string_view(dtype_).substr(open + 1);
    for (int* size : {&first_, &second_}) {
      inside = trim(inside);
      int value = 0;
      auto [end, ec] = std::from_chars(inside.data(), inside.data() + inside.size(), value);
      if (ec != std::errc()) break;
      *size = value;
      inside = inside.substr(static_cast<size_t>(end - inside.data()));
      if (inside.empty() || inside.front() != ',') break;
      inside.remove_prefix(1);
    }
  }
  std::string type_name() const override { return "Column"; }
  std::string to_string() const override { return "<Column " + name_ + " (" + dtype_ + ")>"; }
  // c['name'], as the dicts get_columns_in_relation gave before.
  std::optional<Value> get_item(const Value& key) const override {
    if (!key.is_string()) return std::nullopt;
    const std::string& k = key.as_string();
    if (k != "name" && k != "column" && k != "dtype" && k != "data_type") return std::nullopt;
    return get_attr(k);
  }

  std::optional<Value> get_attr(std::string_view name) const override {
    if (name == "name" || name == "column") return Value(name_);
    if (name == "dtype" || name == "data_type") return Value(dtype_);
    if (name == "quoted") return Value(dialect_.quote_identifier(name_));
    if (name == "char_size") return is_string() && first_ >= 0 ? Value(int64_t{first_}) : Value::none();
    if (name == "numeric_precision") return is_numeric() && first_ >= 0 ? Value(int64_t{first_}) : Value::none();
    if (name == "numeric_scale") return is_numeric() && second_ >= 0 ? Value(int64_t{second_}) : Value::none();
    if (name == "is_string") return predicate("is_string", is_string());
    if (name == "is_numeric") return predicate("is_numeric", is_numeric());
    if (name == "is_integer") return predicate("is_integer", listed(kIntegerTypes, base_));
    if (name == "is_float") return predicate("is_float", listed(kFloatTypes, base_));
    if (name == "is_number")
      return predicate("is_number", is_numeric() || listed(kIntegerTypes, base_) || listed(kFloatTypes, base_));
    if (name == "string_size") {
      const bool string = is_string();
      const int64_t size = base_ == "text" || first_ < 0 ? 256 : first_;
      return jinja::make_function("string_size", [string, size](CallArgs&, CallContext& ctx) -> Result<Value> {
        if (!string) return ctx.error("Called string_size() on non-string field!");
        return Value(size);
      });
    }
    return std::nullopt;
  }

 private:
  bool is_string() const { return listed(kStringTypes, base_); }
  bool is_numeric() const { return listed(kNumericTypes, base_); }
  static Value predicate(const char* name, bool value) {
    return jinja::make_function(name, [value](CallArgs&, CallContext&) -> Result<Value> { return Value(value); });
  }

  const sql::Dialect& dialect_;
  std::string name_, dtype_, base_;
  int first_ = -1, second_ = -1;  // the sizes in the type's parentheses, -1 when none
};

// One attribute of `api`: api.Relation or api.Column.
class ApiClass : public jinja::Object {
 public:
  ApiClass(const sql::Dialect& dialect, bool relation) : dialect_(dialect), relation_(relation) {}
  std::string type_name() const override { return relation_ ? "Relation" : "Column"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    const sql::Dialect& d = dialect_;
    if (relation_ && name == "create")
      return jinja::make_function("create", [&d](CallArgs& args, CallContext&) -> Result<Value> {
        std::string type = arg_string(args, 3, "type");
        const std::string lower = to_lower(type);
        type = lower == "view" ? "view" : lower == "cte" ? "cte" : lower == "materialized_view" ? lower : "table";
        std::string database = arg_string(args, 0, "database");
        if (database == "None") database.clear();
        return Value::object(std::make_shared<RelationObject>(d, database, arg_string(args, 1, "schema"),
                                                              arg_string(args, 2, "identifier"), type));
      });
    if (relation_ && name == "add_ephemeral_prefix")
      return jinja::make_function("add_ephemeral_prefix", [](CallArgs& args, CallContext&) -> Result<Value> {
        return Value(std::string(kEphemeralPrefix) + arg_string(args, 0, "name"));
      });
    if (!relation_ && name == "create")
      return jinja::make_function("create", [&d](CallArgs& args, CallContext&) -> Result<Value> {
        return column_value(d, arg_string(args, 0, "name"), translate_type(arg_string(args, 1, "label_or_dtype")));
      });
    return std::nullopt;
  }

 private:
  const sql::Dialect& dialect_;
  bool relation_;
};

class ApiObject : public jinja::Object {
 public:
  explicit ApiObject(const sql::Dialect& dialect)
      : relation_(Value::object(std::make_shared<ApiClass>(dialect, true))),
        column_(Value::object(std::make_shared<ApiClass>(dialect, false))) {}
  std::string type_name() const override { return "api"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    if (name == "Relation") return relation_;
    if (name == "Column") return column_;
    return std::nullopt;
  }

 private:
  Value relation_, column_;
};

}  // namespace

Value column_value(const sql::Dialect& dialect, const std::string& name, const std::string& native_type) {
  return Value::object(std::make_shared<ColumnObject>(dialect, name, native_type));
}

Value api_object(const sql::Dialect& dialect) { return Value::object(std::make_shared<ApiObject>(dialect)); }

}  // namespace strata::transform::detail

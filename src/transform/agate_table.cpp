// dbt hands run_query() and statement results to templates as agate tables. Macros written for
// dbt read them in several ways — `table.rows[0][0]`, `row['status']`, `row.status`,
// `table.columns[0].values()`, `table.columns['status'].values()` — and compare or add the
// numbers they hold, so cells keep their type (agate's Number, Boolean) rather than being text.
#include <algorithm>
#include <charconv>
#include <memory>

#include "transform/compiler_internal.h"
#include "warehouse/warehouse.h"

namespace strata::transform::detail {

namespace {

using jinja::CallArgs;
using jinja::CallContext;
using jinja::Value;
using jinja::ValueList;
using Names = std::shared_ptr<const std::vector<std::string>>;

// An int key as an index into `size` items: negative counts from the end, as Python.
std::optional<size_t> python_index(const Value& key, size_t size) {
  if (!key.is_int()) return std::nullopt;
  int64_t i = key.as_int();
  if (i < 0) i += static_cast<int64_t>(size);
  if (i < 0 || i >= static_cast<int64_t>(size)) return std::nullopt;
  return static_cast<size_t>(i);
}

// items[key] for an int key (python_index).
std::optional<Value> element_at(const Value& key, const ValueList& items) {
  auto i = python_index(key, items.size());
  if (!i) return std::nullopt;
  return items[*i];
}

// Index of `key` among `names`: an int (python_index) or a name.
std::optional<size_t> position(const Value& key, const std::vector<std::string>& names) {
  if (key.is_int()) return python_index(key, names.size());
  if (key.is_string())
    for (size_t c = 0; c < names.size(); ++c)
      if (names[c] == key.as_string()) return c;
  return std::nullopt;
}

Value returning(const char* name, Value v) {
  return jinja::make_function(name, [v](CallArgs&, CallContext&) -> Result<Value> { return v; });
}

// The methods of agate's MappedSequence (a sequence that is also a mapping from name to value):
// keys(), values(), items() and get(key, default); nullopt for other names.
std::optional<Value> mapped_sequence_method(std::string_view name, const Names& names, const ValueList& values) {
  if (name == "keys") {
    ValueList out;
    for (const auto& n : *names) out.emplace_back(n);
    return returning("keys", Value::tuple(std::move(out)));
  }
  if (name == "values") return returning("values", Value::tuple(values));
  if (name == "items") {
    ValueList pairs;
    for (size_t c = 0; c < values.size() && c < names->size(); ++c)
      pairs.push_back(Value::tuple({Value((*names)[c]), values[c]}));
    return returning("items", Value(std::move(pairs)));
  }
  if (name == "get")
    return jinja::make_function("get", [names, values](CallArgs& args, CallContext&) -> Result<Value> {
      const Value* key = args.get(0, "key");
      if (key) {
        auto at = position(*key, *names);
        if (at && *at < values.size()) return values[*at];
      }
      const Value* fallback = args.get(1, "default");
      return fallback ? *fallback : Value::none();
    });
  return std::nullopt;
}

// agate.Row: a sequence of cells that is also a mapping from column name to cell.
class RowObject : public jinja::Object {
 public:
  RowObject(Names names, ValueList cells) : names_(std::move(names)), cells_(std::move(cells)) {}
  std::string type_name() const override { return "Row"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    if (auto method = mapped_sequence_method(name, names_, cells_)) return method;
    return get_item(Value(name));
  }
  std::optional<Value> get_item(const Value& key) const override {
    auto at = position(key, *names_);
    if (!at) return std::nullopt;
    return cells_[*at];
  }
  std::optional<ValueList> iterate() const override { return cells_; }
  std::string to_string() const override { return "<agate.Row: " + Value::tuple(cells_).repr() + ">"; }

 private:
  Names names_;
  ValueList cells_;
};

// agate.Column: `name`, `values()` (a tuple, in row order) and `values_distinct()`.
class ColumnObject : public jinja::Object {
 public:
  ColumnObject(std::string name, ValueList values) : name_(std::move(name)), values_(std::move(values)) {}
  std::string type_name() const override { return "Column"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    if (name == "name") return Value(name_);
    if (name == "values") return returning("values", Value::tuple(values_));
    if (name == "values_distinct") {
      ValueList distinct;
      for (const auto& v : values_)
        if (std::none_of(distinct.begin(), distinct.end(), [&](const Value& d) { return d == v; }))
          distinct.push_back(v);
      return returning("values_distinct", Value::tuple(std::move(distinct)));
    }
    return std::nullopt;
  }
  std::optional<Value> get_item(const Value& key) const override { return element_at(key, values_); }
  std::optional<ValueList> iterate() const override { return values_; }
  std::string to_string() const override { return "<agate.Column: " + name_ + ">"; }

 private:
  std::string name_;
  ValueList values_;
};

// table.columns: columns by position or by name; iterates over the columns.
class ColumnsObject : public jinja::Object {
 public:
  ColumnsObject(Names names, ValueList columns) : names_(std::move(names)), columns_(std::move(columns)) {}
  std::string type_name() const override { return "MappedSequence"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    return mapped_sequence_method(name, names_, columns_);
  }
  std::optional<Value> get_item(const Value& key) const override {
    auto at = position(key, *names_);
    if (!at) return std::nullopt;
    return columns_[*at];
  }
  std::optional<ValueList> iterate() const override { return columns_; }

 private:
  Names names_;
  ValueList columns_;
};

class TableObject : public jinja::Object {
 public:
  TableObject(Names names, ValueList rows, ValueList columns)
      : names_(std::move(names)), rows_(std::move(rows)), columns_(std::move(columns)) {}
  std::string type_name() const override { return "Table"; }
  std::optional<Value> get_attr(std::string_view name) const override {
    if (name == "rows") return Value::tuple(rows_);
    if (name == "column_names") {
      ValueList out;
      for (const auto& n : *names_) out.emplace_back(n);
      return Value::tuple(std::move(out));
    }
    if (name == "columns") return Value::object(std::make_shared<ColumnsObject>(names_, columns_));
    // print_table() writes to stdout in dbt; a template that calls it only wants the side effect.
    if (name == "print_table") return returning("print_table", Value::none());
    return std::nullopt;
  }
  std::optional<Value> get_item(const Value& key) const override { return element_at(key, rows_); }
  std::optional<ValueList> iterate() const override { return rows_; }
  bool truthy() const override { return true; }

 private:
  Names names_;
  ValueList rows_;
  ValueList columns_;
};

// One cell as agate would type it: integers and decimals as numbers, booleans as bools; other
// types (dates, timestamps, text) as their text, which is how templates paste them into SQL.
Value typed_cell(const warehouse::QueryResult& result, size_t row, size_t col) {
  if (result.is_null(row, col)) return Value::none();
  std::string text = result.cell_text(row, col);
  const sql::LogicalType& type = result.schema[col].type;
  auto as_int = [&]() -> std::optional<Value> {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return Value(v);
  };
  auto as_float = [&]() -> std::optional<Value> {
    double v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return Value(v);
  };
  switch (type.id()) {
    case sql::TypeId::kBoolean:
      return Value(text == "true");
    case sql::TypeId::kInt16:
    case sql::TypeId::kInt32:
    case sql::TypeId::kInt64:
      return as_int().value_or(Value(text));
    case sql::TypeId::kDecimal:
      return (type.scale() == 0 ? as_int() : as_float()).value_or(Value(text));
    case sql::TypeId::kFloat:
    case sql::TypeId::kDouble:
      return as_float().value_or(Value(text));
    default:
      return Value(text);
  }
}

}  // namespace

Value table_value(const std::vector<std::string>& names, const std::vector<std::vector<Value>>& rows) {
  auto shared_names = std::make_shared<const std::vector<std::string>>(names);
  ValueList row_objects;
  row_objects.reserve(rows.size());
  for (const auto& r : rows) row_objects.push_back(Value::object(std::make_shared<RowObject>(shared_names, r)));
  ValueList columns;
  for (size_t c = 0; c < names.size(); ++c) {
    ValueList values;
    values.reserve(rows.size());
    for (const auto& r : rows) values.push_back(c < r.size() ? r[c] : Value::none());
    columns.push_back(Value::object(std::make_shared<ColumnObject>(names[c], std::move(values))));
  }
  return Value::object(std::make_shared<TableObject>(shared_names, std::move(row_objects), std::move(columns)));
}

AgateResult agate_result(const warehouse::QueryResult& result, bool fetch) {
  std::vector<std::string> names;
  for (const auto& f : result.schema) names.push_back(f.name);
  std::vector<std::vector<Value>> rows;
  ValueList matrix;
  if (fetch)
    for (size_t r = 0; r < result.num_rows(); ++r) {
      std::vector<Value> row;
      row.reserve(names.size());
      for (size_t c = 0; c < names.size(); ++c) row.push_back(typed_cell(result, r, c));
      matrix.push_back(Value::tuple(row));
      rows.push_back(std::move(row));
    }
  return {table_value(names, rows), Value(std::move(matrix))};
}

}  // namespace strata::transform::detail

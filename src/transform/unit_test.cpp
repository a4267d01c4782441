// Unit tests (dbt ≥ 1.8): the model's SQL run on fixed input rows, compared with the expected
// rows. Each `given` input replaces a ref() or source() of the model with its rows, cast to the
// input relation's column types (columns a fixture leaves out are NULL); the expected rows are cast
// to the types of the model's own output and compared as multisets over the expected columns.
// An ephemeral input's rows replace its `__dbt__cte__` CTE; `input: this` replaces {{ this }}, the
// incremental model's own table (read when the test sets `overrides: {macros: {is_incremental:
// true}}`). Their column types come from the query they stand for when no relation holds them.
#include <algorithm>
#include <sstream>

#include "common/strings.h"
#include "transform/compiler_internal.h"
#include "transform/runner_internal.h"

namespace strata::transform::detail {

namespace {

using Rows = std::vector<std::map<std::string, Json>>;

// One CSV line split on commas, with "quoted, fields" ("" inside quotes is a quote).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      out.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  for (auto& f : out) f = std::string(trim(f));
  return out;
}

// A fixture's rows, by column name (format dict or csv; an empty CSV field is NULL). `columns`
// gets every column named, in first-seen order.
Rows fixture_rows(const Json& fixture, std::vector<std::string>& columns) {
  Rows rows;
  auto note = [&](const std::string& c) {
    if (std::find(columns.begin(), columns.end(), c) == columns.end()) columns.push_back(c);
  };
  const Json& raw = fixture.value("rows", Json(nullptr));
  if (fixture.value("format", std::string("dict")) == "csv" && raw.is_string()) {
    std::istringstream in(raw.get<std::string>());
    std::string line;
    std::vector<std::string> header;
    while (std::getline(in, line)) {
      if (trim(line).empty()) continue;
      std::vector<std::string> fields = csv_fields(line);
      if (header.empty()) {
        header = fields;
        for (const auto& h : header) note(h);
        continue;
      }
      auto& row = rows.emplace_back();
      for (size_t i = 0; i < header.size(); ++i)
        row[header[i]] = i < fields.size() && !fields[i].empty() ? Json(fields[i]) : Json(nullptr);
    }
    return rows;
  }
  if (!raw.is_array()) return rows;
  for (const auto& r : raw) {
    auto& row = rows.emplace_back();
    for (auto it = r.begin(); it != r.end(); ++it) {
      note(it.key());
      row[it.key()] = it.value();
    }
  }
  return rows;
}

std::string literal(const sql::Dialect& d, const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  return d.quote_string(v.is_string() ? v.get<std::string>() : v.dump());
}

// `select cast(v as type) as column, …` per row, union all; no row: one of NULLs, filtered out.
std::string rows_query(const sql::Dialect& d, const Rows& rows,
                       const std::vector<std::pair<std::string, std::string>>& typed_columns) {
  auto select = [&](const std::map<std::string, Json>* row) {
    std::string s;
    for (const auto& [name, type] : typed_columns) {
      Json value = nullptr;
      if (row) {
        auto it = row->find(name);
        if (it != row->end()) value = it->second;
      }
      s += (s.empty() ? "select " : ", ") + std::string("cast(") + literal(d, value) + " as " + type + ") as " +
           d.quote_identifier(name);
    }
    return s;
  };
  if (rows.empty()) return select(nullptr) + " where false";
  std::string out;
  for (const auto& row : rows) out += (out.empty() ? "" : "\nunion all\n") + select(&row);
  return out;
}

// What a `given` input names: ref('m'), ref('pkg', 'm'), source('s', 't'), or `this` (the model).
struct GivenInput {
  const Node* node = nullptr;
  bool is_this = false;
};

Result<GivenInput> input_node(const NodeContext& ctx, const Node& model, const std::string& input) {
  std::string_view text = trim(input);
  if (starts_with(text, "{{") && ends_with(text, "}}")) text = trim(text.substr(2, text.size() - 4));
  if (text == "this") return GivenInput{&model, true};
  std::optional<PlainCall> call = parse_plain_call(text);
  std::optional<size_t> index;
  if (call && call->kind == PlainCall::Kind::kRef) index = ctx.graph.resolve_ref(call->ref, model.package_name);
  if (call && call->kind == PlainCall::Kind::kSource) index = ctx.graph.resolve_source(call->source);
  if (!index)
    return Error(ErrorCode::kConfig,
                 "unit test " + ctx.node.name + ": given input " + input + " is not a ref() or source() of the project",
                 ctx.node.where, "write it as ref('model'), source('source_name', 'table_name') or this");
  return GivenInput{&ctx.graph.node(*index), false};
}

using TypedColumns = std::vector<std::pair<std::string, std::string>>;

// The column names and types a dict or CSV fixture of `given` is cast to: those of the input's
// relation; for an ephemeral model, or `this` before the model's first build, those of the query
// it stands for (for `this`, the model's full build on the fixtures given so far).
Result<TypedColumns> input_columns(NodeContext& ctx, const GivenInput& given, const RenderOptions& model_render) {
  const Node& input = *given.node;
  const Node& test = ctx.node;
  TypedColumns typed;
  if (input.materialized() != "ephemeral") {
    const std::string identifier = input.resource_type == ResourceType::kSource ? input.identifier : input.alias;
    STRATA_ASSIGN(auto columns, ctx.wh.columns({input.database, input.schema, identifier}));
    for (const auto& c : columns) typed.emplace_back(c.name, c.native_type);
    if (!typed.empty() || !given.is_this) {
      if (typed.empty())
        return Error(ErrorCode::kFailed,
                     "unit test " + test.name + ": " + input.relation_name +
                         " does not exist, and its columns' types are the fixture's",
                     test.where, "build it first (dbt build builds a unit test's inputs before it), or give the "
                                 "rows with format: sql");
      return typed;
    }
  }
  RenderOptions ro = model_render;
  ro.is_incremental = false;
  auto index = ctx.graph.find(input.unique_id);
  if (!index)
    return Error(ErrorCode::kConfig, "unit test " + test.name + ": " + input.unique_id + " is not in the project");
  auto shape = ctx.compiler.compile(*index, ro);
  Result<warehouse::QueryResult> result =
      shape.ok() ? ctx.wh.query("select * from (\n" + *shape + "\n) as dbt_unit_shape limit 0")
                 : Result<warehouse::QueryResult>(std::move(shape).error());
  if (!result.ok())
    return Error(ErrorCode::kFailed,
                 "unit test " + test.name + ": the columns of " + (given.is_this ? "this" : input.name) +
                     " are those of its query, which failed: " + result.error().message(),
                 test.where, "give its rows with format: sql, or build its inputs first");
  for (const auto& f : result->schema) typed.emplace_back(f.name, ctx.wh.dialect().type_name(f.type));
  return typed;
}

}  // namespace

Result<std::string> run_unit_test(NodeContext& ctx) {
  const Node& test = ctx.node;
  const sql::Dialect& d = ctx.wh.dialect();
  const Json& spec = test.unit_test;
  auto model_index = ctx.graph.find(test.attached_node);
  if (!model_index) return Error(ErrorCode::kConfig, "unit test " + test.name + ": its model is not in the project");
  const Node& model = ctx.graph.node(*model_index);
  std::map<std::string, std::string> fixtures;
  RenderOptions ro;
  ro.warehouse = &ctx.wh;
  ro.fixtures = &fixtures;
  const Json overrides = spec.value("overrides", Json::object());
  const Json macros = overrides.value("macros", Json::object());
  ro.is_incremental = macros.value("is_incremental", Json(false)) == true;
  ro.overrides = &overrides;
  // `this` last: before the model's first build its columns are those of the model on the others.
  const Json given_list = spec.value("given", Json::array());
  std::vector<std::pair<GivenInput, const Json*>> inputs;
  for (const auto& given : given_list) {
    STRATA_ASSIGN(GivenInput input, input_node(ctx, model, given.value("input", std::string())));
    inputs.emplace_back(input, &given);
  }
  std::stable_partition(inputs.begin(), inputs.end(), [](const auto& in) { return !in.first.is_this; });
  for (const auto& [input, given] : inputs) {
    std::string query;
    if (given->value("format", std::string("dict")) == "sql") {
      query = given->value("rows", std::string());
    } else {
      STRATA_ASSIGN(TypedColumns typed, input_columns(ctx, input, ro));
      std::vector<std::string> named;
      Rows rows = fixture_rows(*given, named);
      query = rows_query(d, rows, typed);
    }
    // `this` is keyed by the model's own id: compile() renders {{ this }} as it.
    fixtures[input.node->unique_id] = query;
  }
  STRATA_ASSIGN(std::string sql, ctx.compiler.compile(*model_index, ro));

  std::vector<std::string> expect_columns;
  const Json expect = spec.value("expect", Json::object());
  Rows expected_rows = fixture_rows(expect, expect_columns);
  const std::string actual_all = "(\n" + sql + "\n) as dbt_unit_actual";
  std::string expected;
  std::string projection;
  if (expect.value("format", std::string("dict")) == "sql") {
    expected = expect.value("rows", std::string());
    projection = "*";
  } else {
    // The model's output types, for the expected rows' casts.
    STRATA_ASSIGN(warehouse::QueryResult shape, ctx.wh.query("select * from " + actual_all + " limit 0"));
    std::vector<std::pair<std::string, std::string>> typed;
    for (const auto& c : expect_columns) {
      auto it = std::find_if(shape.schema.begin(), shape.schema.end(),
                             [&](const auto& f) { return to_lower(f.name) == to_lower(c); });
      if (it == shape.schema.end())
        return Error(ErrorCode::kFailed, "unit test " + test.name + ": the model has no column '" + c + "'",
                     test.where, "expect only columns the model selects");
      typed.emplace_back(it->name, d.type_name(it->type));
      projection += (projection.empty() ? "" : ", ") + d.quote_identifier(it->name);
    }
    expected = rows_query(d, expected_rows, typed);
  }
  const std::string actual = "select " + projection + " from " + actual_all;
  // One query however many rows: set operations chain left to right, so `a except all r1 union all
  // r2` would be `(a except all r1) union all r2`.
  expected = "select * from (\n" + expected + "\n) as dbt_unit_expected";
  const std::string diff = "(" + actual + "\nexcept all\n" + expected + ")\nunion all\n(" + expected +
                           "\nexcept all\n" + actual + ")";
  ctx.run_sql += "-- unit test " + test.name + "\n" + diff + ";\n\n";
  STRATA_ASSIGN(warehouse::QueryResult differing, ctx.wh.query("select count(*) from (" + diff + ") as dbt_unit_diff"));
  ctx.failures = differing.num_rows() == 1 && !differing.is_null(0, 0) ? std::stoll(differing.cell_text(0, 0)) : 0;
  ctx.test_status = ctx.failures == 0 ? "pass" : "fail";
  if (ctx.failures > 0) {
    // What dbt shows: the actual rows beside the expected ones.
    auto table = [&](const std::string& query) -> std::string {
      auto r = ctx.wh.query(query + " limit 20");
      if (!r.ok()) return "  (" + r.error().message() + ")\n";
      std::string text;
      for (size_t i = 0; i < r->num_rows(); ++i) {
        std::string line;
        for (size_t c = 0; c < r->schema.size(); ++c)
          line += (c ? " | " : "  ") + (r->is_null(i, c) ? std::string("null") : r->cell_text(i, c));
        text += line + "\n";
      }
      return text.empty() ? "  (no rows)\n" : text;
    };
    ctx.test_message = "actual differs from expected:\nactual:\n" + table("select * from (" + actual + ") a") +
                  "expected:\n" + table("select * from (" + expected + ") e");
  }
  return std::string("UNIT TEST");
}

}  // namespace strata::transform::detail

#include "transform/contract.h"

#include <algorithm>
#include <array>
#include <optional>

#include "common/strings.h"

namespace strata::transform::detail {

namespace {

std::string text_of(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string quoted_list(const sql::Dialect& d, const Json& names) {
  std::string out;
  if (names.is_array())
    for (const auto& c : names)
      if (c.is_string()) out += (out.empty() ? "" : ", ") + d.quote_identifier(c.get<std::string>());
  return out;
}

// The relation a foreign key points at: `to: ref('m')` / `source('s', 't')` with `to_columns`, or
// the `expression` as written ("other_table (id)").
Result<std::string> references(const Graph& g, const Node& n, const Json& c, const sql::Dialect& d) {
  const std::string to = text_of(c, "to");
  if (to.empty()) return text_of(c, "expression");
  std::vector<std::string> args;
  const size_t open = to.find('('), close = to.rfind(')');
  if (open != std::string::npos && close != std::string::npos && close > open)
    for (const auto& a : split(to.substr(open + 1, close - open - 1), ',')) {
      std::string arg(trim(a));
      if (arg.size() >= 2 && (arg.front() == '\'' || arg.front() == '"')) arg = arg.substr(1, arg.size() - 2);
      args.push_back(arg);
    }
  const std::string fn(trim(to.substr(0, open == std::string::npos ? to.size() : open)));
  std::optional<size_t> target;
  if (fn == "ref" && (args.size() == 1 || args.size() == 2)) {
    RefCall ref;
    ref.name = args.back();
    if (args.size() == 2) ref.package = args[0];
    target = g.resolve_ref(ref, n.package_name);
  } else if (fn == "source" && args.size() == 2) {
    target = g.resolve_source(SourceCall{args[0], args[1]});
  }
  if (!target)
    return Error(ErrorCode::kConfig, "the foreign_key constraint of " + n.name + " points at " + to +
                                         ", which names no model, seed, snapshot or source",
                 n.where, "write to: ref('model_name') with to_columns: [column]");
  const Node& t = g.node(*target);
  const std::string relation = t.resource_type == ResourceType::kSource ? d.qualify(t.database, t.schema, t.identifier)
                                                                         : t.relation_name;
  const std::string columns = quoted_list(d, c.contains("to_columns") ? c["to_columns"] : Json::array());
  return columns.empty() ? relation : relation + " (" + columns + ")";
}

// One constraint's SQL: on a column (`not null`, `check (…)`) or of the table (`primary key (a, b)`).
Result<std::string> constraint_sql(const Graph& g, const Node& n, const Json& c, const sql::Dialect& d,
                                   bool table_level) {
  const std::string type = text_of(c, "type");
  const std::string expression = text_of(c, "expression");
  const std::string columns = table_level ? " (" + quoted_list(d, c.value("columns", Json::array())) + ")" : "";
  std::string sql;
  if (type == "not_null") sql = "not null";
  else if (type == "unique") sql = "unique" + columns;
  else if (type == "primary_key") sql = "primary key" + columns;
  else if (type == "check") sql = "check (" + expression + ")";
  else if (type == "custom") sql = expression;
  else if (type == "foreign_key") {
    STRATA_ASSIGN(std::string target, references(g, n, c, d));
    sql = (table_level ? "foreign key" + columns + " " : std::string()) + "references " + target;
  }
  // DuckDB takes constraint names only in some positions; PostgreSQL names any of them.
  const std::string name = text_of(c, "name");
  if (!name.empty() && d.id() == sql::DialectId::kPostgres && type != "not_null")
    sql = "constraint " + d.quote_identifier(name) + " " + sql;
  return sql;
}

struct Mismatch {
  std::string column, definition_type, contract_type, reason;
};

std::string mismatch_table(const std::vector<Mismatch>& rows) {
  std::vector<std::array<std::string, 4>> cells = {{"column_name", "definition_type", "contract_type", "mismatch_reason"}};
  for (const auto& r : rows) cells.push_back({r.column, r.definition_type, r.contract_type, r.reason});
  std::array<size_t, 4> width{};
  for (const auto& row : cells)
    for (size_t i = 0; i < 4; ++i) width[i] = std::max(width[i], row[i].size());
  std::string out;
  auto line = [&](const std::array<std::string, 4>& row) {
    out += "|";
    for (size_t i = 0; i < 4; ++i) out += " " + row[i] + std::string(width[i] - row[i].size(), ' ') + " |";
    out += "\n";
  };
  line(cells[0]);
  line({std::string(width[0], '-'), std::string(width[1], '-'), std::string(width[2], '-'), std::string(width[3], '-')});
  for (size_t i = 1; i < cells.size(); ++i) line(cells[i]);
  return out;
}

}  // namespace

bool contract_enforced(const Node& n) {
  auto it = n.config.find("contract");
  if (it == n.config.end() || !it->is_object()) return false;
  auto enforced = it->find("enforced");
  return enforced != it->end() && enforced->is_boolean() && enforced->get<bool>();
}

Status check_contract(NodeContext& ctx) {
  const Node& n = ctx.node;
  const sql::Dialect& d = ctx.wh.dialect();
  if (n.materialized() == "ephemeral")
    return Error(ErrorCode::kConfig, "contracts are not supported for ephemeral models (" + n.name + ")",
                 n.config_location("contract"),
                 "materialize it as a table, view or incremental model, or remove contract: {enforced: true}");
  if (n.columns.empty())
    return Error(ErrorCode::kConfig, n.name + " has an enforced contract but its properties list no columns", n.where,
                 "list every column of the model with its data_type under `columns:` in its .yml file");
  std::string casts;
  for (const auto& c : n.columns) {
    if (c.data_type.empty())
      return Error(ErrorCode::kConfig,
                   "column '" + c.name + "' of " + n.name + " has no data_type; an enforced contract needs one for every column",
                   n.where, "add `data_type:` to the column in the model's .yml file");
    casts += (casts.empty() ? "" : ", ") + std::string("cast(null as ") + c.data_type + ") as " + d.quote_identifier(c.name);
  }
  auto declared = ctx.wh.query("select " + casts + " limit 0");
  if (!declared.ok())
    return Error(ErrorCode::kConfig, "the contract of " + n.name + " has a data_type the warehouse does not accept: " +
                                         declared.error().message(),
                 n.where, "use the warehouse's type names (e.g. integer, varchar, decimal(12,2), timestamp)");
  STRATA_ASSIGN(auto actual, ctx.wh.query("select * from (\n" + ctx.compiled + "\n) as dbt_contract_query limit 0"));
  std::vector<Mismatch> mismatches;
  auto find = [](const sql::Schema& schema, const std::string& name) -> const sql::ColumnSchema* {
    for (const auto& f : schema)
      if (to_lower(f.name) == to_lower(name)) return &f;
    return nullptr;
  };
  for (const auto& want : declared->schema) {
    const sql::ColumnSchema* got = find(actual.schema, want.name);
    if (!got) mismatches.push_back({want.name, "", d.type_name(want.type), "missing in definition"});
    else if (got->type != want.type)
      mismatches.push_back({want.name, d.type_name(got->type), d.type_name(want.type), "data type mismatch"});
  }
  for (const auto& got : actual.schema)
    if (!find(declared->schema, got.name)) mismatches.push_back({got.name, d.type_name(got.type), "", "missing in contract"});
  if (mismatches.empty()) return ok_status();
  return Error(ErrorCode::kFailed,
               "This model has an enforced contract that failed.\nPlease ensure the name, data_type, and number of "
               "columns in your contract match the columns in your model's definition.\n\n" +
                   mismatch_table(mismatches),
               n.where);
}

Result<std::string> contract_table_body(const Graph& graph, const Node& n, const sql::Dialect& d) {
  std::vector<std::string> lines;
  for (const auto& c : n.columns) {
    std::string line = d.quote_identifier(c.name) + " " + c.data_type;
    for (const auto& constraint : c.constraints) {
      STRATA_ASSIGN(std::string sql, constraint_sql(graph, n, constraint, d, false));
      line += " " + sql;
    }
    lines.push_back(std::move(line));
  }
  for (const auto& constraint : n.constraints) {
    STRATA_ASSIGN(std::string sql, constraint_sql(graph, n, constraint, d, true));
    lines.push_back(std::move(sql));
  }
  return "    " + join(lines, ",\n    ");
}

Status build_contracted_table(NodeContext& ctx, const TableConfig& table) {
  STRATA_TRY(check_contract(ctx));
  const Node& n = ctx.node;
  const sql::Dialect& d = ctx.wh.dialect();
  STRATA_ASSIGN(std::string body, contract_table_body(ctx.graph, n, d));
  bool is_view = false;
  STRATA_ASSIGN(bool exists, relation_exists(ctx, is_view));
  std::optional<warehouse::RelationKind> existing;
  if (exists) existing = is_view ? warehouse::RelationKind::kView : warehouse::RelationKind::kTable;
  DdlPlan plan = adapter_sql(d).replace_with_table(n.relation_name, existing, body, table);
  std::string columns;
  for (const auto& c : n.columns) columns += (columns.empty() ? "" : ", ") + d.quote_identifier(c.name);
  plan.statements.push_back("insert into " + n.relation_name + " (" + columns + ")\nselect " + columns +
                            " from (\n" + ctx.compiled + "\n) as model_subq");
  plan.atomic = true;
  STRATA_TRY(run_ddl(ctx, plan));
  relation_changed(ctx, warehouse::RelationKind::kTable);
  return ok_status();
}

}  // namespace strata::transform::detail

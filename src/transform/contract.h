#pragma once
// Model contracts (dbt ≥ 1.5, `contract: {enforced: true}`): the model's property file lists every
// column with its data_type, and optional constraints. Before building, the model's query is
// checked against that list on the warehouse itself (both described through `limit 0` queries,
// the declared types as `cast(null as <data_type>)`), so types are compared as the warehouse
// resolves them, aliases included; a mismatch fails the node with dbt's table of differences and
// leaves the relation as it was. A table is then created from the contract's column definitions
// and constraints (not_null, unique, primary_key, check, foreign_key, custom; both DuckDB and
// PostgreSQL enforce them) and filled by an insert, in one transaction. Views get the check only.
// Internal to transform.

#include <string>

#include "transform/runner_internal.h"

namespace strata::transform::detail {

// Whether node n's contract is enforced (config contract.enforced is true).
bool contract_enforced(const Node& n);

// dbt's preflight check of ctx.compiled against ctx.node's contract. Errors: kConfig (located at
// the node) for a contract on an ephemeral model, no columns, a column without data_type or a
// data_type the warehouse does not know; kFailed with the mismatch table.
Status check_contract(NodeContext& ctx);

// The column definitions and constraints inside `create table r ( … )` for n's contract, one per
// line. A foreign_key's `to: ref('m')` resolves through the graph. Errors: kConfig (located) for a
// `to` that names no node.
Result<std::string> contract_table_body(const Graph& graph, const Node& n, const sql::Dialect& d);

// Checks the contract, then replaces n's relation by a table built from it and fills it with
// ctx.compiled's rows, in one transaction; the table gets `table`'s adapter-specific configs.
// Errors: check_contract's, the warehouse's (a violated constraint fails the insert; nothing changes).
Status build_contracted_table(NodeContext& ctx, const TableConfig& table);

}  // namespace strata::transform::detail

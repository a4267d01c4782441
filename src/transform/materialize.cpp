// Materializations written in C++ through the dialect: view, table, incremental, snapshot, tests.
#include <algorithm>
#include <map>

#include "common/strings.h"
#include "transform/contract.h"
#include "transform/runner_internal.h"

namespace strata::transform::detail {

namespace {

std::vector<std::string> unique_key_list(const Json& key) {
  std::vector<std::string> out;
  if (key.is_string()) out.push_back(key.get<std::string>());
  if (key.is_array())
    for (const auto& k : key)
      if (k.is_string()) out.push_back(k.get<std::string>());
  return out;
}

std::string cfg_string(const Node& n, const char* key, const std::string& fallback = {}) {
  auto it = n.config.find(key);
  return it != n.config.end() && it->is_string() ? it->get<std::string>() : fallback;
}

// `merge into target using new rows on keys`: matched rows updated, new rows inserted (dbt's merge
// strategy; MERGE exists in DuckDB ≥ 1.4 and PostgreSQL ≥ 15).
// `updated` are the columns a matched row takes from the new row (merge_update_columns /
// merge_exclude_columns), `columns` every column inserted.
// `predicates` (incremental_predicates) are ANDed to the match, as written.
std::string merge_sql(const sql::Dialect& d, const std::string& target, const std::string& source,
                      const std::vector<std::string>& keys, const std::vector<std::string>& columns,
                      const std::vector<std::string>& updated, const std::string& predicates) {
  std::string on, set, names, values;
  for (const auto& k : keys)
    on += (on.empty() ? "" : " and ") + std::string("dbt_internal_dest.") + d.quote_identifier(k) +
          " = dbt_internal_source." + d.quote_identifier(k);
  on += predicates;
  for (const auto& c : updated) {
    std::string q = d.quote_identifier(c);
    set += (set.empty() ? "" : ", ") + q + " = dbt_internal_source." + q;
  }
  for (const auto& c : columns) {
    std::string q = d.quote_identifier(c);
    names += (names.empty() ? "" : ", ") + q;
    values += (values.empty() ? "" : ", ") + std::string("dbt_internal_source.") + q;
  }
  std::string matched = set.empty() ? "" : "\nwhen matched then update set " + set;
  return "merge into " + target + " as dbt_internal_dest\nusing " + source + " as dbt_internal_source\non (" + on +
         ")" + matched + "\nwhen not matched then insert (" + names + ") values (" + values + ")";
}

// (Re)creates a scratch table (an incremental model's new rows, a snapshot's staged rows).
Status create_scratch_table(NodeContext& ctx, const std::string& relation, const std::string& query) {
  return run_ddl(ctx, adapter_sql(ctx.wh.dialect())
                          .replace_relation(relation, warehouse::RelationKind::kTable, warehouse::RelationKind::kTable,
                                            query, TableConfig()));
}

// Whether `cols` has a column named `name` (names compare case-insensitively, as unquoted SQL).
bool has_column(const std::vector<warehouse::ColumnInfo>& cols, const std::string& name) {
  return std::any_of(cols.begin(), cols.end(), [&](const auto& c) { return to_lower(c.name) == to_lower(name); });
}

// dbt-bigquery's insert_overwrite strategy needs BigQuery and a partition_by; checked before any DDL.
Status check_insert_overwrite(const Node& n, const sql::Dialect& d, const TableConfig& table) {
  if (cfg_string(n, "incremental_strategy") != "insert_overwrite") return ok_status();
  if (d.id() != sql::DialectId::kBigQuery)
    return Error(ErrorCode::kConfig, "incremental_strategy 'insert_overwrite' is BigQuery's",
                 n.config_location("incremental_strategy"),
                 "use append, delete+insert, merge or microbatch on this warehouse");
  if (table.partition_by.empty())
    return Error(ErrorCode::kConfig, "incremental_strategy 'insert_overwrite' needs a partition_by",
                 n.config_location("incremental_strategy"),
                 "e.g. partition_by: {field: created_at, data_type: timestamp, granularity: day}");
  return ok_status();
}

// insert_overwrite's delete of the partitions to replace: those of the `partitions` config (SQL
// literals, dbt-bigquery's static insert_overwrite), else every partition the new rows in `tmp`
// touch (its dynamic one). An int64 range partition is its bucket: a whole bucket is replaced.
std::string replace_partitions_sql(const Node& n, const TableConfig& table, const std::string& tmp) {
  const auto listed = unique_key_list(n.config.value("partitions", Json(nullptr)));
  const std::string replaced =
      listed.empty() ? "select distinct " + table.partition_by + " from " + tmp : join(listed, ", ");
  return "delete from " + n.relation_name + " where " + table.partition_by + " in (" + replaced + ")";
}

}  // namespace

Result<std::optional<warehouse::RelationKind>> RelationCache::find(warehouse::Warehouse& wh, const std::string& schema,
                                                                  const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (listed_.insert(schema).second) {
    auto rels = wh.relations(schema);
    if (!rels.ok()) {
      listed_.erase(schema);
      return std::move(rels).error();
    }
    for (const auto& r : *rels) kinds_[{schema, r.relation.name}] = r.kind;
  }
  auto it = kinds_.find({schema, name});
  if (it == kinds_.end()) return std::optional<warehouse::RelationKind>();
  return std::optional<warehouse::RelationKind>(it->second);
}

void RelationCache::put(const std::string& schema, const std::string& name, warehouse::RelationKind kind) {
  std::lock_guard<std::mutex> lock(mu_);
  kinds_[{schema, name}] = kind;
}

void RelationCache::erase(const std::string& schema, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  kinds_.erase({schema, name});
}

Result<bool> relation_exists(NodeContext& ctx, bool& is_view) {
  if (ctx.relations) {
    STRATA_ASSIGN(auto kind, ctx.relations->find(ctx.wh, ctx.node.schema, ctx.node.alias));
    is_view = kind == warehouse::RelationKind::kView;
    return kind.has_value();
  }
  STRATA_ASSIGN(auto rels, ctx.wh.relations(ctx.node.schema));
  for (const auto& r : rels)
    if (r.relation.name == ctx.node.alias) {
      is_view = r.kind == warehouse::RelationKind::kView;
      return true;
    }
  return false;
}

void relation_changed(NodeContext& ctx, std::optional<warehouse::RelationKind> kind) {
  if (!ctx.relations) return;
  if (kind) ctx.relations->put(ctx.node.schema, ctx.node.alias, *kind);
  else ctx.relations->erase(ctx.node.schema, ctx.node.alias);
}

Status in_transaction(NodeContext& ctx, const std::function<Status()>& body) {
  STRATA_TRY(ctx.wh.begin());
  Status st = body();
  if (!st.ok()) {
    (void)ctx.wh.rollback();
    return st;
  }
  return ctx.wh.commit();
}

Status run_ddl(NodeContext& ctx, const DdlPlan& plan) {
  auto run_all = [&]() -> Status {
    for (const auto& statement : plan.statements) STRATA_TRY(ctx.execute(statement));
    return ok_status();
  };
  return plan.atomic ? in_transaction(ctx, run_all) : run_all();
}

Status replace_node_relation(NodeContext& ctx, warehouse::RelationKind kind, const std::string& query,
                             const TableConfig& table) {
  bool is_view = false;
  STRATA_ASSIGN(bool exists, relation_exists(ctx, is_view));
  std::optional<warehouse::RelationKind> existing;
  if (exists) existing = is_view ? warehouse::RelationKind::kView : warehouse::RelationKind::kTable;
  STRATA_TRY(run_ddl(ctx, adapter_sql(ctx.wh.dialect()).replace_relation(ctx.node.relation_name, existing, kind, query,
                                                                             table)));
  relation_changed(ctx, kind);
  return ok_status();
}

Status insert_by_name(NodeContext& ctx, const std::string& relation, const std::string& query) {
  const AdapterSql& adapter = adapter_sql(ctx.wh.dialect());
  std::vector<std::string> columns;
  if (adapter.insert_needs_columns()) {
    STRATA_ASSIGN(auto shape, ctx.wh.query("select * from (\n" + query + "\n) as dbt_insert_shape limit 0"));
    for (const auto& field : shape.schema) columns.push_back(field.name);
  }
  return ctx.execute(adapter.insert_by_name(relation, query, columns));
}

Result<std::string> materialize_view(NodeContext& ctx) {
  if (contract_enforced(ctx.node)) STRATA_TRY(check_contract(ctx));
  STRATA_TRY(replace_node_relation(ctx, warehouse::RelationKind::kView, ctx.compiled));
  return std::string("CREATE VIEW");
}

namespace {

// Replaces the node's relation by a table of its query's rows, with its adapter-specific configs.
Result<std::string> build_table(NodeContext& ctx, const TableConfig& table) {
  if (contract_enforced(ctx.node)) {
    STRATA_TRY(build_contracted_table(ctx, table));
    return std::string("CREATE TABLE");
  }
  STRATA_TRY(replace_node_relation(ctx, warehouse::RelationKind::kTable, ctx.compiled, table));
  return std::string("CREATE TABLE");
}

}  // namespace

Result<std::string> materialize_table(NodeContext& ctx) {
  STRATA_ASSIGN(const TableConfig table, table_config(ctx.node, ctx.wh));
  return build_table(ctx, table);
}

bool rebuilds_fully(const NodeContext& ctx) {
  auto it = ctx.node.config.find("full_refresh");
  return it != ctx.node.config.end() && it->is_boolean() ? it->get<bool>() : ctx.options.full_refresh;
}

Result<std::string> materialize_incremental(NodeContext& ctx) {
  const Node& n = ctx.node;
  // The table configs are checked on every run, though only a new table takes them (as dbt's).
  STRATA_ASSIGN(const TableConfig table, table_config(n, ctx.wh));
  if (cfg_string(n, "incremental_strategy") == "microbatch") return materialize_microbatch(ctx, table);
  const sql::Dialect& d = ctx.wh.dialect();
  bool is_view = false;
  STRATA_ASSIGN(bool exists, relation_exists(ctx, is_view));
  const bool full_refresh = rebuilds_fully(ctx);
  STRATA_TRY(check_insert_overwrite(n, d, table));
  if (!exists || is_view || full_refresh) return build_table(ctx, table);
  if (contract_enforced(n)) STRATA_TRY(check_contract(ctx));
  const warehouse::Relation tmp_rel{n.database, n.schema, n.alias + "__dbt_tmp"};
  std::string tmp = warehouse::qualified_name(d, tmp_rel);
  STRATA_TRY(create_scratch_table(ctx, tmp, ctx.compiled));
  STRATA_ASSIGN(auto target_cols, ctx.wh.columns({n.database, n.schema, n.alias}));
  STRATA_ASSIGN(auto new_cols, ctx.wh.columns(tmp_rel));
  const auto& has = has_column;
  std::vector<warehouse::ColumnInfo> added, removed, retyped;
  for (const auto& c : new_cols) {
    if (!has(target_cols, c.name)) added.push_back(c);
    // A column in both whose type changed (dbt's new_target_types).
    for (const auto& t : target_cols)
      if (to_lower(t.name) == to_lower(c.name) && to_lower(t.native_type) != to_lower(c.native_type))
        retyped.push_back(c);
  }
  for (const auto& c : target_cols)
    if (!has(new_cols, c.name)) removed.push_back(c);
  std::string on_change = cfg_string(n, "on_schema_change", "ignore");
  if ((!added.empty() || !removed.empty() || !retyped.empty()) && on_change == "fail")
    return Error(ErrorCode::kFailed,
                 "The source and target schemas on this incremental model are out of sync; on_schema_change is "
                 "'fail'",
                 n.config_location("on_schema_change"), "run with --full-refresh, or set on_schema_change to append_new_columns or sync_all_columns");
  if (on_change == "append_new_columns" || on_change == "sync_all_columns") {
    for (const auto& c : added)
      STRATA_TRY(ctx.execute("alter table " + n.relation_name + " add column " + d.quote_identifier(c.name) + " " +
                             c.native_type));
    if (on_change == "sync_all_columns") {
      for (const auto& c : removed)
        STRATA_TRY(ctx.execute("alter table " + n.relation_name + " drop column " + d.quote_identifier(c.name)));
      for (const auto& c : retyped)
        STRATA_TRY(ctx.execute("alter table " + n.relation_name + " alter column " + d.quote_identifier(c.name) +
                               " type " + c.native_type));
    }
  }
  // The columns written: the target's columns present in the new rows.
  STRATA_ASSIGN(auto dest_cols, ctx.wh.columns({n.database, n.schema, n.alias}));
  std::string cols;
  for (const auto& c : dest_cols)
    if (has(new_cols, c.name)) cols += (cols.empty() ? "" : ", ") + d.quote_identifier(c.name);
  std::string strategy = cfg_string(n, "incremental_strategy", "");
  auto keys = unique_key_list(n.config.value("unique_key", Json(nullptr)));
  if (strategy.empty()) strategy = keys.empty() ? "append" : "delete+insert";
  if ((strategy == "merge" || strategy == "delete+insert") && keys.empty())
    return Error(ErrorCode::kFailed, "incremental_strategy '" + strategy + "' needs a unique_key",
                 n.config_location("incremental_strategy"),
                 "set unique_key in the model's config, or use incremental_strategy='append'");
  if (strategy != "append" && strategy != "merge" && strategy != "delete+insert" && strategy != "insert_overwrite")
    return Error(ErrorCode::kFailed, "unknown incremental_strategy '" + strategy + "'",
                 n.config_location("incremental_strategy"),
                 "use append, delete+insert, merge, microbatch or (on BigQuery) insert_overwrite");
  std::vector<std::string> dest_names;
  for (const auto& c : dest_cols)
    if (has(new_cols, c.name)) dest_names.push_back(c.name);
  // merge_update_columns: only these are updated; merge_exclude_columns: all but these.
  std::vector<std::string> updated;
  auto only = unique_key_list(n.config.value("merge_update_columns", Json(nullptr)));
  auto except = unique_key_list(n.config.value("merge_exclude_columns", Json(nullptr)));
  auto listed = [](const std::vector<std::string>& list, const std::string& name) {
    return std::any_of(list.begin(), list.end(), [&](const auto& x) { return to_lower(x) == to_lower(name); });
  };
  for (const auto& c : dest_names)
    if ((only.empty() || listed(only, c)) && !listed(except, c)) updated.push_back(c);
  // incremental_predicates: more conditions on the target's rows a merge or delete+insert may
  // touch (a merge's target is DBT_INTERNAL_DEST, the new rows DBT_INTERNAL_SOURCE; delete+insert's
  // target goes by its name, as in dbt).
  std::string predicates;
  for (const auto& p : unique_key_list(n.config.value("incremental_predicates", Json(nullptr))))
    predicates += " and (" + p + ")";
  auto body = [&]() -> Status {
    if (strategy == "merge")
      return ctx.execute(merge_sql(d, n.relation_name, tmp, keys, dest_names, updated, predicates));
    if (strategy == "insert_overwrite") {
      STRATA_TRY(ctx.execute(replace_partitions_sql(n, table, tmp)));
    } else if (strategy != "append") {
      std::string match;
      for (const auto& k : keys)
        match += (match.empty() ? "" : " and ") + std::string("dbt_new.") + d.quote_identifier(k) + " = " +
                 n.relation_name + "." + d.quote_identifier(k);
      STRATA_TRY(ctx.execute("delete from " + n.relation_name + " where exists (select 1 from " + tmp +
                             " as dbt_new where " + match + ")" + predicates));
    }
    return ctx.execute("insert into " + n.relation_name + " (" + cols + ") select " + cols + " from " + tmp);
  };
  STRATA_TRY(in_transaction(ctx, body));
  STRATA_TRY(ctx.execute("drop table if exists " + tmp));
  relation_changed(ctx, warehouse::RelationKind::kTable);
  if (strategy == "insert_overwrite") return std::string("INSERT OVERWRITE");
  return std::string(strategy == "append" ? "INSERT" : strategy == "merge" ? "MERGE" : "DELETE+INSERT");
}

namespace {

// A snapshot's metadata columns, named as snapshot_meta_column_names says (dbt ≥ 1.9), quoted.
struct SnapshotColumns {
  std::string valid_from = "dbt_valid_from", valid_to = "dbt_valid_to", scd_id = "dbt_scd_id",
              updated_at = "dbt_updated_at", is_deleted = "dbt_is_deleted";
};

Result<SnapshotColumns> snapshot_columns(const Node& n, const sql::Dialect& d) {
  SnapshotColumns raw;
  auto it = n.config.find("snapshot_meta_column_names");
  if (it != n.config.end() && !it->is_null()) {
    if (!it->is_object())
      return Error(ErrorCode::kConfig, "snapshot " + n.name + ": snapshot_meta_column_names must be a mapping",
                   n.config_location("snapshot_meta_column_names"),
                   "e.g. snapshot_meta_column_names: {dbt_valid_from: start_date, dbt_valid_to: end_date}");
    const std::pair<const char*, std::string*> names[] = {{"dbt_valid_from", &raw.valid_from},
                                                          {"dbt_valid_to", &raw.valid_to},
                                                          {"dbt_scd_id", &raw.scd_id},
                                                          {"dbt_updated_at", &raw.updated_at},
                                                          {"dbt_is_deleted", &raw.is_deleted}};
    for (const auto& [key, value] : it->items()) {
      auto known = std::find_if(std::begin(names), std::end(names), [&](const auto& e) { return key == e.first; });
      if (known == std::end(names) || !value.is_string() || value.get<std::string>().empty())
        return Error(ErrorCode::kConfig,
                     "snapshot " + n.name + ": snapshot_meta_column_names has '" + key + "'" +
                         (known == std::end(names) ? ", which is not a snapshot column" : " without a column name"),
                     n.config_location("snapshot_meta_column_names"), "its keys are dbt_valid_from, dbt_valid_to, dbt_scd_id, dbt_updated_at, dbt_is_deleted");
      *known->second = value.get<std::string>();
    }
  }
  for (std::string* name : {&raw.valid_from, &raw.valid_to, &raw.scd_id, &raw.updated_at, &raw.is_deleted})
    *name = d.quote_identifier(*name);
  return raw;
}

// Whether `name` (unquoted, as the warehouse lists it) is one of the snapshot's own columns.
bool is_snapshot_column(const std::string& name, const SnapshotColumns& c, const sql::Dialect& d) {
  const std::string q = d.quote_identifier(name);
  return name == "dbt_unique_key" || q == c.valid_from || q == c.valid_to || q == c.scd_id || q == c.updated_at ||
         q == c.is_deleted;
}

}  // namespace

Result<std::string> materialize_snapshot(NodeContext& ctx) {
  const Node& n = ctx.node;
  const sql::Dialect& d = ctx.wh.dialect();
  std::string strategy = cfg_string(n, "strategy");
  auto keys = unique_key_list(n.config.value("unique_key", Json(nullptr)));
  if (keys.empty() || (strategy != "timestamp" && strategy != "check"))
    return Error(ErrorCode::kConfig, "snapshot " + n.name + " needs unique_key and strategy 'timestamp' or 'check'",
                 n.where, "add them to the snapshot's config()");
  // hard_deletes (dbt ≥ 1.9) replaces invalidate_hard_deletes: ignore (the default), invalidate
  // (a key gone from the query closes its version), new_record (it also gets a version marked
  // deleted, and a version opens again when the key comes back).
  std::string hard = cfg_string(n, "hard_deletes", "");
  if (hard.empty())
    hard = n.config.contains("invalidate_hard_deletes") && n.config["invalidate_hard_deletes"] == true ? "invalidate"
                                                                                                       : "ignore";
  if (hard != "ignore" && hard != "invalidate" && hard != "new_record")
    return Error(ErrorCode::kConfig, "snapshot " + n.name + ": hard_deletes '" + hard + "' is not a choice",
                 n.config_location("hard_deletes"),
                 "use ignore, invalidate or new_record");
  const bool new_record = hard == "new_record";
  STRATA_ASSIGN(const SnapshotColumns col, snapshot_columns(n, d));
  std::string key_expr;
  for (const auto& k : keys) key_expr += (key_expr.empty() ? "" : " || '|' || ") + std::string("cast(") + k + " as varchar)";
  // The run's start, to the microsecond as dbt's snapshot time (a check-strategy version's id
  // hashes it: two runs within a second would give a key's versions one id).
  std::string started = ctx.options.run_started_at;
  if (!started.empty() && started.back() == 'Z') started.pop_back();
  std::string now = "cast(" + d.quote_string(started) + " as timestamp)";
  std::string updated = strategy == "timestamp" ? "cast(" + cfg_string(n, "updated_at") + " as timestamp)" : now;
  if (strategy == "timestamp" && cfg_string(n, "updated_at").empty())
    return Error(ErrorCode::kConfig, "snapshot " + n.name + " uses strategy 'timestamp' but has no updated_at",
                 n.config_location("strategy"), "add updated_at='column' to its config()");
  // dbt_valid_to_current (dbt ≥ 1.9): what current versions hold in dbt_valid_to instead of NULL.
  // Versions written before it was set keep their NULL, so both mean current.
  const std::string valid_to_current = cfg_string(n, "dbt_valid_to_current");
  const std::string open_valid_to =
      valid_to_current.empty() ? "cast(null as timestamp)" : "cast(" + valid_to_current + " as timestamp)";
  auto is_current = [&](const std::string& alias) {
    const std::string column = (alias.empty() ? "" : alias + ".") + col.valid_to;
    return valid_to_current.empty() ? column + " is null"
                                    : "(" + column + " is null or " + column + " = " + open_valid_to + ")";
  };
  std::string source = "(\n" + ctx.compiled + "\n)";
  // The query's rows with the snapshot's columns: on the first run as the table holds them (open
  // versions), later with their key to stage them.
  auto staged = [&](bool with_key) {
    return "select *, " + (with_key ? key_expr + " as dbt_unique_key, " : std::string()) + updated + " as " +
           col.updated_at + ", " + updated + " as " + col.valid_from + ", md5(" + key_expr + " || '|' || cast(" +
           updated + " as varchar)) as " + col.scd_id + (new_record ? ", 'False' as " + col.is_deleted : "") +
           (with_key ? std::string() : ", " + open_valid_to + " as " + col.valid_to) + " from " + source +
           " as snapshot_query";
  };
  bool is_view = false;
  STRATA_ASSIGN(bool exists, relation_exists(ctx, is_view));
  if (!exists) {
    STRATA_ASSIGN(const TableConfig indexes, index_config(n, ctx.wh));
    STRATA_TRY(replace_node_relation(ctx, warehouse::RelationKind::kTable, staged(false), indexes));
    return std::string("CREATE TABLE");
  }
  std::string t = n.relation_name;
  const warehouse::Relation stage_rel{n.database, n.schema, n.alias + "__dbt_snap_stage"};
  std::string tmp = warehouse::qualified_name(d, stage_rel);
  STRATA_TRY(create_scratch_table(ctx, tmp, staged(true)));
  STRATA_ASSIGN(auto staged_cols, ctx.wh.columns(stage_rel));
  STRATA_ASSIGN(auto snapshot_cols, ctx.wh.columns({n.database, n.schema, n.alias}));
  std::vector<std::string> table_columns;  // the snapshot table's, once the new ones are added
  for (const auto& c : snapshot_cols) table_columns.push_back(d.quote_identifier(c.name));
  std::string staged_names;  // the staged columns the snapshot keeps, for the insert of new versions
  for (const auto& c : staged_cols) {
    if (c.name == "dbt_unique_key") continue;
    staged_names += (staged_names.empty() ? "" : ", ") + d.quote_identifier(c.name);
    if (has_column(snapshot_cols, c.name)) continue;
    STRATA_TRY(ctx.execute("alter table " + t + " add column " + d.quote_identifier(c.name) + " " + c.native_type));
    table_columns.push_back(d.quote_identifier(c.name));
  }
  // Columns compared by the check strategy.
  std::string changed;
  if (strategy == "timestamp") {
    changed = "s." + col.updated_at + " > c." + col.updated_at;
  } else {
    std::vector<std::string> check_cols;
    Json cc = n.config.value("check_cols", Json("all"));
    if (cc.is_array()) {
      check_cols = unique_key_list(cc);
    } else {
      for (const auto& c : staged_cols)
        if (!starts_with(c.name, "dbt_") && !is_snapshot_column(c.name, col, d)) check_cols.push_back(c.name);
    }
    for (const auto& c : check_cols)
      changed += (changed.empty() ? "" : " or ") + std::string("s.") + d.quote_identifier(c) +
                 " is distinct from c." + d.quote_identifier(c);
    if (changed.empty()) changed = "false";
  }
  // A key back in the query after it was deleted: its deletion version closes and a new one opens.
  const std::string deleted = "coalesce(c." + col.is_deleted + ", 'False') = 'True'";
  if (new_record) changed = "(" + changed + ") or " + deleted;
  // The current versions with their keys: the key expression is evaluated over the snapshot
  // table's own columns (it may be any expression, `id || '-' || lower(code)`), and a version is
  // then found by its dbt_scd_id.
  const std::string current = "(select " + col.scd_id + ", " + key_expr + " as dbt_unique_key from " + t +
                              " where " + is_current("") + ")";
  // The current versions whose key left the query (a deletion version is not deleted again).
  const std::string gone = "(select cur." + col.scd_id + " from " + current + " as cur where not exists (select 1 from " +
                           tmp + " s where s.dbt_unique_key = cur.dbt_unique_key))";
  const std::string not_deleted = new_record ? " and not " + deleted : "";
  // A deletion version: the closed version's columns, but for the snapshot's own.
  const std::map<std::string, std::string> deletion_values{
      {col.valid_from, now},
      {col.updated_at, now},
      {col.valid_to, open_valid_to},
      {col.scd_id, "md5(" + key_expr + " || '|' || cast(" + now + " as varchar) || '|deleted')"},
      {col.is_deleted, "'True'"}};
  std::string deletion_select;
  for (const auto& c : table_columns) {
    auto value = deletion_values.find(c);
    deletion_select += (deletion_select.empty() ? "" : ", ") + (value == deletion_values.end() ? "c." + c : value->second);
  }
  auto body = [&]() -> Status {
    // Close changed rows.
    STRATA_TRY(ctx.execute("update " + t + " as c set " + col.valid_to + " = s." + col.updated_at + " from " + tmp +
                           " as s, " + current + " as cur where " + is_current("c") + " and c." + col.scd_id +
                           " = cur." + col.scd_id + " and s.dbt_unique_key = cur.dbt_unique_key and (" + changed +
                           ")"));
    // Hard deletes: new_record first copies the version it closes, as deleted, from now on.
    if (new_record)
      STRATA_TRY(ctx.execute("insert into " + t + " (" + join(table_columns, ", ") + ") select " + deletion_select +
                             " from " + t + " as c where c." + col.scd_id + " in " + gone + not_deleted));
    if (hard != "ignore")
      STRATA_TRY(ctx.execute("update " + t + " as c set " + col.valid_to + " = " + now + " where c." + col.scd_id +
                             " in " + gone + not_deleted));
    // Insert new and changed rows: keys without a current version.
    return ctx.execute("insert into " + t + " (" + staged_names + ", " + col.valid_to + ") select " + staged_names +
                       ", " + open_valid_to + " from " + tmp + " s where not exists (select 1 from " + current +
                       " as cur where cur.dbt_unique_key = s.dbt_unique_key)");
  };
  STRATA_TRY(in_transaction(ctx, body));
  STRATA_TRY(ctx.execute("drop table if exists " + tmp));
  return std::string("SNAPSHOT");
}

Result<std::string> run_test(NodeContext& ctx) {
  const Node& n = ctx.node;
  if (!n.unit_test.is_null()) return run_unit_test(ctx);
  if (stores_failures(n, ctx.options))  // the runner has created the schema
    STRATA_TRY(replace_node_relation(ctx, warehouse::RelationKind::kTable, ctx.compiled));
  STRATA_ASSIGN(std::string summary, ctx.compiler.test_summary_sql(ctx.index, ctx.compiled));
  ctx.run_sql += summary + ";\n";
  STRATA_ASSIGN(auto result, ctx.wh.query(summary));
  if (result.num_rows() != 1 || result.schema.size() < 3)
    return Error(ErrorCode::kFailed, "the test query did not return one summary row");
  ctx.failures = result.is_null(0, 0) ? 0 : std::stoll(result.cell_text(0, 0));
  bool should_error = result.cell_text(0, 2) == "true";
  bool should_warn = result.cell_text(0, 1) == "true";
  std::string severity = to_lower(cfg_string(n, "severity", "error"));
  if (should_error && severity == "error") ctx.test_status = "fail";
  else if (should_warn || should_error) ctx.test_status = ctx.options.warn_error ? "fail" : "warn";
  else ctx.test_status = "pass";
  return std::string("SELECT 1");
}

}  // namespace strata::transform::detail

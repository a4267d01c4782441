// The adapter-specific table configs of models (see adapter_configs.h).
#include "transform/adapter_configs.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string_view>

#include "common/strings.h"
#include "transform/parser.h"

namespace strata::transform::detail {

namespace {

// PostgreSQL's built-in index access methods; others (an extension's) are looked up in pg_am.
constexpr std::array kBuiltinIndexMethods = {"btree", "hash", "gist", "spgist", "gin", "brin"};
constexpr std::array kPartitionDataTypes = {"date", "timestamp", "datetime", "int64"};
constexpr std::array kGranularities = {"hour", "day", "month", "year"};
// BigQuery clusters a table by at most four columns.
constexpr size_t kMaxClusterColumns = 4;

template <typename Array>
bool one_of(const Array& choices, std::string_view value) {
  return std::find(choices.begin(), choices.end(), value) != choices.end();
}

template <typename Array>
std::string listed(const Array& choices) {
  std::string out;
  for (const auto& c : choices) out += (out.empty() ? "" : ", ") + std::string(c);
  return out;
}

// Builds the located errors of one node's configs.
class ConfigErrors {
 public:
  explicit ConfigErrors(const Node& n) : node_(n) {}
  // "model m: config `key` <what>", located at the node, with `hint`.
  Error operator()(std::string_view key, const std::string& what, std::string hint) const {
    return Error(ErrorCode::kConfig, "model " + node_.name + ": config `" + std::string(key) + "` " + what,
                 node_.config_location(key), std::move(hint));
  }

 private:
  const Node& node_;
};

// The config `key` of n, or null when unset.
const Json& config_value(const Node& n, std::string_view key) {
  static const Json kNull;
  auto it = n.config.find(std::string(key));
  return it == n.config.end() ? kNull : *it;
}

// A scalar as SQL text: strings as they are, numbers as JSON writes them.
std::string scalar_text(const Json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// ---- PostgreSQL ----

Result<TableIndex> parse_index(const Json& raw, size_t position, const ConfigErrors& error) {
  const std::string which = "entry " + std::to_string(position + 1);
  const std::string example = "e.g. indexes: [{columns: [customer_id], unique: true, type: btree}]";
  if (!raw.is_object()) return error("indexes", "has an " + which + " that is not a mapping", example);
  TableIndex index;
  for (const auto& [key, value] : raw.items()) {
    if (key == "columns") {
      const Json list = value.is_string() ? Json::array({value}) : value;
      if (!list.is_array()) return error("indexes", which + ": columns must be a list of column names", example);
      for (const auto& c : list) {
        if (!c.is_string() || trim(c.get<std::string>()).empty())
          return error("indexes", which + ": columns must hold only non-empty column names", example);
        index.columns.push_back(c.get<std::string>());
      }
    } else if (key == "unique") {
      if (!value.is_boolean())
        return error("indexes", which + ": unique must be true or false, not " + value.dump(), example);
      index.unique = value.get<bool>();
    } else if (key == "type") {
      if (!value.is_null() && (!value.is_string() || value.get<std::string>().empty()))
        return error("indexes", which + ": type must be an index method's name, not " + value.dump(),
                     "use one of " + listed(kBuiltinIndexMethods) + ", or an access method an extension adds");
      if (value.is_string()) index.type = to_lower(value.get<std::string>());
    } else {
      return error("indexes", which + " has '" + key + "', which is not an index setting",
                   "an index takes columns, unique and type");
    }
  }
  if (index.columns.empty()) return error("indexes", which + " has no columns", example);
  return index;
}

Status read_postgres(const Node& n, const ConfigErrors& error, TableConfig& out) {
  const Json& unlogged = config_value(n, "unlogged");
  if (!unlogged.is_null()) {
    if (!unlogged.is_boolean())
      return error("unlogged", "must be true or false, not " + unlogged.dump(), "e.g. unlogged: true");
    out.unlogged = unlogged.get<bool>();
  }
  const Json& indexes = config_value(n, "indexes");
  if (indexes.is_null()) return ok_status();
  if (!indexes.is_array())
    return error("indexes", "must be a list of indexes",
                 "e.g. indexes: [{columns: [customer_id], unique: true, type: btree}]");
  for (size_t i = 0; i < indexes.size(); ++i) {
    STRATA_ASSIGN(TableIndex index, parse_index(indexes[i], i, error));
    out.indexes.push_back(std::move(index));
  }
  return ok_status();
}

// ---- BigQuery ----

// An integer of partition_by.range (a JSON integer, or a float with no fraction).
bool as_integer(const Json& v, long long& out) {
  if (v.is_number_integer()) {
    out = v.get<long long>();
    return true;
  }
  if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()) {
    out = static_cast<long long>(v.get<double>());
    return true;
  }
  return false;
}

// `partition_by`'s expression as dbt-bigquery renders it: the field itself for a day-partitioned
// date or an integer range's bucket, else `<data_type>_trunc(field, granularity)`.
Result<std::string> partition_expression(const Json& raw, const ConfigErrors& error) {
  const std::string example = "e.g. partition_by: {field: created_at, data_type: timestamp, granularity: day}";
  if (!raw.is_object()) return error("partition_by", "must be a mapping", example);
  std::string field, data_type = "date", granularity = "day";
  const Json* range = nullptr;
  for (const auto& [key, value] : raw.items()) {
    if (key == "field") {
      if (!value.is_string() || trim(value.get<std::string>()).empty())
        return error("partition_by", "needs a field: the column to partition by", example);
      field = value.get<std::string>();
    } else if (key == "data_type") {
      data_type = value.is_string() ? to_lower(value.get<std::string>()) : value.dump();
      if (!one_of(kPartitionDataTypes, data_type))
        return error("partition_by", "has data_type '" + data_type + "', which BigQuery cannot partition by",
                     "use one of " + listed(kPartitionDataTypes));
    } else if (key == "granularity") {
      granularity = value.is_string() ? to_lower(value.get<std::string>()) : value.dump();
      if (!one_of(kGranularities, granularity))
        return error("partition_by", "has granularity '" + granularity + "', which is not a partition granularity",
                     "use one of " + listed(kGranularities));
    } else if (key == "range") {
      range = &value;
    } else if (key == "time_ingestion_partitioning") {
      if (value == true)
        return error("partition_by", "sets time_ingestion_partitioning, which Strata does not support yet",
                     "partition by a column of the model instead");
    } else if (key != "copy_partitions") {
      return error("partition_by", "has '" + key + "', which is not a partition_by setting",
                   "partition_by takes field, data_type, granularity and range");
    }
  }
  if (field.empty()) return error("partition_by", "needs a field: the column to partition by", example);
  if (data_type == "int64") {
    const std::string range_example =
        "e.g. partition_by: {field: id, data_type: int64, range: {start: 0, end: 100000, interval: 1000}}";
    if (range == nullptr || !range->is_object())
      return error("partition_by", "partitions an int64 field and needs range: {start, end, interval}", range_example);
    long long bounds[3] = {0, 0, 0};
    const char* names[3] = {"start", "end", "interval"};
    for (int i = 0; i < 3; ++i)
      if (!range->contains(names[i]) || !as_integer((*range)[names[i]], bounds[i]))
        return error("partition_by", std::string("range needs an integer ") + names[i], range_example);
    if (bounds[2] <= 0 || bounds[1] <= bounds[0])
      return error("partition_by", "range must have start < end and a positive interval", range_example);
    return "range_bucket(" + field + ", generate_array(" + std::to_string(bounds[0]) + ", " +
           std::to_string(bounds[1]) + ", " + std::to_string(bounds[2]) + "))";
  }
  if (range != nullptr)
    return error("partition_by", "has a range but data_type '" + data_type + "'",
                 "a range partitions an int64 field: set data_type: int64");
  if (data_type == "date" && granularity == "hour")
    return error("partition_by", "partitions a date by hour", "use day, month or year, or a timestamp field");
  if (data_type == "date" && granularity == "day") return field;
  return data_type + "_trunc(" + field + ", " + granularity + ")";
}

Result<std::vector<std::string>> cluster_columns(const Json& raw, const ConfigErrors& error) {
  const std::string hint = "e.g. cluster_by: [customer_id, status] (at most " + std::to_string(kMaxClusterColumns) +
                           " columns)";
  const Json list = raw.is_string() ? Json::array({raw}) : raw;
  if (!list.is_array() || list.empty()) return error("cluster_by", "must be a column or a list of columns", hint);
  std::vector<std::string> out;
  for (const auto& c : list) {
    if (!c.is_string() || trim(c.get<std::string>()).empty())
      return error("cluster_by", "must hold only non-empty column names", hint);
    out.push_back(c.get<std::string>());
  }
  if (out.size() > kMaxClusterColumns)
    return error("cluster_by", "lists " + std::to_string(out.size()) + " columns; BigQuery clusters by at most " +
                                   std::to_string(kMaxClusterColumns),
                 hint);
  return out;
}

// Whether `text` may be a BigQuery label key (`key`) or value: lower-case letters, digits, `_`
// and `-` (international letters too), at most 63 characters; a key starts with a letter.
bool valid_label(const std::string& text, bool key) {
  if (text.size() > 63 || (key && text.empty())) return false;
  for (unsigned char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c >= 0x80;
    if (!ok) return false;
  }
  if (!key) return true;
  const char first = text[0];
  return !(first >= '0' && first <= '9') && first != '_' && first != '-';
}

Result<std::string> labels_option(const Json& raw, const sql::Dialect& d, const ConfigErrors& error) {
  const std::string hint =
      "labels are a mapping of keys to values of lower-case letters, digits, _ and - (at most 63 characters; keys "
      "start with a letter), e.g. labels: {team: analytics}";
  if (!raw.is_object()) return error("labels", "must be a mapping", hint);
  std::string pairs;
  for (const auto& [key, value] : raw.items()) {
    if (!(value.is_string() || value.is_number() || value.is_boolean()))
      return error("labels", "has a value for '" + key + "' that is not a string", hint);
    const std::string text = scalar_text(value);
    if (!valid_label(key, true)) return error("labels", "has the key '" + key + "', which BigQuery does not allow", hint);
    if (!valid_label(text, false))
      return error("labels", "has the value '" + text + "' for '" + key + "', which BigQuery does not allow", hint);
    pairs += (pairs.empty() ? "" : ", ") + std::string("(") + d.quote_string(key) + ", " + d.quote_string(text) + ")";
  }
  return "[" + pairs + "]";
}

Status read_bigquery(const Node& n, const sql::Dialect& d, const ConfigErrors& error, TableConfig& out) {
  const Json& partition = config_value(n, "partition_by");
  if (!partition.is_null()) {
    STRATA_ASSIGN(out.partition_by, partition_expression(partition, error));
  }
  const Json& cluster = config_value(n, "cluster_by");
  if (!cluster.is_null()) {
    STRATA_ASSIGN(out.cluster_by, cluster_columns(cluster, error));
  }
  // OPTIONS(...) in dbt-bigquery's order: labels, then the partition options.
  const Json& labels = config_value(n, "labels");
  if (!labels.is_null() && !(labels.is_object() && labels.empty())) {
    STRATA_ASSIGN(std::string rendered, labels_option(labels, d, error));
    out.options.emplace_back("labels", rendered);
  }
  const Json& require = config_value(n, "require_partition_filter");
  if (!require.is_null()) {
    if (!require.is_boolean())
      return error("require_partition_filter", "must be true or false, not " + require.dump(),
                   "e.g. require_partition_filter: true");
    if (out.partition_by.empty())
      return error("require_partition_filter", "is set but the model has no partition_by",
                   "add partition_by, or remove require_partition_filter");
    out.options.emplace_back("require_partition_filter", require.get<bool>() ? "true" : "false");
  }
  const Json& expiration = config_value(n, "partition_expiration_days");
  if (!expiration.is_null()) {
    if (!expiration.is_number() || expiration.get<double>() <= 0)
      return error("partition_expiration_days", "must be a positive number of days, not " + expiration.dump(),
                   "e.g. partition_expiration_days: 90");
    if (out.partition_by.empty())
      return error("partition_expiration_days", "is set but the model has no partition_by",
                   "add partition_by, or remove partition_expiration_days");
    out.options.emplace_back("partition_expiration_days", expiration.dump());
  }
  return ok_status();
}

}  // namespace

Result<TableConfig> table_config_of(const Node& n, const sql::Dialect& dialect) {
  TableConfig out;
  const ConfigErrors error(n);
  if (dialect.id() == sql::DialectId::kPostgres) STRATA_TRY(read_postgres(n, error, out));
  if (dialect.id() == sql::DialectId::kBigQuery) STRATA_TRY(read_bigquery(n, dialect, error, out));
  return out;
}

Result<TableConfig> table_config(const Node& n, warehouse::Warehouse& wh) {
  STRATA_ASSIGN(TableConfig out, table_config_of(n, wh.dialect()));
  for (const auto& index : out.indexes) {
    if (index.type.empty() || one_of(kBuiltinIndexMethods, index.type)) continue;
    STRATA_ASSIGN(auto methods, wh.query("select amname from pg_catalog.pg_am where amtype = 'i' and amname = " +
                                         wh.dialect().quote_string(index.type)));
    if (methods.num_rows() == 0)
      return ConfigErrors(n)("indexes", "has type '" + index.type + "', which is not an index method of the server",
                             "use one of " + listed(kBuiltinIndexMethods) +
                                 ", or install the extension that adds it");
  }
  return out;
}

Result<TableConfig> index_config(const Node& n, warehouse::Warehouse& wh) {
  STRATA_ASSIGN(TableConfig all, table_config(n, wh));
  TableConfig indexes;
  indexes.indexes = std::move(all.indexes);
  return indexes;
}

std::string index_name(const std::string& relation, const TableIndex& index) {
  return md5_hex(relation + "|" + join(index.columns, ",") + "|" + (index.unique ? "unique" : "") + "|" + index.type);
}

}  // namespace strata::transform::detail

// The BigQuery bulk writer (load jobs of newline-delimited JSON) and open_bigquery().
#include <algorithm>

#include "warehouse/bigquery/bigquery_warehouse.h"
#include "warehouse/bigquery/values.h"

namespace strata::warehouse {

using bigquery::Json;

// Buffers rows as NDJSON and sends each chunk of at most load_chunk_bytes (plus one row) as a load
// job; see bigquery_warehouse.h. Not thread-safe; must not outlive its session.
class BigQueryBulkWriter final : public BulkWriter {
 public:
  BigQueryBulkWriter(BigQueryWarehouse& owner, Relation target, std::string target_sql, sql::Schema schema,
                     std::vector<std::string> names, std::vector<bool> embed_json, Json temp_fields)
      : owner_(owner), target_(std::move(target)), target_sql_(std::move(target_sql)), schema_(std::move(schema)),
        names_(std::move(names)), embed_json_(std::move(embed_json)), temp_fields_(std::move(temp_fields)),
        transactional_(owner.in_transaction_) {
    if (transactional_) temp_table_ = "strata_load_" + owner_.new_job_id().substr(7);
  }

  Status append(const sql::ColumnBatch& batch) override {
    if (failed_) return Error(ErrorCode::kInternal, "append() after a failed append() on a writer into " + target_sql_);
    if (batch.num_columns() != schema_.size()) {
      return Error(ErrorCode::kFailed, "a batch of " + std::to_string(batch.num_columns()) + " columns for a writer of " +
                                           std::to_string(schema_.size()) + " into " + target_sql_);
    }
    for (size_t i = 0; i < schema_.size(); ++i) {
      if (batch.column(i).type() != schema_[i].type) {
        return Error(ErrorCode::kFailed, "column " + names_[i] + " of a batch is " + batch.column(i).type().to_string() +
                                             "; the writer into " + target_sql_ + " expects " +
                                             schema_[i].type.to_string());
      }
    }
    for (size_t row = 0; row < batch.num_rows(); ++row) {
      Status encoded = bigquery::append_ndjson_row(batch, row, names_, buffer_, embed_json_);
      if (!encoded.ok()) {
        failed_ = true;
        return std::move(encoded).error().context("writing into " + target_sql_);
      }
      if (buffer_.size() >= owner_.settings_.tuning.load_chunk_bytes) {
        Status flushed = flush();
        if (!flushed.ok()) return failed_ = true, flushed;
      }
    }
    return ok_status();
  }

  Status finish() override {
    if (failed_) return Error(ErrorCode::kInternal, "finish() after a failed append() on a writer into " + target_sql_);
    STRATA_TRY(flush());
    if (!transactional_ || !loaded_) return ok_status();
    const sql::Dialect& d = sql::bigquery_dialect();
    std::string columns;
    for (const auto& name : names_) columns += (columns.empty() ? "" : ", ") + d.quote_identifier(name);
    return owner_.run_statement("INSERT INTO " + target_sql_ + " (" + columns + ")\nSELECT " + columns +
                                " FROM _SESSION." + d.quote_identifier(temp_table_));
  }

 private:
  Status flush() {
    if (buffer_.empty()) return ok_status();
    owner_.start_operation();
    const BigQuerySettings& s = owner_.settings_;
    Json load = {{"sourceFormat", "NEWLINE_DELIMITED_JSON"}, {"writeDisposition", "WRITE_APPEND"}};
    if (transactional_) {
      load["destinationTable"] = {{"projectId", s.project}, {"datasetId", "_SESSION"}, {"tableId", temp_table_}};
      load["createDisposition"] = "CREATE_IF_NEEDED";
      load["schema"] = {{"fields", temp_fields_}};
      load["connectionProperties"] = Json::array({{{"key", "session_id"}, {"value", owner_.session_id_}}});
    } else {
      load["destinationTable"] = {{"projectId", target_.database.empty() ? s.project : target_.database},
                                  {"datasetId", target_.schema.empty() ? s.dataset : target_.schema},
                                  {"tableId", target_.name}};
      load["createDisposition"] = "CREATE_NEVER";
    }
    Json configuration = {{"load", std::move(load)}};
    owner_.add_job_options(configuration);
    Json job = {{"jobReference", {{"projectId", s.project}, {"jobId", owner_.new_job_id()}}},
                {"configuration", std::move(configuration)}};
    if (!s.location.empty()) job["jobReference"]["location"] = s.location;
    auto inserted = owner_.rest_.upload(s.project, job, buffer_);
    if (!inserted.ok()) return std::move(inserted).error().context("loading into " + target_sql_);
    auto done = owner_.wait_job(std::move(inserted).value());
    if (!done.ok()) return std::move(done).error().context("loading into " + target_sql_);
    buffer_.clear();
    loaded_ = true;
    return ok_status();
  }

  BigQueryWarehouse& owner_;
  Relation target_;
  std::string target_sql_;
  sql::Schema schema_;
  std::vector<std::string> names_;  // destination column of each batch column
  std::vector<bool> embed_json_;
  Json temp_fields_;
  bool transactional_;
  std::string temp_table_;
  std::string buffer_;
  bool loaded_ = false;
  bool failed_ = false;
};

Result<std::unique_ptr<BulkWriter>> BigQueryWarehouse::writer(const Relation& relation, const sql::Schema& schema) {
  start_operation();
  Relation target = relation;
  if (target.database.empty()) target.database = settings_.project;
  if (target.schema.empty()) target.schema = settings_.dataset;
  const std::string target_sql = qualified_name(dialect(), target);
  STRATA_ASSIGN(std::optional<Json> table, get_table(target));
  const Json fields = table ? table->value("schema", Json::object()).value("fields", Json::array()) : Json::array();
  if (!table || fields.empty()) {
    return Error(ErrorCode::kNotFound, "table " + target_sql + " does not exist", SourceLocation{},
                 "create it before writing into it");
  }
  // By name when every name is the table's, else by position.
  std::vector<const Json*> targets;
  for (const auto& column : schema) {
    auto it = std::find_if(fields.begin(), fields.end(),
                           [&](const Json& f) { return f.value("name", std::string()) == column.name; });
    if (it == fields.end()) break;
    targets.push_back(&*it);
  }
  if (targets.size() != schema.size()) {
    if (schema.size() != fields.size()) {
      return Error(ErrorCode::kFailed, "writing " + std::to_string(schema.size()) + " columns into " + target_sql +
                                           ", which has " + std::to_string(fields.size()) +
                                           " and not every name matches one of them");
    }
    targets.clear();
    for (const Json& f : fields) targets.push_back(&f);
  }
  std::vector<std::string> names;
  std::vector<bool> embed;
  Json temp_fields = Json::array();
  for (const Json* field : targets) {
    names.push_back(field->value("name", std::string()));
    embed.push_back(field->value("type", std::string()) == "JSON");
    Json copy = {{"name", names.back()}, {"type", field->value("type", std::string("STRING"))}};
    copy["mode"] = field->value("mode", std::string()) == "REPEATED" ? "REPEATED" : "NULLABLE";
    for (const char* key : {"fields", "precision", "scale"}) {
      if (field->contains(key)) copy[key] = (*field)[key];
    }
    temp_fields.push_back(std::move(copy));
  }
  return std::unique_ptr<BulkWriter>(std::make_unique<BigQueryBulkWriter>(
      *this, std::move(target), target_sql, schema, std::move(names), std::move(embed), std::move(temp_fields)));
}

Result<std::unique_ptr<Database>> open_bigquery(const TargetConfig& target, SecretMasker* masker,
                                                BigQueryTuning tuning) {
  if (!tuning.env) tuning.env = process_env();
  STRATA_ASSIGN(std::shared_ptr<bigquery::Credentials> credentials,
                bigquery::make_credentials(target, tuning.env, masker));
  BigQuerySettings settings;
  settings.project = target.project;
  settings.dataset = target.schema;
  settings.location = target.location;
  settings.priority = target.priority;
  settings.maximum_bytes_billed = target.maximum_bytes_billed;
  settings.job_execution_timeout_seconds = target.job_execution_timeout_seconds;
  settings.labels = target.labels;
  std::string endpoint = target.api_endpoint;
  if (endpoint.empty()) endpoint = tuning.env("STRATA_BIGQUERY_API_URL").value_or("");
  settings.rest.root = bigquery::api_root(endpoint);
  settings.rest.job_retries = std::max(0, target.job_retries);
  settings.rest.first_backoff = tuning.first_backoff;
  settings.tuning = tuning;
  // A first token now reports bad credentials at open, as an unreachable PostgreSQL server is.
  auto token = credentials->access_token();
  if (!token.ok()) {
    return Error(token.error().code(), "cannot open " + target.describe() + ": " + token.error().message(),
                 SourceLocation{}, token.error().hint());
  }
  return std::unique_ptr<Database>(std::make_unique<BigQueryDatabase>(std::move(settings), std::move(credentials), masker));
}

}  // namespace strata::warehouse

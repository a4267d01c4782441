#include "warehouse/bigquery/bigquery_warehouse.h"

#include <thread>

#include "common/strings.h"
#include "warehouse/bigquery/values.h"

namespace strata::warehouse {

using bigquery::Json;
using bigquery::url_encode;

namespace {

// Long-poll budget of one jobs.query / getQueryResults call.
constexpr long kQueryWaitMs = 10000;

bool is_not_found(const Error& error) { return error.state() == "notFound" || error.state() == "NOT_FOUND"; }

}  // namespace

BigQueryDatabase::BigQueryDatabase(BigQuerySettings settings, std::shared_ptr<bigquery::Credentials> credentials,
                                   SecretMasker* masker)
    : settings_(std::move(settings)), credentials_(std::move(credentials)), masker_(masker) {}

Result<std::unique_ptr<Warehouse>> BigQueryDatabase::connect() {
  return std::unique_ptr<Warehouse>(std::make_unique<BigQueryWarehouse>(settings_, credentials_, masker_));
}

BigQueryWarehouse::BigQueryWarehouse(const BigQuerySettings& settings,
                                     std::shared_ptr<bigquery::Credentials> credentials, SecretMasker* masker)
    : settings_(settings), credentials_(credentials), masker_(masker), rest_(settings.rest, std::move(credentials), masker),
      random_(std::random_device{}()) {}

void BigQueryWarehouse::start_operation() {
  interrupted_.store(false);
  rest_.reset_abort();
}

std::string BigQueryWarehouse::new_job_id() {
  static const char* kHex = "0123456789abcdef";
  std::string id = "strata_";
  for (int i = 0; i < 2; ++i) {
    uint64_t bits = random_();
    for (int j = 0; j < 16; ++j, bits >>= 4) id += kHex[bits & 15];
  }
  return id;
}

std::string BigQueryWarehouse::project_path() const { return "/projects/" + url_encode(settings_.project); }

std::string BigQueryWarehouse::location_param(const std::string& location, char first) const {
  if (location.empty()) return "";
  return std::string(1, first) + "location=" + url_encode(location);
}

Json BigQueryWarehouse::query_configuration(std::string_view sql, bool create_session) const {
  Json query = {{"query", std::string(sql)}, {"useLegacySql", false}};
  if (settings_.priority == "batch") query["priority"] = "BATCH";
  if (settings_.maximum_bytes_billed > 0) query["maximumBytesBilled"] = std::to_string(settings_.maximum_bytes_billed);
  if (create_session) query["createSession"] = true;
  if (!session_id_.empty()) {
    query["connectionProperties"] = Json::array({{{"key", "session_id"}, {"value", session_id_}}});
  }
  return query;
}

void BigQueryWarehouse::add_job_options(Json& configuration) const {
  if (!settings_.labels.empty()) configuration["labels"] = settings_.labels;
  if (settings_.job_execution_timeout_seconds > 0) {
    configuration["jobTimeoutMs"] = std::to_string(static_cast<long long>(settings_.job_execution_timeout_seconds) * 1000);
  }
}

bool BigQueryWarehouse::timed_out(std::chrono::steady_clock::time_point started) const {
  return settings_.job_execution_timeout_seconds > 0 &&
         std::chrono::steady_clock::now() - started > std::chrono::seconds(settings_.job_execution_timeout_seconds);
}

Error BigQueryWarehouse::timeout_error() const {
  return Error(ErrorCode::kCancelled,
               "the BigQuery job ran longer than job_execution_timeout_seconds (" +
                   std::to_string(settings_.job_execution_timeout_seconds) + " s) and was cancelled",
               SourceLocation{}, "raise job_execution_timeout_seconds in profiles.yml, or make the query cheaper");
}

void BigQueryWarehouse::cancel_job(const JobRef& job) {
  if (job.id.empty()) return;
  bigquery::RestSettings rest = settings_.rest;
  rest.job_retries = 0;
  rest.request_timeout_ms = 30000;
  bigquery::RestClient canceller(rest, credentials_, masker_);
  (void)canceller.call("POST", project_path() + "/jobs/" + url_encode(job.id) + "/cancel" + location_param(job.location),
                       nullptr);  // best effort: the waiting call fails with kCancelled either way
}

Result<Json> BigQueryWarehouse::wait_job(Json job) {
  const auto started = std::chrono::steady_clock::now();
  JobRef ref{job["jobReference"].value("jobId", std::string()), job["jobReference"].value("location", settings_.location)};
  {
    std::lock_guard lock(job_mutex_);
    running_ = ref;
  }
  auto clear = [&] {
    std::lock_guard lock(job_mutex_);
    running_ = {};
  };
  auto interval = std::chrono::milliseconds(50);
  while (job.value("status", Json::object()).value("state", std::string()) != "DONE") {
    if (interrupted_.load()) return clear(), Error(ErrorCode::kCancelled, "the query was cancelled");
    if (timed_out(started)) {
      clear();
      cancel_job(ref);
      return timeout_error();
    }
    std::this_thread::sleep_for(interval);
    interval = std::min(interval * 2, settings_.tuning.max_poll_interval);
    auto polled = rest_.call("GET", project_path() + "/jobs/" + url_encode(ref.id) + location_param(ref.location), nullptr);
    if (!polled.ok()) return clear(), std::move(polled).error();
    job = std::move(polled).value();
  }
  clear();
  const Json& status = job["status"];
  if (status.contains("errorResult") && status["errorResult"].is_object()) {
    return bigquery::job_error(status["errorResult"], rest_.masker());
  }
  return job;
}

Result<Json> BigQueryWarehouse::run_job(Json configuration) {
  add_job_options(configuration);
  Json job = {{"jobReference", {{"projectId", settings_.project}, {"jobId", new_job_id()}}},
              {"configuration", std::move(configuration)}};
  if (!settings_.location.empty()) job["jobReference"]["location"] = settings_.location;
  auto inserted = rest_.call("POST", project_path() + "/jobs", &job);
  if (!inserted.ok()) {
    // A retried insert that had gone through the first time: the job exists; wait for it.
    if (inserted.error().state() != "duplicate") return std::move(inserted).error();
    inserted = Json{{"jobReference", job["jobReference"]}, {"status", {{"state", "RUNNING"}}}};
  }
  return wait_job(std::move(inserted).value());
}

Status BigQueryWarehouse::run_statement(std::string_view sql, bool create_session) {
  STRATA_ASSIGN(Json job, run_job({{"query", query_configuration(sql, create_session)}}));
  if (create_session) {
    const Json& stats = job.value("statistics", Json::object());
    session_id_ = stats.value("sessionInfo", Json::object()).value("sessionId", std::string());
    if (session_id_.empty()) return Error(ErrorCode::kFailed, "BigQuery created no session for the transaction");
  }
  return ok_status();
}

Status BigQueryWarehouse::execute(std::string_view sql) {
  start_operation();
  return run_statement(sql);
}

Status BigQueryWarehouse::query_stream(std::string_view sql,
                                       const std::function<Status(const sql::ColumnBatch&)>& on_batch) {
  start_operation();
  const auto started = std::chrono::steady_clock::now();
  const long page_rows = settings_.tuning.page_rows;
  Json page;
  if (settings_.priority == "batch") {
    // jobs.query runs interactive queries only: a batch query is a job whose results are read.
    Json configuration = {{"query", query_configuration(sql, false)}};
    add_job_options(configuration);
    Json job = {{"jobReference", {{"projectId", settings_.project}, {"jobId", new_job_id()}}},
                {"configuration", std::move(configuration)}};
    if (!settings_.location.empty()) job["jobReference"]["location"] = settings_.location;
    STRATA_ASSIGN(Json inserted, rest_.call("POST", project_path() + "/jobs", &job));
    page = Json{{"jobReference", inserted["jobReference"]}, {"jobComplete", false}};
  } else {
    Json request = query_configuration(sql, false);
    request["formatOptions"] = {{"useInt64Timestamp", true}};
    request["timeoutMs"] = kQueryWaitMs;
    request["requestId"] = new_job_id();
    if (!settings_.location.empty()) request["location"] = settings_.location;
    if (page_rows > 0) request["maxResults"] = page_rows;
    if (!settings_.labels.empty()) request["labels"] = settings_.labels;
    STRATA_ASSIGN(page, rest_.call("POST", project_path() + "/queries", &request));
  }
  const Json reference = page.value("jobReference", Json::object());
  JobRef ref{reference.value("jobId", std::string()), reference.value("location", settings_.location)};
  {
    std::lock_guard lock(job_mutex_);
    running_ = ref;
  }
  struct Clear {
    BigQueryWarehouse* self;
    ~Clear() {
      std::lock_guard lock(self->job_mutex_);
      self->running_ = {};
    }
  } clear{this};

  auto results_path = [&](const std::string& token) {
    std::string path = project_path() + "/queries/" + url_encode(ref.id) + "?formatOptions.useInt64Timestamp=true" +
                       location_param(ref.location, '&');
    if (page_rows > 0) path += "&maxResults=" + std::to_string(page_rows);
    if (token.empty()) return path + "&timeoutMs=" + std::to_string(kQueryWaitMs);
    return path + "&pageToken=" + url_encode(token);
  };
  while (!page.value("jobComplete", false)) {
    if (interrupted_.load()) return Error(ErrorCode::kCancelled, "the query was cancelled");
    if (timed_out(started)) {
      cancel_job(ref);
      return timeout_error();
    }
    STRATA_ASSIGN(page, rest_.call("GET", results_path(""), nullptr));
  }
  const Json fields = page.value("schema", Json::object()).value("fields", Json::array());
  const sql::Schema schema = bigquery::schema_from_json(page.value("schema", Json::object()));
  bool any_batch = false;
  while (true) {
    sql::ColumnBatch batch(schema);
    for (const Json& row : page.value("rows", Json::array())) {
      STRATA_TRY(bigquery::append_row(fields, row, batch));
      if (batch.num_rows() >= sql::kBatchRows) {
        STRATA_TRY(on_batch(batch));
        any_batch = true;
        batch = sql::ColumnBatch(schema);
      }
    }
    if (batch.num_rows() > 0) {
      STRATA_TRY(on_batch(batch));
      any_batch = true;
    }
    const std::string token = page.value("pageToken", std::string());
    if (token.empty()) break;
    if (interrupted_.load()) return Error(ErrorCode::kCancelled, "the query was cancelled");
    STRATA_ASSIGN(page, rest_.call("GET", results_path(token), nullptr));
  }
  // A result without rows still tells its columns (query() keeps them through an empty batch).
  if (!any_batch && !schema.empty()) STRATA_TRY(on_batch(sql::ColumnBatch(schema)));
  return ok_status();
}

Result<QueryResult> BigQueryWarehouse::query(std::string_view sql) {
  QueryResult out;
  bool first = true;
  STRATA_TRY(query_stream(sql, [&](const sql::ColumnBatch& batch) -> Status {
    if (first) out.schema = batch.schema(), first = false;
    if (batch.num_rows() > 0) out.batches.push_back(batch);
    return ok_status();
  }));
  return out;
}

Status BigQueryWarehouse::begin() {
  start_operation();
  if (in_transaction_) return Error(ErrorCode::kFailed, "begin() inside an open BigQuery transaction");
  STRATA_TRY(run_statement("BEGIN TRANSACTION", session_id_.empty()));
  in_transaction_ = true;
  return ok_status();
}

Status BigQueryWarehouse::commit() {
  start_operation();
  if (!in_transaction_) return Error(ErrorCode::kFailed, "commit() without an open BigQuery transaction");
  in_transaction_ = false;
  return run_statement("COMMIT TRANSACTION");
}

Status BigQueryWarehouse::rollback() {
  start_operation();
  if (!in_transaction_) return Error(ErrorCode::kFailed, "rollback() without an open BigQuery transaction");
  in_transaction_ = false;
  Status rolled = run_statement("ROLLBACK TRANSACTION");
  if (!rolled.ok() && rolled.error().code() == ErrorCode::kFailed) {
    const std::string message = to_lower(rolled.error().message());
    if (message.find("transaction") != std::string::npos &&
        (message.find("no ") != std::string::npos || message.find("not ") != std::string::npos)) {
      return ok_status();  // BigQuery had already rolled it back
    }
  }
  return rolled;
}

std::string BigQueryWarehouse::table_path(const Relation& relation) const {
  const std::string& project = relation.database.empty() ? settings_.project : relation.database;
  const std::string& dataset = relation.schema.empty() ? settings_.dataset : relation.schema;
  return "/projects/" + url_encode(project) + "/datasets/" + url_encode(dataset) + "/tables/" + url_encode(relation.name);
}

Result<std::optional<Json>> BigQueryWarehouse::get_table(const Relation& relation) {
  auto table = rest_.call("GET", table_path(relation), nullptr);
  if (!table.ok()) {
    if (is_not_found(table.error())) return std::optional<Json>();
    return std::move(table).error();
  }
  return std::optional<Json>(std::move(table).value());
}

Result<std::vector<RelationInfo>> BigQueryWarehouse::relations(std::string_view schema) {
  start_operation();
  const std::string dataset = schema.empty() ? settings_.dataset : std::string(schema);
  std::vector<RelationInfo> out;
  std::string token;
  do {
    std::string path = project_path() + "/datasets/" + url_encode(dataset) + "/tables?maxResults=1000";
    if (!token.empty()) path += "&pageToken=" + url_encode(token);
    auto listed = rest_.call("GET", path, nullptr);
    if (!listed.ok()) {
      if (is_not_found(listed.error())) return out;  // no such dataset: nothing in it
      return std::move(listed).error();
    }
    for (const Json& table : listed->value("tables", Json::array())) {
      const Json ref = table.value("tableReference", Json::object());
      RelationInfo info;
      info.relation = {ref.value("projectId", settings_.project), ref.value("datasetId", dataset),
                       ref.value("tableId", std::string())};
      const std::string type = table.value("type", std::string("TABLE"));
      info.kind = type == "VIEW" || type == "MATERIALIZED_VIEW" ? RelationKind::kView : RelationKind::kTable;
      out.push_back(std::move(info));
    }
    token = listed->value("nextPageToken", std::string());
  } while (!token.empty());
  std::sort(out.begin(), out.end(),
            [](const RelationInfo& a, const RelationInfo& b) { return a.relation.name < b.relation.name; });
  return out;
}

Result<std::vector<ColumnInfo>> BigQueryWarehouse::columns(const Relation& relation) {
  start_operation();
  STRATA_ASSIGN(std::optional<Json> table, get_table(relation));
  std::vector<ColumnInfo> out;
  if (!table) return out;
  for (const Json& field : table->value("schema", Json::object()).value("fields", Json::array())) {
    out.push_back({field.value("name", std::string()), bigquery::field_type(field), bigquery::field_native_type(field),
                   field.value("mode", std::string()) != "REQUIRED"});
  }
  return out;
}

Result<bool> BigQueryWarehouse::table_exists(const Relation& relation) {
  start_operation();
  STRATA_ASSIGN(std::optional<Json> table, get_table(relation));
  if (!table) return false;
  const std::string type = table->value("type", std::string("TABLE"));
  return type != "VIEW" && type != "MATERIALIZED_VIEW";
}

void BigQueryWarehouse::interrupt() {
  interrupted_.store(true);
  JobRef job;
  {
    std::lock_guard lock(job_mutex_);
    job = running_;
  }
  rest_.abort();
  cancel_job(job);
}

}  // namespace strata::warehouse

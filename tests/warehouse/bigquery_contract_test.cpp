// Contract test of the BigQuery adapter: the real adapter (libcurl, OpenSSL, the JWT grant, the
// REST calls, type conversion, load jobs) against an in-process fake of BigQuery's REST API and
// Google's token endpoint (bigquery_fake.h), whose answers follow BigQuery's REST reference.
// BigQuery itself cannot be reached from tests; what this checks is that the adapter sends what
// BigQuery's API expects and reads what it documents.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>

#include "bigquery_fake.h"
#include "common/strings.h"
#include "support/temp_dir.h"
#include "warehouse/bigquery/bigquery_warehouse.h"
#include "warehouse/bigquery/values.h"
#include "warehouse/profile.h"

namespace strata::warehouse {
namespace {

using testing::FakeBigQuery;
using testing::Json;
using testing::TestKey;

const TestKey& test_key() {
  static const TestKey key = TestKey::generate();  // one RSA key per test process, made at run time
  return key;
}

constexpr const char* kEmail = "loader@strata-test.iam.gserviceaccount.com";

class BigQueryContract : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_ = std::make_unique<FakeBigQuery>(test_key().public_pem);
    const Json key = {{"type", "service_account"},
                      {"project_id", "strata-test"},
                      {"private_key_id", "kid-1"},
                      {"private_key", test_key().private_pem},
                      {"client_email", kEmail},
                      {"client_id", "1234"},
                      {"token_uri", fake_->token_uri()}};
    keyfile_ = dir_.file("key.json");
    std::ofstream(keyfile_) << key.dump(2);
  }

  // The dev target of a profiles.yml with `extra` lines added to it.
  TargetConfig target(const std::string& extra = "") {
    const std::string yaml = "bq:\n  target: dev\n  outputs:\n    dev:\n      type: bigquery\n"
                             "      method: service-account\n      project: strata-test\n      dataset: analytics\n"
                             "      keyfile: " + keyfile_ + "\n      location: EU\n      maximum_bytes_billed: 1000000000\n"
                             "      labels: {team: data}\n      api_endpoint: " + fake_->root() + "/bigquery/v2\n" + extra;
    ProfileOptions options;
    options.project_dir = dir_.path();
    options.profile_name = "bq";
    options.env = map_env({});
    options.masker = &masker_;
    auto t = parse_target(yaml, "profiles.yml", options);
    EXPECT_TRUE(t.ok()) << t.error().to_string();
    return *t;
  }

  BigQueryTuning tuning() {
    BigQueryTuning t;
    t.first_backoff = std::chrono::milliseconds(10);
    t.max_poll_interval = std::chrono::milliseconds(20);
    t.env = map_env({});
    return t;
  }

  std::unique_ptr<Warehouse> session(const TargetConfig& t, BigQueryTuning tune) {
    auto db = open_bigquery(t, &masker_, std::move(tune));
    EXPECT_TRUE(db.ok()) << db.error().to_string();
    database_ = std::move(db).value();
    auto s = database_->connect();
    EXPECT_TRUE(s.ok());
    return std::move(s).value();
  }
  std::unique_ptr<Warehouse> session(const std::string& extra = "") { return session(target(extra), tuning()); }

  // Fails when any secret appears in text.
  void expect_no_secret(const std::string& text) {
    EXPECT_EQ(text.find("PRIVATE KEY"), std::string::npos) << text;
    EXPECT_EQ(text.find(test_key().private_pem.substr(40, 40)), std::string::npos) << text;
    for (const auto& token : fake_->issued_tokens()) EXPECT_EQ(text.find(token), std::string::npos) << text;
  }

  strata::testing::TempDir dir_;
  std::string keyfile_;
  SecretMasker masker_;
  std::unique_ptr<FakeBigQuery> fake_;
  std::unique_ptr<Database> database_;
};

TEST_F(BigQueryContract, ServiceAccountJwtIsSignedAndItsTokenAuthorisesEveryRequest) {
  auto wh = session();
  auto result = wh->query("select 1");
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  ASSERT_EQ(result->num_rows(), 1u);
  EXPECT_EQ(result->cell_text(0, 0), "1");

  // The fake verified the RS256 signature with the public key; the claims are Google's.
  const auto claims = fake_->jwt_claims();
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0]["iss"], kEmail);
  EXPECT_EQ(claims[0]["scope"], "https://www.googleapis.com/auth/bigquery");
  EXPECT_EQ(claims[0]["aud"], fake_->token_uri());
  const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(std::llabs(claims[0]["iat"].get<long long>() - now), 60);
  EXPECT_EQ(claims[0]["exp"].get<long long>() - claims[0]["iat"].get<long long>(), 3600);

  const auto queries = fake_->requests_to("/queries");
  ASSERT_EQ(queries.size(), 1u);
  EXPECT_EQ(queries[0].authorization, "Bearer ya29.fake-access-token-1");
  EXPECT_EQ(queries[0].path, "/bigquery/v2/projects/strata-test/queries");
  EXPECT_EQ(queries[0].json["useLegacySql"], false);
  EXPECT_EQ(queries[0].json["location"], "EU");
  EXPECT_EQ(queries[0].json["formatOptions"]["useInt64Timestamp"], true);
  EXPECT_EQ(queries[0].json["maximumBytesBilled"], "1000000000");
  EXPECT_EQ(queries[0].json["labels"]["team"], "data");
  // The private key and the token went to the masker.
  EXPECT_EQ(masker_.mask(test_key().private_pem), "****");
  EXPECT_EQ(masker_.mask("ya29.fake-access-token-1"), "****");
}

TEST_F(BigQueryContract, TokenIsCachedThenRefreshedAfterItExpires) {
  auto wh = session();
  ASSERT_TRUE(wh->query("select 1").ok());
  ASSERT_TRUE(wh->query("select 1").ok());
  EXPECT_EQ(fake_->token_requests(), 1);  // open's token served both queries

  fake_->token_lifetime = 2;  // the next token lives 2 s: refreshed after 1 s
  fake_->revoke_tokens = true;  // and the cached one is refused (401): a new one is fetched once
  ASSERT_TRUE(wh->query("select 1").ok());
  EXPECT_EQ(fake_->token_requests(), 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  auto late = wh->query("select 1");
  ASSERT_TRUE(late.ok()) << late.error().to_string();
  EXPECT_EQ(fake_->token_requests(), 3);
  const auto queries = fake_->requests_to("/queries");
  EXPECT_EQ(queries.back().authorization, "Bearer ya29.fake-access-token-3");
}

TEST_F(BigQueryContract, StreamsEveryPageThroughPageTokens) {
  auto wh = session();
  std::vector<int64_t> values;
  int batches = 0;
  Status streamed = wh->query_stream("select paged", [&](const sql::ColumnBatch& batch) -> Status {
    ++batches;
    for (size_t r = 0; r < batch.num_rows(); ++r) values.push_back(batch.column(0).get<int64_t>(r));
    return ok_status();
  });
  ASSERT_TRUE(streamed.ok()) << streamed.error().to_string();
  EXPECT_EQ(values, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(batches, 3);  // one per page: a page is handed on before the next is fetched
  const auto pages = fake_->requests_to("/queries/");
  ASSERT_EQ(pages.size(), 2u);
  EXPECT_EQ(pages[0].params.find("pageToken")->second, "page-from-3");
  EXPECT_EQ(pages[1].params.find("pageToken")->second, "page-from-6");
  EXPECT_EQ(pages[0].params.find("location")->second, "EU");
  EXPECT_EQ(pages[0].params.find("formatOptions.useInt64Timestamp")->second, "true");
}

TEST_F(BigQueryContract, ConvertsEveryTypeWithNullsAndRepeatedFields) {
  auto wh = session();
  auto r = wh->query("select types");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_EQ(r->num_rows(), 2u);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"INT64", "-42"},
      {"DOUBLE", "1.5"},
      {"DOUBLE", "-inf"},
      {"DOUBLE", "nan"},
      {"DECIMAL(38,9)", "123.456000000"},
      {"DECIMAL(10,2)", "-7.25"},
      {"DECIMAL(38,9)", "-0.500000000"},
      {"BOOLEAN", "true"},
      {"VARCHAR", "h\u00e9llo"},
      {"BLOB", "\\x00016162"},
      {"DATE", "2024-01-31"},
      {"TIME", "13:45:00.123456"},
      {"TIMESTAMP", "2024-01-31 13:45:00.5"},
      {"TIMESTAMPTZ", "2024-01-31 13:45:00.123456+00"},
      {"JSON", "{\"a\":1}"},
      {"LIST(INT64)", "[1, 2]"},
      {"JSON", "{\"a\":\"x\",\"b\":3}"},
      {"INTERVAL", "1 year 2 months 3 days 04:05:06.5"},
      {"VARCHAR", "POINT(1 2)"},
  };
  ASSERT_EQ(r->schema.size(), expected.size());
  for (size_t c = 0; c < expected.size(); ++c) {
    SCOPED_TRACE(r->schema[c].name);
    EXPECT_EQ(r->schema[c].type.to_string(), expected[c].first);
    EXPECT_EQ(r->cell_text(0, c), expected[c].second);
    if (c == 15) {
      EXPECT_FALSE(r->is_null(1, c));
      EXPECT_EQ(r->cell_text(1, c), "[]");
    } else {
      EXPECT_TRUE(r->is_null(1, c));
    }
  }
  // Without useInt64Timestamp BigQuery sends float seconds.
  const Json field = {{"name", "ts"}, {"type", "TIMESTAMP"}, {"mode", "NULLABLE"}};
  sql::ColumnBatch batch({{"ts", sql::LogicalType::timestamptz()}});
  ASSERT_TRUE(bigquery::append_row(Json::array({field}), {{"f", Json::array({{{"v", "1.7067087001E9"}}})}}, batch).ok());
  EXPECT_EQ(batch.column(0).get<int64_t>(0), 1706708700100000);
  // A BIGNUMERIC too wide for DECIMAL(38,9) fails clearly instead of losing digits.
  const Json big = {{"name", "b"}, {"type", "BIGNUMERIC"}};
  sql::ColumnBatch wide({{"b", bigquery::field_type(big)}});
  Status overflow = bigquery::append_row(Json::array({big}), {{"f", Json::array({{{"v", "0.1234567891"}}})}}, wide);
  ASSERT_FALSE(overflow.ok());
  EXPECT_NE(overflow.error().message().find("does not fit"), std::string::npos);
}

TEST_F(BigQueryContract, ExecuteInsertsAQueryJobAndPollsItUntilDone) {
  auto wh = session("      priority: batch\n      job_execution_timeout_seconds: 30\n");
  Status done = wh->execute("create table analytics.t (x int64)");
  ASSERT_TRUE(done.ok()) << done.error().to_string();
  const auto inserts = fake_->requests_to("/projects/strata-test/jobs");
  ASSERT_GE(inserts.size(), 2u);
  const Json& job = inserts[0].json;
  EXPECT_EQ(inserts[0].method, "POST");
  EXPECT_EQ(job["jobReference"]["location"], "EU");
  EXPECT_EQ(job["jobReference"]["projectId"], "strata-test");
  EXPECT_EQ(job["configuration"]["query"]["query"], "create table analytics.t (x int64)");
  EXPECT_EQ(job["configuration"]["query"]["useLegacySql"], false);
  EXPECT_EQ(job["configuration"]["query"]["priority"], "BATCH");
  EXPECT_EQ(job["configuration"]["query"]["maximumBytesBilled"], "1000000000");
  EXPECT_EQ(job["configuration"]["labels"]["team"], "data");
  EXPECT_EQ(job["configuration"]["jobTimeoutMs"], "30000");
  // The insert answered RUNNING; jobs.get was polled for the same job in the same location.
  const std::string id = job["jobReference"]["jobId"];
  EXPECT_EQ(inserts[1].method, "GET");
  EXPECT_EQ(inserts[1].path, "/bigquery/v2/projects/strata-test/jobs/" + id);
  EXPECT_EQ(inserts[1].params.find("location")->second, "EU");
}

TEST_F(BigQueryContract, InvalidQueryIsAClearErrorWithLineAndColumn) {
  auto wh = session();
  auto r = wh->query("selec 1");
  ASSERT_FALSE(r.ok());
  const Error& e = r.error();
  EXPECT_EQ(e.code(), ErrorCode::kFailed);
  EXPECT_EQ(e.exit_code(), 1);
  EXPECT_EQ(e.state(), "invalidQuery");
  EXPECT_EQ(e.where().line, 1);
  EXPECT_EQ(e.where().column, 1);
  EXPECT_NE(e.message().find("Syntax error: Unexpected identifier \"selec\" at [1:1]"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("invalidQuery"), std::string::npos);
  expect_no_secret(e.to_string());
  // A failed job's errorResult maps the same way.
  Status failed = wh->execute("select * from fail_table");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().state(), "invalidQuery");
  EXPECT_EQ(failed.error().where().column, 13);
  EXPECT_NE(failed.error().message().find("was not found"), std::string::npos);
}

TEST_F(BigQueryContract, RetriesA503ThenSucceeds) {
  auto wh = session();
  auto r = wh->query("select flaky");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->cell_text(0, 0), "1");
  EXPECT_EQ(fake_->requests_to("/queries").size(), 2u);

  // With job_retries: 0 the 503 is the answer.
  fake_->flaky_failures = 1;
  auto strict = session("      job_retries: 0\n");
  auto failed = strict->query("select flaky");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().state(), "backendError");
  EXPECT_NE(failed.error().message().find("currently unavailable"), std::string::npos);
}

TEST_F(BigQueryContract, TransactionRunsInOneSessionAndRollsBackAfterAFailure) {
  auto wh = session();
  ASSERT_TRUE(wh->begin().ok());
  EXPECT_FALSE(wh->execute("insert into analytics.t values (1); select 1/0 from fail").ok());
  ASSERT_TRUE(wh->rollback().ok());
  ASSERT_TRUE(wh->begin().ok());
  ASSERT_TRUE(wh->execute("insert into analytics.t values (2)").ok());
  ASSERT_TRUE(wh->commit().ok());

  std::vector<Json> queries;
  for (const auto& s : fake_->requests_to("/projects/strata-test/jobs")) {
    if (s.method == "POST") queries.push_back(s.json["configuration"]["query"]);
  }
  ASSERT_EQ(queries.size(), 6u);
  const std::vector<std::string> texts = {"BEGIN TRANSACTION", "insert into analytics.t values (1); select 1/0 from fail",
                                          "ROLLBACK TRANSACTION", "BEGIN TRANSACTION",
                                          "insert into analytics.t values (2)", "COMMIT TRANSACTION"};
  for (size_t i = 0; i < queries.size(); ++i) {
    SCOPED_TRACE(texts[i]);
    EXPECT_EQ(queries[i]["query"], texts[i]);
    // The first creates the session; every later one carries its id.
    EXPECT_EQ(queries[i].value("createSession", false), i == 0);
    if (i > 0) {
      EXPECT_EQ(queries[i]["connectionProperties"],
                Json::array({{{"key", "session_id"}, {"value", "sess-abc123"}}}));
    }
  }
}

sql::ColumnBatch orders_batch(int rows, int first_id) {
  sql::ColumnBatch batch({{"id", sql::LogicalType::int64()},
                          {"name", sql::LogicalType::varchar()},
                          {"amount", sql::LogicalType::decimal(12, 2)},
                          {"tags", sql::LogicalType::list(sql::LogicalType::varchar())},
                          {"payload", sql::LogicalType::json()},
                          {"at", sql::LogicalType::timestamptz()}});
  for (int i = 0; i < rows; ++i) {
    batch.column(0).append<int64_t>(first_id + i);
    if (i % 3 == 2) batch.column(1).append_null();
    else batch.column(1).append_bytes("n\"" + std::to_string(first_id + i));
    batch.column(2).append<int64_t>(-1250 - i);
    batch.column(3).child().append_bytes("t");
    batch.column(3).append_list();
    batch.column(4).append_bytes("{\"k\":[1,2]}");
    batch.column(5).append<int64_t>(1706708700123456);
  }
  return batch;
}

TEST_F(BigQueryContract, LoadSendsNdjsonInBoundedChunksByMultipartUpload) {
  BigQueryTuning small = tuning();
  small.load_chunk_bytes = 300;
  auto wh = session(target(), small);
  auto writer = wh->writer({"", "", "orders"}, orders_batch(0, 0).schema());
  ASSERT_TRUE(writer.ok()) << writer.error().to_string();
  ASSERT_TRUE((*writer)->append(orders_batch(5, 1)).ok());
  ASSERT_TRUE((*writer)->append(orders_batch(4, 6)).ok());
  ASSERT_TRUE((*writer)->finish().ok());

  const auto uploads = fake_->uploads();
  ASSERT_GE(uploads.size(), 3u);
  std::string all;
  for (const auto& [job, data] : uploads) {
    const Json& load = job["configuration"]["load"];
    EXPECT_EQ(load["sourceFormat"], "NEWLINE_DELIMITED_JSON");
    EXPECT_EQ(load["writeDisposition"], "WRITE_APPEND");
    EXPECT_EQ(load["createDisposition"], "CREATE_NEVER");
    EXPECT_EQ(load["destinationTable"],
              Json({{"projectId", "strata-test"}, {"datasetId", "analytics"}, {"tableId", "orders"}}));
    EXPECT_EQ(job["jobReference"]["location"], "EU");
    EXPECT_LT(data.size(), 300u + 200u);  // a chunk ends at the first row past the bound
    EXPECT_EQ(data.back(), '\n');
    all += data;
  }
  std::vector<std::string> lines = split(all, '\n');
  lines.pop_back();
  ASSERT_EQ(lines.size(), 9u);
  EXPECT_EQ(Json::parse(lines[0]), Json::parse(R"({"id":1,"name":"n\"1","amount":"-12.50","tags":["t"],)"
                                               R"("payload":{"k":[1,2]},"at":"2024-01-31 13:45:00.123456+00:00"})"));
  EXPECT_FALSE(Json::parse(lines[2]).contains("name"));  // NULL: left out
  EXPECT_EQ(Json::parse(lines[8])["id"], 9);
  const auto upload_requests = fake_->requests_to("/upload/bigquery/v2/projects/strata-test/jobs");
  ASSERT_EQ(upload_requests.size(), uploads.size());
  EXPECT_EQ(upload_requests[0].params.find("uploadType")->second, "multipart");
}

TEST_F(BigQueryContract, LoadInsideATransactionGoesThroughASessionTempTable) {
  auto wh = session();
  ASSERT_TRUE(wh->begin().ok());
  int calls = 0;
  Status loaded = wh->load({"", "analytics", "orders"}, orders_batch(0, 0).schema(),
                           [&]() -> Result<std::optional<sql::ColumnBatch>> {
                             if (calls++ == 0) return std::optional<sql::ColumnBatch>(orders_batch(2, 1));
                             return std::optional<sql::ColumnBatch>();
                           });
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  ASSERT_TRUE(wh->commit().ok());
  const auto uploads = fake_->uploads();
  ASSERT_EQ(uploads.size(), 1u);
  const Json& load = uploads[0].first["configuration"]["load"];
  EXPECT_EQ(load["destinationTable"]["datasetId"], "_SESSION");
  EXPECT_EQ(load["createDisposition"], "CREATE_IF_NEEDED");
  EXPECT_EQ(load["connectionProperties"], Json::array({{{"key", "session_id"}, {"value", "sess-abc123"}}}));
  EXPECT_EQ(load["schema"]["fields"][0], Json({{"name", "id"}, {"type", "INTEGER"}, {"mode", "NULLABLE"}}));
  EXPECT_EQ(load["schema"]["fields"][3]["mode"], "REPEATED");
  const std::string temp = load["destinationTable"]["tableId"];
  std::vector<std::string> statements;
  for (const auto& s : fake_->requests_to("/projects/strata-test/jobs")) {
    if (s.method == "POST" && s.json.is_object()) statements.push_back(s.json["configuration"]["query"]["query"]);
  }
  ASSERT_EQ(statements.size(), 3u);
  EXPECT_EQ(statements[1], "INSERT INTO `strata-test`.`analytics`.`orders` (`id`, `name`, `amount`, `tags`, `payload`, "
                           "`at`)\nSELECT `id`, `name`, `amount`, `tags`, `payload`, `at` FROM _SESSION.`" + temp + "`");
  EXPECT_EQ(statements[2], "COMMIT TRANSACTION");
}

TEST_F(BigQueryContract, InterruptCancelsTheRunningJob) {
  auto wh = session();
  auto running = std::async(std::launch::async, [&] { return wh->query("select slow"); });
  for (int i = 0; i < 200 && !fake_->saw_query("select slow"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // now waiting on getQueryResults
  wh->interrupt();
  ASSERT_EQ(running.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto r = running.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kCancelled);
  const auto cancels = fake_->requests_to("/cancel");
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].method, "POST");
  EXPECT_EQ(cancels[0].path.rfind("/bigquery/v2/projects/strata-test/jobs/job_q", 0), 0u);
  EXPECT_EQ(cancels[0].params.find("location")->second, "EU");
  EXPECT_EQ(cancels[0].authorization.rfind("Bearer ya29.", 0), 0u);
  // The session is usable again.
  EXPECT_TRUE(wh->query("select 1").ok());
}

TEST_F(BigQueryContract, RelationsColumnsAndTableExistence) {
  auto wh = session();
  auto rels = wh->relations("analytics");
  ASSERT_TRUE(rels.ok()) << rels.error().to_string();
  ASSERT_EQ(rels->size(), 3u);  // two pages of tables.list
  EXPECT_EQ((*rels)[0].relation.name, "customers");
  EXPECT_EQ((*rels)[2].relation.name, "orders_v");
  EXPECT_EQ((*rels)[2].kind, RelationKind::kView);
  EXPECT_EQ((*rels)[1].relation.database, "strata-test");
  auto cols = wh->columns({"", "", "orders"});
  ASSERT_TRUE(cols.ok());
  ASSERT_EQ(cols->size(), 6u);
  EXPECT_EQ((*cols)[0].native_type, "INT64");
  EXPECT_FALSE((*cols)[0].nullable);
  EXPECT_EQ((*cols)[2].type, sql::LogicalType::decimal(12, 2));
  EXPECT_EQ((*cols)[2].native_type, "NUMERIC(12, 2)");
  EXPECT_EQ((*cols)[3].native_type, "ARRAY<STRING>");
  EXPECT_TRUE(wh->columns({"", "", "missing"})->empty());
  EXPECT_TRUE(*wh->table_exists({"", "analytics", "orders"}));
  EXPECT_FALSE(*wh->table_exists({"", "analytics", "orders_v"}));
  EXPECT_FALSE(*wh->table_exists({"", "analytics", "missing"}));
  EXPECT_EQ(fake_->requests_to("/tables/orders").front().path,
            "/bigquery/v2/projects/strata-test/datasets/analytics/tables/orders");
  auto writer = wh->writer({"", "", "missing"}, orders_batch(0, 0).schema());
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.error().code(), ErrorCode::kNotFound);
}

TEST_F(BigQueryContract, RefusedCredentialsAreAConnectionErrorWithoutSecrets) {
  fake_->reject_tokens = true;  // the endpoint's error echoes the signed assertion back
  auto db = open_bigquery(target(), &masker_, tuning());
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code(), ErrorCode::kConnection);
  EXPECT_EQ(db.error().exit_code(), 3);
  const std::string text = db.error().to_string();
  EXPECT_NE(text.find("invalid_grant"), std::string::npos) << text;
  EXPECT_NE(text.find(kEmail), std::string::npos);
  expect_no_secret(text);
  EXPECT_EQ(text.find("eyJ"), std::string::npos) << text;  // no JWT
}

TEST_F(BigQueryContract, UnreachableEndpointsAreConnectionErrors) {
  TargetConfig t = target();
  t.api_endpoint = "http://127.0.0.1:1";  // nothing listens there
  auto wh = session(t, tuning());
  auto r = wh->query("select 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ErrorCode::kConnection);
  EXPECT_EQ(r.error().exit_code(), 3);
  expect_no_secret(r.error().to_string());

  // STRATA_BIGQUERY_API_URL stands in for api_endpoint.
  TargetConfig from_env = target();
  from_env.api_endpoint.clear();
  BigQueryTuning tune = tuning();
  tune.env = map_env({{"STRATA_BIGQUERY_API_URL", fake_->root()}});
  auto wh2 = session(from_env, tune);
  EXPECT_TRUE(wh2->query("select 1").ok());

  std::ofstream(keyfile_) << Json{{"type", "service_account"}, {"private_key", test_key().private_pem},
                                  {"client_email", kEmail}, {"token_uri", "http://127.0.0.1:1/token"}}
                                 .dump();
  auto db = open_bigquery(target(), &masker_, tuning());
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().exit_code(), 3);
  expect_no_secret(db.error().to_string());
}

TEST_F(BigQueryContract, OtherAuthMethodsGetTheirTokens) {
  // service-account-json: the key inline in profiles.yml.
  const std::string inline_yaml =
      "bq:\n  target: dev\n  outputs:\n    dev:\n      type: bigquery\n      method: service-account-json\n"
      "      project: strata-test\n      dataset: analytics\n      api_endpoint: " + fake_->root() + "\n"
      "      keyfile_json:\n        type: service_account\n        client_email: " + kEmail + "\n"
      "        private_key: \"{{ env_var('BQ_PRIVATE_KEY') }}\"\n        token_uri: " + fake_->token_uri() + "\n";
  SecretMasker masker;
  ProfileOptions options;
  options.profile_name = "bq";
  options.env = map_env({{"BQ_PRIVATE_KEY", test_key().private_pem}});
  options.masker = &masker;
  auto t = parse_target(inline_yaml, "profiles.yml", options);
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(masker.mask(test_key().private_pem), "****");  // registered while parsing
  auto db = open_bigquery(*t, &masker, tuning());
  ASSERT_TRUE(db.ok()) << db.error().to_string();
  EXPECT_EQ(fake_->jwt_claims().size(), 1u);

  // oauth-secrets with a ready token: used as is.
  TargetConfig token_target = *t;
  token_target.method = "oauth-secrets";
  token_target.token = "ya29.fake-access-token-1";
  auto wh = session(token_target, tuning());
  ASSERT_TRUE(wh->query("select 1").ok());
  EXPECT_EQ(fake_->token_requests(), 1);

  // oauth-secrets with a refresh token, and oauth (ADC from GOOGLE_APPLICATION_CREDENTIALS).
  TargetConfig refresh = token_target;
  refresh.token.clear();
  refresh.refresh_token = "1//refresh-secret";
  refresh.client_id = "client.apps.googleusercontent.com";
  refresh.client_secret = "client-secret-value";
  refresh.token_uri = fake_->token_uri();
  ASSERT_TRUE(session(refresh, tuning())->query("select 1").ok());
  const auto grants = fake_->requests_to("/token");
  EXPECT_NE(grants.back().body.find("grant_type=refresh_token"), std::string::npos);
  EXPECT_NE(grants.back().body.find("refresh_token=1%2F%2Frefresh-secret"), std::string::npos);

  TargetConfig adc = *t;
  adc.method = "oauth";
  BigQueryTuning tune = tuning();
  tune.env = map_env({{"GOOGLE_APPLICATION_CREDENTIALS", keyfile_}});
  ASSERT_TRUE(session(adc, tune)->query("select 1").ok());
  tune.env = map_env({{"HOME", dir_.path()}});
  auto none = open_bigquery(adc, &masker, tune);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), ErrorCode::kConfig);
}

TEST_F(BigQueryContract, OpenTargetReachesTheAdapterAndLocatesAMissingKeyFile) {
  TargetConfig t = target();
  t.api_endpoint.clear();
  std::filesystem::remove(keyfile_);
  auto db = open_target(t, &masker_);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(db.error().exit_code(), 2);
  EXPECT_EQ(db.error().where().file, "profiles.yml");
  EXPECT_EQ(db.error().where().line, 5);  // the dev target's mapping
  EXPECT_NE(db.error().message().find("key.json does not exist"), std::string::npos) << db.error().message();
}

}  // namespace
}  // namespace strata::warehouse

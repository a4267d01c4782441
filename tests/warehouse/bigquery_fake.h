#pragma once
// An in-process fake of BigQuery's REST API and Google's token endpoint, on 127.0.0.1, for the
// BigQuery adapter's contract test (BigQuery itself cannot be reached from tests). Responses are
// shaped as BigQuery's REST reference documents them (QueryResponse, GetQueryResultsResponse,
// TableSchema, Job, ErrorProto, tables.list). The token endpoint verifies each JWT's RS256 signature
// with the public half of a key generated at run time. Thread-safe: handlers run on httplib's
// threads; tests read the recorded requests through the accessors.

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "warehouse/bigquery/credentials.h"

namespace strata::warehouse::testing {

using Json = nlohmann::json;

// An RSA key made for one test run; never written anywhere but the test's temp folder.
struct TestKey {
  std::string private_pem;  // PKCS#8
  std::string public_pem;   // SubjectPublicKeyInfo

  static TestKey generate() {
    TestKey out;
    EVP_PKEY* key = EVP_RSA_gen(2048);
    BIO* priv = BIO_new(BIO_s_mem());
    BIO* pub = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr);
    PEM_write_bio_PUBKEY(pub, key);
    char* data = nullptr;
    long n = BIO_get_mem_data(priv, &data);
    out.private_pem.assign(data, static_cast<size_t>(n));
    n = BIO_get_mem_data(pub, &data);
    out.public_pem.assign(data, static_cast<size_t>(n));
    BIO_free(priv);
    BIO_free(pub);
    EVP_PKEY_free(key);
    return out;
  }
};

// Verifies an RS256 signature of `input` with a PEM public key.
inline bool verify_rs256(const std::string& public_pem, const std::string& input, const std::string& signature) {
  BIO* bio = BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (!key) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

// One request the fake received.
struct Seen {
  std::string method, path, authorization, body;
  std::multimap<std::string, std::string> params;
  Json json;  // body parsed (null when not JSON)
};

class FakeBigQuery {
 public:
  explicit FakeBigQuery(std::string public_pem) : public_pem_(std::move(public_pem)) {
    routes();
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // stop() only stops a server that is running: wait for the accept loop.
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeBigQuery() {
    server_.stop();
    thread_.join();
  }

  std::string root() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string token_uri() const { return root() + "/token"; }

  // Knobs.
  std::atomic<int> token_lifetime{3600};
  std::atomic<bool> reject_tokens{false};  // the token endpoint answers invalid_grant, echoing the assertion
  std::atomic<int> flaky_failures{1};      // 503s before "select flaky" succeeds
  std::atomic<bool> revoke_tokens{false};  // every issued token becomes invalid (401) once

  std::vector<Seen> requests() const {
    std::lock_guard lock(mutex_);
    return seen_;
  }
  std::vector<Seen> requests_to(const std::string& fragment) const {
    std::vector<Seen> out;
    for (const auto& s : requests())
      if (s.path.find(fragment) != std::string::npos) out.push_back(s);
    return out;
  }
  std::vector<Json> jwt_claims() const {
    std::lock_guard lock(mutex_);
    return claims_;
  }
  int token_requests() const {
    std::lock_guard lock(mutex_);
    return token_requests_;
  }
  std::vector<std::string> issued_tokens() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& [token, expiry] : tokens_) out.push_back(token);
    return out;
  }
  // Load jobs received: (Job JSON, data part).
  std::vector<std::pair<Json, std::string>> uploads() const {
    std::lock_guard lock(mutex_);
    return uploads_;
  }
  std::vector<std::string> cancelled() const {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }
  bool saw_query(const std::string& sql) const {
    for (const auto& s : requests()) {
      if (s.json.is_object() && s.json.value("query", std::string()) == sql) return true;
    }
    return false;
  }

 private:
  using Req = httplib::Request;
  using Res = httplib::Response;

  static Json error_body(int code, const std::string& message, const std::string& reason, const std::string& status) {
    return {{"error",
             {{"code", code},
              {"message", message},
              {"errors", Json::array({{{"message", message}, {"domain", "global"}, {"reason", reason}}})},
              {"status", status}}}};
  }
  static void reply(Res& res, int status, const Json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json; charset=UTF-8");
  }

  Seen record(const Req& req) {
    Seen s{req.method, req.path, req.get_header_value("Authorization"), req.body, {}, Json()};
    for (const auto& [k, v] : req.params) s.params.emplace(k, v);
    s.json = Json::parse(req.body, nullptr, false);
    if (s.json.is_discarded()) s.json = Json();
    std::lock_guard lock(mutex_);
    seen_.push_back(s);
    return s;
  }

  // Checks the bearer token; answers 401 as Google does when it is unknown or expired.
  bool authorised(const Req& req, Res& res) {
    const std::string header = req.get_header_value("Authorization");
    std::lock_guard lock(mutex_);
    if (revoke_tokens.exchange(false)) tokens_.clear();
    const std::string prefix = "Bearer ";
    auto it = header.rfind(prefix, 0) == 0 ? tokens_.find(header.substr(prefix.size())) : tokens_.end();
    if (it != tokens_.end() && std::chrono::steady_clock::now() < it->second) return true;
    reply(res, 401, error_body(401, "Request had invalid authentication credentials.", "authError", "UNAUTHENTICATED"));
    return false;
  }

  static std::string form_value(const std::string& body, const std::string& key) {
    size_t pos = 0;
    while (pos <= body.size()) {
      size_t end = body.find('&', pos);
      if (end == std::string::npos) end = body.size();
      const std::string item = body.substr(pos, end - pos);
      const size_t eq = item.find('=');
      if (eq != std::string::npos && item.substr(0, eq) == key) return httplib::detail::decode_url(item.substr(eq + 1), true);
      pos = end + 1;
    }
    return "";
  }

  void token(const Req& req, Res& res) {
    record(req);
    {
      std::lock_guard lock(mutex_);
      ++token_requests_;
    }
    const std::string grant = form_value(req.body, "grant_type");
    const std::string assertion = form_value(req.body, "assertion");
    if (reject_tokens.load()) {
      reply(res, 400, {{"error", "invalid_grant"}, {"error_description", "Invalid JWT Signature: " + assertion}});
      return;
    }
    if (grant != "urn:ietf:params:oauth:grant-type:jwt-bearer" && grant != "refresh_token") {
      reply(res, 400, {{"error", "unsupported_grant_type"}, {"error_description", "Invalid grant_type: " + grant}});
      return;
    }
    if (grant == "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      const size_t dot1 = assertion.find('.');
      const size_t dot2 = assertion.rfind('.');
      auto signature = bigquery::base64_decode(assertion.substr(dot2 + 1));
      auto claims_text = bigquery::base64_decode(assertion.substr(dot1 + 1, dot2 - dot1 - 1));
      if (dot1 == std::string::npos || dot1 == dot2 || !signature.ok() || !claims_text.ok() ||
          !verify_rs256(public_pem_, assertion.substr(0, dot2), *signature)) {
        reply(res, 400, {{"error", "invalid_grant"}, {"error_description", "Invalid JWT Signature."}});
        return;
      }
      std::lock_guard lock(mutex_);
      claims_.push_back(Json::parse(*claims_text, nullptr, false));
    }
    std::lock_guard lock(mutex_);
    const std::string issued = "ya29.fake-access-token-" + std::to_string(++token_serial_);
    tokens_[issued] = std::chrono::steady_clock::now() + std::chrono::seconds(token_lifetime.load());
    reply(res, 200, {{"access_token", issued}, {"expires_in", token_lifetime.load()}, {"token_type", "Bearer"}});
  }

  Json job_resource(const std::string& project, const std::string& job_id, const std::string& location,
                    const std::string& state, const Json& configuration) const {
    Json job = {{"kind", "bigquery#job"},
                {"id", project + ":" + location + "." + job_id},
                {"jobReference", {{"projectId", project}, {"jobId", job_id}, {"location", location}}},
                {"configuration", configuration},
                {"status", {{"state", state}}},
                {"statistics", {{"creationTime", "1706700000000"}}}};
    return job;
  }

  static Json field(const std::string& name, const std::string& type, const std::string& mode = "NULLABLE") {
    return {{"name", name}, {"type", type}, {"mode", mode}};
  }
  static Json cell(const Json& v) { return {{"v", v}}; }

  // The result of a query the fake knows, as (schema, all rows); empty schema for a statement.
  static std::pair<Json, Json> result_of(const std::string& sql) {
    if (sql == "select paged") {
      Json rows = Json::array();
      for (int i = 1; i <= 7; ++i) rows.push_back({{"f", Json::array({cell(std::to_string(i))})}});
      return {{{"fields", Json::array({field("n", "INTEGER")})}}, rows};
    }
    if (sql == "select types") {
      Json rec = field("rec", "RECORD");
      rec["fields"] = Json::array({field("a", "STRING"), field("b", "INTEGER")});
      Json num = field("num", "NUMERIC");
      Json dec = field("dec", "NUMERIC");
      dec["precision"] = "10";
      dec["scale"] = "2";
      Json fields = Json::array({field("i", "INTEGER"), field("f", "FLOAT"), field("finf", "FLOAT"),
                                 field("fnan", "FLOAT"), num, dec, field("big", "BIGNUMERIC"), field("b", "BOOLEAN"),
                                 field("s", "STRING"), field("by", "BYTES"), field("d", "DATE"), field("t", "TIME"),
                                 field("dt", "DATETIME"), field("ts", "TIMESTAMP"), field("j", "JSON"),
                                 field("arr", "INTEGER", "REPEATED"), rec, field("iv", "INTERVAL"),
                                 field("g", "GEOGRAPHY")});
      Json full = Json::array({cell("-42"), cell("1.5"), cell("-Infinity"), cell("NaN"), cell("123.456"),
                               cell("-7.25"), cell("-0.5"), cell("true"), cell("h\u00e9llo"),
                               cell(bigquery::base64_encode(std::string("\x00\x01" "ab", 4))), cell("2024-01-31"),
                               cell("13:45:00.123456"), cell("2024-01-31T13:45:00.5"), cell("1706708700123456"),
                               cell("{\"a\":1}"), cell(Json::array({cell("1"), cell("2")})),
                               cell({{"f", Json::array({cell("x"), cell("3")})}}), cell("1-2 3 4:5:6.5"),
                               cell("POINT(1 2)")});
      Json nulls = Json::array();
      for (size_t i = 0; i < fields.size(); ++i) nulls.push_back(cell(nullptr));
      nulls[15] = cell(Json::array());  // a REPEATED field is never null: an empty array
      return {{{"fields", fields}}, Json::array({{{"f", full}}, {{"f", nulls}}})};
    }
    if (sql == "select 1" || sql == "select flaky" || sql == "select slow") {
      return {{{"fields", Json::array({field("f0_", "INTEGER")})}}, Json::array({{{"f", Json::array({cell("1")})}}})};
    }
    if (sql == "select empty") return {{{"fields", Json::array({field("x", "STRING")})}}, Json::array()};
    return {Json(), Json::array()};
  }

  // A QueryResponse / GetQueryResultsResponse page of a finished query (3 rows a page).
  Json results_page(const std::string& kind, const std::string& project, const std::string& job_id,
                    const std::string& location, const std::string& sql, size_t start) const {
    auto [schema, rows] = result_of(sql);
    Json page = {{"kind", kind},
                 {"jobReference", {{"projectId", project}, {"jobId", job_id}, {"location", location}}},
                 {"jobComplete", true},
                 {"totalBytesProcessed", "0"},
                 {"cacheHit", false}};
    if (schema.is_null()) {
      page["numDmlAffectedRows"] = "0";
      return page;
    }
    page["schema"] = schema;
    page["totalRows"] = std::to_string(rows.size());
    const size_t per_page = sql == "select paged" ? 3 : 1000;
    Json slice = Json::array();
    for (size_t i = start; i < rows.size() && i < start + per_page; ++i) slice.push_back(rows[i]);
    if (!slice.empty()) page["rows"] = slice;
    if (start + per_page < rows.size()) page["pageToken"] = "page-from-" + std::to_string(start + per_page);
    return page;
  }

  void routes() {
    server_.Post("/token", [this](const Req& req, Res& res) { token(req, res); });

    server_.Post(R"(/bigquery/v2/projects/([^/]+)/queries)", [this](const Req& req, Res& res) {
      Seen s = record(req);
      if (!authorised(req, res)) return;
      const std::string project = req.matches[1];
      const std::string sql = s.json.value("query", std::string());
      const std::string location = s.json.value("location", std::string("US"));
      const std::string job_id = "job_q" + std::to_string(++job_serial_);
      {
        std::lock_guard lock(mutex_);
        queries_[job_id] = sql;
      }
      if (sql.rfind("selec ", 0) == 0) {
        reply(res, 400, error_body(400, "Syntax error: Unexpected identifier \"selec\" at [1:1]", "invalidQuery",
                                   "INVALID_ARGUMENT"));
        return;
      }
      if (sql == "select flaky" && flaky_failures.load() > 0) {
        --flaky_failures;
        reply(res, 503, error_body(503, "The service is currently unavailable.", "backendError", "UNAVAILABLE"));
        return;
      }
      if (sql == "select slow") {
        reply(res, 200, {{"kind", "bigquery#queryResponse"},
                         {"jobReference", {{"projectId", project}, {"jobId", job_id}, {"location", location}}},
                         {"jobComplete", false}});
        return;
      }
      reply(res, 200, results_page("bigquery#queryResponse", project, job_id, location, sql, 0));
    });

    server_.Get(R"(/bigquery/v2/projects/([^/]+)/queries/([^/]+))", [this](const Req& req, Res& res) {
      record(req);
      if (!authorised(req, res)) return;
      const std::string project = req.matches[1], job_id = req.matches[2];
      std::string sql;
      {
        std::lock_guard lock(mutex_);
        sql = queries_[job_id];
      }
      const std::string location = req.get_param_value("location");
      if (sql == "select slow") {
        // Long-polls until the job is cancelled, then reports it stopped as BigQuery does.
        for (int i = 0; i < 200; ++i) {
          {
            std::lock_guard lock(mutex_);
            if (std::find(cancelled_.begin(), cancelled_.end(), job_id) != cancelled_.end()) break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(25));
        }
        reply(res, 400, error_body(400, "Job execution was cancelled: User requested cancellation", "stopped",
                                   "INVALID_ARGUMENT"));
        return;
      }
      const std::string token = req.get_param_value("pageToken");
      const size_t start = token.empty() ? 0 : std::stoul(token.substr(std::string("page-from-").size()));
      reply(res, 200, results_page("bigquery#getQueryResultsResponse", project, job_id, location, sql, start));
    });

    server_.Post(R"(/bigquery/v2/projects/([^/]+)/jobs)", [this](const Req& req, Res& res) {
      Seen s = record(req);
      if (!authorised(req, res)) return;
      const std::string project = req.matches[1];
      const Json ref = s.json.value("jobReference", Json::object());
      const std::string job_id = ref.value("jobId", std::string("job_i") + std::to_string(++job_serial_));
      const std::string location = ref.value("location", std::string("US"));
      const Json configuration = s.json.value("configuration", Json::object());
      const Json query = configuration.value("query", Json::object());
      Json done = job_resource(project, job_id, location, "DONE", configuration);
      const std::string sql = query.value("query", std::string());
      if (sql.find("fail") != std::string::npos) {
        const Json proto = {{"reason", "invalidQuery"},
                            {"location", "query"},
                            {"message", "Table p:d.missing was not found in location EU at [1:13]"}};
        done["status"]["errorResult"] = proto;
        done["status"]["errors"] = Json::array({proto});
      }
      if (query.value("createSession", false)) done["statistics"]["sessionInfo"] = {{"sessionId", "sess-abc123"}};
      {
        std::lock_guard lock(mutex_);
        jobs_[job_id] = done;
      }
      reply(res, 200, job_resource(project, job_id, location, "RUNNING", configuration));
    });

    server_.Get(R"(/bigquery/v2/projects/([^/]+)/jobs/([^/]+))", [this](const Req& req, Res& res) {
      record(req);
      if (!authorised(req, res)) return;
      std::lock_guard lock(mutex_);
      auto it = jobs_.find(req.matches[2]);
      if (it == jobs_.end()) {
        reply(res, 404, error_body(404, "Not found: Job " + std::string(req.matches[2]), "notFound", "NOT_FOUND"));
        return;
      }
      reply(res, 200, it->second);
    });

    server_.Post(R"(/bigquery/v2/projects/([^/]+)/jobs/([^/]+)/cancel)", [this](const Req& req, Res& res) {
      record(req);
      if (!authorised(req, res)) return;
      const std::string project = req.matches[1], job_id = req.matches[2];
      {
        std::lock_guard lock(mutex_);
        cancelled_.push_back(job_id);
      }
      reply(res, 200, {{"kind", "bigquery#jobCancelResponse"},
                       {"job", job_resource(project, job_id, req.get_param_value("location"), "RUNNING", Json::object())}});
    });

    server_.Get(R"(/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables)", [this](const Req& req, Res& res) {
      record(req);
      if (!authorised(req, res)) return;
      const std::string project = req.matches[1], dataset = req.matches[2];
      auto entry = [&](const std::string& name, const std::string& type) {
        return Json{{"kind", "bigquery#table"},
                    {"id", project + ":" + dataset + "." + name},
                    {"tableReference", {{"projectId", project}, {"datasetId", dataset}, {"tableId", name}}},
                    {"type", type},
                    {"creationTime", "1706700000000"}};
      };
      // Two pages, as tables.list pages with nextPageToken.
      if (req.get_param_value("pageToken").empty()) {
        reply(res, 200, {{"kind", "bigquery#tableList"}, {"etag", "x"}, {"nextPageToken", "t2"},
                         {"tables", Json::array({entry("orders", "TABLE"), entry("orders_v", "VIEW")})},
                         {"totalItems", 3}});
      } else {
        reply(res, 200, {{"kind", "bigquery#tableList"}, {"etag", "x"},
                         {"tables", Json::array({entry("customers", "TABLE")})}, {"totalItems", 3}});
      }
    });

    server_.Get(R"(/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables/([^/]+))", [this](const Req& req, Res& res) {
      record(req);
      if (!authorised(req, res)) return;
      const std::string project = req.matches[1], dataset = req.matches[2], table = req.matches[3];
      // orders__dbt_tmp: an incremental model `orders`'s new rows, which take its columns here.
      if (table != "orders" && table != "orders_v" && table != "orders__dbt_tmp") {
        reply(res, 404, error_body(404, "Not found: Table " + project + ":" + dataset + "." + table, "notFound",
                                   "NOT_FOUND"));
        return;
      }
      Json amount = field("amount", "NUMERIC");
      amount["precision"] = "12";
      amount["scale"] = "2";
      Json fields = Json::array({field("id", "INTEGER", "REQUIRED"), field("name", "STRING"), amount,
                                 field("tags", "STRING", "REPEATED"), field("payload", "JSON"),
                                 field("at", "TIMESTAMP")});
      reply(res, 200, {{"kind", "bigquery#table"},
                       {"id", project + ":" + dataset + "." + table},
                       {"tableReference", {{"projectId", project}, {"datasetId", dataset}, {"tableId", table}}},
                       {"schema", {{"fields", fields}}},
                       {"type", table == "orders_v" ? "VIEW" : "TABLE"},
                       {"location", "EU"}});
    });

    server_.Post(R"(/upload/bigquery/v2/projects/([^/]+)/jobs)", [this](const Req& req, Res& res) {
      Seen s = record(req);
      if (!authorised(req, res)) return;
      const std::string project = req.matches[1];
      // multipart/related: the Job JSON, then the data.
      const std::string type = req.get_header_value("Content-Type");
      const std::string boundary = "--" + type.substr(type.find("boundary=") + 9);
      std::vector<std::string> parts;
      size_t pos = req.body.find(boundary);
      while (pos != std::string::npos) {
        pos += boundary.size();
        if (req.body.compare(pos, 2, "--") == 0) break;
        const size_t next = req.body.find("\r\n" + boundary, pos);
        const size_t content = req.body.find("\r\n\r\n", pos) + 4;
        parts.push_back(req.body.substr(content, next - content));
        pos = next == std::string::npos ? next : next + 2;
      }
      if (parts.size() != 2 || req.get_param_value("uploadType") != "multipart") {
        reply(res, 400, error_body(400, "Bad multipart upload", "invalid", "INVALID_ARGUMENT"));
        return;
      }
      Json job = Json::parse(parts[0], nullptr, false);
      const Json ref = job.value("jobReference", Json::object());
      const std::string job_id = ref.value("jobId", std::string("job_u"));
      const std::string location = ref.value("location", std::string("US"));
      {
        std::lock_guard lock(mutex_);
        uploads_.emplace_back(job, parts[1]);
        jobs_[job_id] = job_resource(project, job_id, location, "DONE", job.value("configuration", Json::object()));
      }
      reply(res, 200, job_resource(project, job_id, location, "PENDING", job.value("configuration", Json::object())));
    });
  }

  std::string public_pem_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::vector<Seen> seen_;
  std::vector<Json> claims_;
  std::map<std::string, std::chrono::steady_clock::time_point> tokens_;
  std::map<std::string, std::string> queries_;  // job id → SQL of jobs.query
  std::map<std::string, Json> jobs_;            // job id → the Job once DONE
  std::vector<std::pair<Json, std::string>> uploads_;
  std::vector<std::string> cancelled_;
  int token_requests_ = 0;
  int token_serial_ = 0;
  std::atomic<int> job_serial_{0};
};

}  // namespace strata::warehouse::testing

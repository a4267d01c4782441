#pragma once
// BigQuery's REST API (v2) over HttpClient: authorised JSON calls with bounded retries, the
// multipart upload of load jobs, and the mapping of BigQuery's errors to strata::Error.
//
// Retries: a request answered 429, 500, 502 or 503, or with an error reason rateLimitExceeded or
// backendError, or that could not reach the server, is retried up to `job_retries` times with
// exponential backoff (first_backoff, doubled each time, at most 8 s). A 401 fetches a new
// access token once. Errors: kConnection for an unreachable server and for 401/403
// authentication or permission failures, kCancelled after abort(), kFailed for the rest, with
// BigQuery's message and reason (Error::state() holds the reason) and, when the message names
// the query's position "at [L:C]", that line and column in Error::where() (file "query").
// Thread-safety: one thread calls call()/upload() at a time; abort() may be called from any
// thread. Secrets are masked out of every message.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/secrets.h"
#include "warehouse/bigquery/credentials.h"
#include "warehouse/bigquery/http_client.h"

namespace strata::warehouse::bigquery {

using Json = nlohmann::json;

inline constexpr const char* kDefaultApiRoot = "https://bigquery.googleapis.com";

struct RestSettings {
  // Scheme, host and port: "https://bigquery.googleapis.com". API calls go to root +
  // "/bigquery/v2/…", uploads to root + "/upload/bigquery/v2/…".
  std::string root = kDefaultApiRoot;
  int job_retries = 1;
  std::chrono::milliseconds first_backoff{500};
  long request_timeout_ms = 120000;
};

// api_endpoint (profiles.yml) or STRATA_BIGQUERY_API_URL → the root above: a trailing
// "/bigquery/v2" and slashes are dropped; "" gives kDefaultApiRoot.
std::string api_root(std::string_view endpoint);

class RestClient {
 public:
  RestClient(RestSettings settings, std::shared_ptr<Credentials> credentials, SecretMasker* masker);

  // `path` is under /bigquery/v2 ("/projects/p/queries?location=US"). body: nullptr for none.
  // Returns the response's JSON (an empty object for an empty body).
  Result<Json> call(const std::string& method, const std::string& path, const Json* body);
  // POSTs a load job with its data: /upload/bigquery/v2/projects/P/jobs?uploadType=multipart,
  // multipart/related with the Job JSON then the data (application/octet-stream). Returns the Job.
  Result<Json> upload(const std::string& project, const Json& job, std::string_view data);

  void abort() { http_.abort(); }
  void reset_abort() { http_.reset_abort(); }
  bool aborted() const { return http_.aborted(); }
  const RestSettings& settings() const { return settings_; }
  Credentials& credentials() { return *credentials_; }
  SecretMasker* masker() const { return masker_; }

 private:
  Result<Json> send(HttpRequest request);
  // Sleeps `delay` unless aborted first (then false).
  bool backoff(std::chrono::milliseconds delay);

  RestSettings settings_;
  std::shared_ptr<Credentials> credentials_;
  SecretMasker* masker_;
  HttpClient http_;
};

// The Error for an ErrorProto ({reason, message, location}) of a failed job.
Error job_error(const Json& error_proto, SecretMasker* masker);
// The Error for an HTTP error response ({"error": {code, message, errors: [ErrorProto], status}}).
Error response_error(long status, const std::string& body, SecretMasker* masker);

}  // namespace strata::warehouse::bigquery

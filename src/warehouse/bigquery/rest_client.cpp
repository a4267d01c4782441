#include "warehouse/bigquery/rest_client.h"

#include <algorithm>
#include <cstdio>
#include <random>
#include <thread>

namespace strata::warehouse::bigquery {

namespace {

bool retryable_status(long status) { return status == 429 || status == 500 || status == 502 || status == 503; }

bool retryable_reason(const std::string& reason) { return reason == "rateLimitExceeded" || reason == "backendError"; }

// The first error reason of an HTTP error body, "" when none.
std::string body_reason(const std::string& body) {
  const Json parsed = Json::parse(body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("error") || !parsed["error"].is_object()) return "";
  const Json& error = parsed["error"];
  if (error.contains("errors") && error["errors"].is_array() && !error["errors"].empty() &&
      error["errors"][0].is_object()) {
    return error["errors"][0].value("reason", std::string());
  }
  return "";
}

// "… at [3:15]" → {3, 15}.
SourceLocation query_position(const std::string& message) {
  const size_t at = message.rfind("at [");
  if (at == std::string::npos) return {};
  int line = 0, column = 0;
  if (std::sscanf(message.c_str() + at, "at [%d:%d]", &line, &column) != 2 || line <= 0) return {};
  return SourceLocation{"query", line, column};
}

std::string mask(SecretMasker* masker, const std::string& text) { return masker ? masker->mask(text) : text; }

Error make_error(ErrorCode code, const std::string& message, const std::string& reason, SecretMasker* masker) {
  std::string text = "BigQuery: " + (message.empty() ? std::string("request failed") : message);
  if (!reason.empty()) text += " (reason: " + reason + ")";
  const SourceLocation where = query_position(message);
  if (where.line > 0) text += " [query line " + std::to_string(where.line) + ", column " + std::to_string(where.column) + "]";
  std::string hint;
  if (code == ErrorCode::kConnection) {
    hint = "check the target's credentials and that the account may use BigQuery in this project";
  } else if (reason == "invalidQuery" && where.line > 0) {
    hint = "the position is a line and column of the SQL sent to BigQuery (see target/run for a model's)";
  }
  return Error(code, mask(masker, text), where, hint).with_state(reason);
}

}  // namespace

std::string api_root(std::string_view endpoint) {
  std::string root(endpoint);
  while (!root.empty() && root.back() == '/') root.pop_back();
  constexpr std::string_view kSuffix = "/bigquery/v2";
  if (root.size() >= kSuffix.size() && root.compare(root.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) {
    root.resize(root.size() - kSuffix.size());
  }
  while (!root.empty() && root.back() == '/') root.pop_back();
  return root.empty() ? std::string(kDefaultApiRoot) : root;
}

Error job_error(const Json& error_proto, SecretMasker* masker) {
  const std::string reason = error_proto.value("reason", std::string());
  const ErrorCode code = reason == "stopped" ? ErrorCode::kCancelled
                         : reason == "accessDenied" ? ErrorCode::kConnection
                                                    : ErrorCode::kFailed;
  return make_error(code, error_proto.value("message", std::string()), reason, masker);
}

Error response_error(long status, const std::string& body, SecretMasker* masker) {
  const Json parsed = Json::parse(body, nullptr, false);
  std::string message, reason;
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
    const Json& error = parsed["error"];
    message = error.value("message", std::string());
    reason = body_reason(body);
    if (reason.empty()) reason = error.value("status", std::string());
  } else {
    message = "HTTP " + std::to_string(status) + (body.empty() ? "" : ": " + body.substr(0, 200));
  }
  ErrorCode code = ErrorCode::kFailed;
  if (status == 401 || (status == 403 && (reason == "accessDenied" || reason == "forbidden" ||
                                          reason == "PERMISSION_DENIED"))) {
    code = ErrorCode::kConnection;
  }
  return make_error(code, message, reason, masker);
}

RestClient::RestClient(RestSettings settings, std::shared_ptr<Credentials> credentials, SecretMasker* masker)
    : settings_(std::move(settings)), credentials_(std::move(credentials)), masker_(masker) {}

bool RestClient::backoff(std::chrono::milliseconds delay) {
  const auto until = std::chrono::steady_clock::now() + delay;
  while (std::chrono::steady_clock::now() < until) {
    if (http_.aborted()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(std::chrono::milliseconds(20), delay));
  }
  return !http_.aborted();
}

Result<Json> RestClient::send(HttpRequest request) {
  const size_t fixed_headers = request.headers.size();
  bool refreshed = false;
  auto delay = settings_.first_backoff;
  for (int attempt = 0;; ++attempt) {
    const bool may_retry = attempt < settings_.job_retries;
    STRATA_ASSIGN(std::string token, credentials_->access_token());
    request.headers.resize(fixed_headers);
    request.headers.push_back("Authorization: Bearer " + token);
    auto response = http_.send(request);
    if (!response.ok()) {
      if (response.error().code() == ErrorCode::kConnection && may_retry && backoff(delay)) {
        delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::milliseconds(8000));
        continue;
      }
      return Error(response.error().code(), mask(masker_, "BigQuery: " + response.error().message()),
                   SourceLocation{}, response.error().hint());
    }
    if (response->status >= 200 && response->status < 300) {
      if (response->body.empty()) return Json::object();
      Json parsed = Json::parse(response->body, nullptr, false);
      if (parsed.is_discarded()) {
        return Error(ErrorCode::kFailed, "BigQuery answered " + url_origin(request.url) + " with a body that is not JSON");
      }
      return parsed;
    }
    if (response->status == 401 && !refreshed) {
      refreshed = true;
      credentials_->invalidate();
      --attempt;  // a stale token is not a failed attempt
      continue;
    }
    if ((retryable_status(response->status) || retryable_reason(body_reason(response->body))) && may_retry &&
        backoff(delay)) {
      delay = std::min<std::chrono::milliseconds>(delay * 2, std::chrono::milliseconds(8000));
      continue;
    }
    if (http_.aborted()) return Error(ErrorCode::kCancelled, "the query was cancelled");
    return response_error(response->status, response->body, masker_);
  }
}

Result<Json> RestClient::call(const std::string& method, const std::string& path, const Json* body) {
  HttpRequest request;
  request.method = method;
  request.url = settings_.root + "/bigquery/v2" + path;
  request.timeout_ms = settings_.request_timeout_ms;
  request.headers.push_back("Accept: application/json");
  if (body) {
    request.headers.push_back("Content-Type: application/json; charset=UTF-8");
    request.body = body->dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  return send(std::move(request));
}

Result<Json> RestClient::upload(const std::string& project, const Json& job, std::string_view data) {
  // A boundary that cannot occur in the data: random, and checked.
  std::random_device device;
  std::string boundary;
  do {
    boundary = "strata_boundary_" + std::to_string(device()) + std::to_string(device());
  } while (data.find(boundary) != std::string_view::npos);
  HttpRequest request;
  request.method = "POST";
  request.url = settings_.root + "/upload/bigquery/v2/projects/" + url_encode(project) + "/jobs?uploadType=multipart";
  request.timeout_ms = 0;  // large uploads take as long as they take; abort() still stops them
  request.headers = {"Accept: application/json", "Content-Type: multipart/related; boundary=" + boundary};
  std::string& body = request.body;
  body.reserve(data.size() + 1024);
  body += "--" + boundary + "\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n";
  body += job.dump(-1, ' ', false, Json::error_handler_t::replace);
  body += "\r\n--" + boundary + "\r\nContent-Type: application/octet-stream\r\n\r\n";
  body.append(data);
  body += "\r\n--" + boundary + "--\r\n";
  return send(std::move(request));
}

}  // namespace strata::warehouse::bigquery

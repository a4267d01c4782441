#pragma once
// A small HTTP client over libcurl for BigQuery's REST API and Google's token endpoints. One
// HttpClient owns one curl easy handle (kept-alive connections are reused between requests).
//
// Thread-safety: send() is used by one thread at a time; abort() may be called from any thread
// while another is in send(), which then fails with kCancelled. Ownership: RAII; the handle is
// freed with the client.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

namespace strata::warehouse::bigquery {

struct HttpRequest {
  std::string method = "GET";  // GET, POST, PUT, PATCH, DELETE
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  long timeout_ms = 0;  // whole request; 0 = none
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string content_type;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and returns the response, whatever its status. Errors: kConnection when the
  // server cannot be reached or the transfer breaks (the message names the URL's host, never the
  // headers or the body), kCancelled after abort().
  Result<HttpResponse> send(const HttpRequest& request);
  // Makes the current (and every later) send() fail with kCancelled until reset_abort().
  void abort() { aborted_.store(true); }
  void reset_abort() { aborted_.store(false); }
  bool aborted() const { return aborted_.load(); }

 private:
  struct Handle;
  std::unique_ptr<Handle> handle_;
  std::atomic<bool> aborted_{false};
};

// "application/x-www-form-urlencoded" escaping of one value (RFC 3986 unreserved kept).
std::string url_encode(std::string_view value);
// The scheme, host and port of a URL ("https://oauth2.googleapis.com"), for error messages.
std::string url_origin(std::string_view url);

}  // namespace strata::warehouse::bigquery

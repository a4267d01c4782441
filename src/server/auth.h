#pragma once
// Auth: the API's access rules (docs/api.md, Security). A request is allowed by a valid bearer
// token, or by a session (cookie `strata_session`) — for mutations only together with the
// session's CSRF token in `X-CSRF-Token` and, when an Origin header is sent, a same-origin Origin.
// Reads are open unless protect_reads. Sessions live in memory (at most kMaxSessions, the oldest
// evicted first; they expire after a day). Thread-safe.

#include <httplib.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "server/server.h"

namespace strata::server {

// Why a request is refused: status 401 or 403 with a message and a hint; status 0 = allowed.
struct AuthDecision {
  int status = 0;
  std::string message;
  std::string hint;
};

struct Session {
  std::string id;
  std::string csrf_token;
  int64_t created_at = 0;
};

class Auth {
 public:
  static constexpr size_t kMaxSessions = 10000;
  static constexpr int64_t kSessionLifetime = 24LL * 3600 * 1'000'000;

  explicit Auth(AuthConfig config) : config_(std::move(config)) {}

  const AuthConfig& config() const { return config_; }
  // Applies the rules to an API request (`now` in micros).
  AuthDecision check(const httplib::Request& req, int64_t now);
  // True when the request carries the configured bearer token.
  bool has_valid_token(const httplib::Request& req) const;
  // True when `token` equals the configured token (constant-time); false when none is configured.
  bool token_matches(const std::string& token) const;
  // The request's live session, if any.
  std::optional<Session> session_of(const httplib::Request& req, int64_t now);
  // A new session.
  Session create_session(int64_t now);
  // The Set-Cookie value for a session.
  static std::string cookie_for(const Session& session);

 private:
  AuthConfig config_;
  std::mutex mutex_;
  std::map<std::string, Session> sessions_;
};

// Constant-time equality of two strings (length leaks, contents do not).
bool constant_time_equal(const std::string& a, const std::string& b);

}  // namespace strata::server

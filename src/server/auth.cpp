#include "server/auth.h"

#include <cstdio>
#include <fstream>

#include "common/strings.h"

namespace strata::server {
namespace {

constexpr const char* kCookieName = "strata_session";

bool is_read(const std::string& method) { return method == "GET" || method == "HEAD" || method == "OPTIONS"; }

std::string cookie_value(const httplib::Request& req, std::string_view name) {
  const size_t n = req.get_header_value_count("Cookie");
  for (size_t i = 0; i < n; ++i) {
    for (const std::string& part : split(req.get_header_value("Cookie", i), ';')) {
      std::string_view kv = trim(part);
      const size_t eq = kv.find('=');
      if (eq == std::string_view::npos) continue;
      if (trim(kv.substr(0, eq)) == name) return std::string(trim(kv.substr(eq + 1)));
    }
  }
  return "";
}

}  // namespace

bool constant_time_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string generate_token() {
  unsigned char bytes[16] = {};
  std::ifstream random("/dev/urandom", std::ios::binary);
  random.read(reinterpret_cast<char*>(bytes), sizeof bytes);
  if (!random) throw std::runtime_error("cannot read /dev/urandom");  // the system is broken: a programming-level failure
  std::string out;
  char hex[3];
  for (unsigned char b : bytes) {
    std::snprintf(hex, sizeof hex, "%02x", b);
    out += hex;
  }
  return out;
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || starts_with(host, "127.");
}

bool Auth::token_matches(const std::string& token) const {
  return !config_.token.empty() && constant_time_equal(token, config_.token);
}

bool Auth::has_valid_token(const httplib::Request& req) const {
  const std::string header = req.get_header_value("Authorization");
  if (!starts_with(header, "Bearer ")) return false;
  return token_matches(std::string(trim(std::string_view(header).substr(7))));
}

std::optional<Session> Auth::session_of(const httplib::Request& req, int64_t now) {
  const std::string id = cookie_value(req, kCookieName);
  if (id.empty()) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (now - it->second.created_at > kSessionLifetime) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

Session Auth::create_session(int64_t now) {
  Session s{generate_token() + generate_token(), generate_token() + generate_token(), now};
  std::lock_guard lock(mutex_);
  if (sessions_.size() >= kMaxSessions) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
      if (it->second.created_at < oldest->second.created_at) oldest = it;
    sessions_.erase(oldest);
  }
  sessions_[s.id] = s;
  return s;
}

std::string Auth::cookie_for(const Session& session) {
  return std::string(kCookieName) + "=" + session.id + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=86400";
}

AuthDecision Auth::check(const httplib::Request& req, int64_t now) {
  const std::string header = req.get_header_value("Authorization");
  if (!header.empty()) {
    if (has_valid_token(req)) return {};
    return {401, config_.token.empty() ? "this server has no API token" : "invalid bearer token",
            "send Authorization: Bearer <token> with the token printed by `strata serve` or STRATA_API_TOKEN"};
  }
  // The login itself needs no credentials; its handler checks the token in the body.
  if (req.path == "/api/v1/session" && req.method == "POST") return {};
  std::optional<Session> session = session_of(req, now);
  if (is_read(req.method)) {
    if (!config_.protect_reads || session) return {};
    return {401, "this server requires the API token",
            "send Authorization: Bearer <token>, or log in with POST /api/v1/session {\"token\": …}"};
  }
  if (!session)
    return {401, "a change needs the API token or a session",
            "send Authorization: Bearer <token>, or GET /api/v1/session and send its csrf_token as X-CSRF-Token"};
  const std::string csrf = req.get_header_value("X-CSRF-Token");
  if (csrf.empty() || !constant_time_equal(csrf, session->csrf_token))
    return {403, "missing or wrong X-CSRF-Token", "send the csrf_token of GET /api/v1/session as X-CSRF-Token"};
  const std::string origin = req.get_header_value("Origin");
  if (!origin.empty()) {
    const std::string host = req.get_header_value("Host");
    if (origin != "http://" + host && origin != "https://" + host)
      return {403, "cross-origin request refused", "use the UI served by this server"};
  }
  return {};
}

}  // namespace strata::server

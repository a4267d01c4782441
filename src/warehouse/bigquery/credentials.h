#pragma once
// Google OAuth 2.0 access tokens for BigQuery, as dbt-bigquery's `method:` gets them:
//
//   service-account       keyfile: a service-account key file (JSON) → a JWT signed RS256 with its
//                         private_key, exchanged at its token_uri (jwt-bearer grant)
//   service-account-json  keyfile_json: the same key inline in profiles.yml
//   oauth-secrets         token: a ready access token (used as is, never refreshed), or
//                         refresh_token + client_id + client_secret exchanged at token_uri
//   oauth                 Application Default Credentials: the file named by
//                         GOOGLE_APPLICATION_CREDENTIALS, else gcloud's
//                         ~/.config/gcloud/application_default_credentials.json (a service-account
//                         key or an authorized_user refresh token). The GCE metadata server is not used.
//
// Tokens are cached until shortly before they expire (60 s, or half the lifetime of a short-lived
// token). Private keys, tokens, refresh tokens and client secrets go to the SecretMasker and never
// appear in errors or logs.
// Thread-safety: Credentials is thread-safe; concurrent callers share one refresh.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "common/env.h"
#include "common/result.h"
#include "common/secrets.h"
#include "warehouse/bigquery/http_client.h"

namespace strata::warehouse {
struct TargetConfig;
}

namespace strata::warehouse::bigquery {

inline constexpr const char* kBigQueryScope = "https://www.googleapis.com/auth/bigquery";
inline constexpr const char* kGoogleTokenUri = "https://oauth2.googleapis.com/token";

class Credentials {
 public:
  virtual ~Credentials() = default;
  // A valid access token (cached, or fetched now). Errors: kConnection when the token endpoint
  // cannot be reached or refuses the credentials (its error text, masked), kCancelled when aborted.
  Result<std::string> access_token();
  // Forgets the cached token (after BigQuery answered 401), so the next call fetches a new one.
  void invalidate();
  // What the credentials are, for messages: "service account x@p.iam.gserviceaccount.com".
  virtual std::string describe() const = 0;

 protected:
  struct Token {
    std::string value;
    std::chrono::seconds lifetime{0};  // 0: no known expiry (a static token)
  };
  explicit Credentials(SecretMasker* masker) : masker_(masker) {}
  // Fetches a new token; called under the lock.
  virtual Result<Token> fetch(HttpClient& http) = 0;
  // POSTs a form to a token endpoint and reads {"access_token", "expires_in"}.
  Result<Token> exchange(HttpClient& http, const std::string& token_uri, const std::string& form);
  SecretMasker* masker_;  // may be null

 private:
  std::mutex mutex_;
  HttpClient http_;                                  // guarded by mutex_
  std::string token_;                                // guarded by mutex_
  std::chrono::steady_clock::time_point refresh_at_;  // guarded by mutex_
  bool has_token_ = false;                           // guarded by mutex_
};

// The credentials of a bigquery target. env supplies GOOGLE_APPLICATION_CREDENTIALS and HOME.
// masker (may be null, must outlive the credentials) receives the private key, tokens and
// secrets. Errors (kConfig): a key file that is missing, unreadable or not a service-account key
// (the message names the file, never its content), no Application Default Credentials found.
Result<std::shared_ptr<Credentials>> make_credentials(const TargetConfig& target, const EnvLookup& env,
                                                      SecretMasker* masker);

// base64url without padding (RFC 7515), and standard base64 encode/decode (RFC 4648).
std::string base64url_encode(std::string_view bytes);
std::string base64_encode(std::string_view bytes);
// Errors: kFailed for a character outside the alphabet.
Result<std::string> base64_decode(std::string_view text);

// A signed JWT for the jwt-bearer grant: header {alg RS256, typ JWT, kid}, claims {iss, scope,
// aud, iat, exp = iat + 3600}. private_key_pem: a PKCS#8 or PKCS#1 RSA key. Errors: kConfig when
// the key does not parse (the message never quotes it), kInternal when signing fails.
Result<std::string> sign_service_account_jwt(const std::string& private_key_pem, const std::string& key_id,
                                             const std::string& client_email, const std::string& scope,
                                             const std::string& audience, long long issued_at);

}  // namespace strata::warehouse::bigquery

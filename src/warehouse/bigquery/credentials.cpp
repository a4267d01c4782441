#include "warehouse/bigquery/credentials.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "warehouse/profile.h"

namespace strata::warehouse::bigquery {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

constexpr const char* kBase64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_with(std::string_view bytes, bool url) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  auto sym = [&](unsigned v) {
    char c = kBase64[v & 63];
    if (url && c == '+') c = '-';
    if (url && c == '/') c = '_';
    out += c;
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    sym(v >> 18), sym(v >> 12), sym(v >> 6), sym(v);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    sym(v >> 18), sym(v >> 12);
    if (rest == 2) sym(v >> 6);
    if (!url) out += rest == 2 ? "=" : "==";
  }
  return out;
}

// Reads a whole file. Errors: kConfig naming the file.
Result<std::string> read_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return Error(ErrorCode::kConfig, "the " + what + " " + path + " does not exist", SourceLocation{},
                 "point it at a Google service-account key file (JSON)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kConfig, "cannot read the " + what + " " + path, SourceLocation{}, "check its permissions");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string json_string(const Json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

long long unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A ready access token (oauth-secrets `token:`), used as is.
class StaticToken final : public Credentials {
 public:
  StaticToken(std::string token, SecretMasker* masker) : Credentials(masker), token_(std::move(token)) {
    if (masker_) masker_->add(token_);
  }
  std::string describe() const override { return "an OAuth access token"; }

 protected:
  Result<Token> fetch(HttpClient&) override { return Token{token_, std::chrono::seconds(0)}; }

 private:
  std::string token_;
};

// A service-account key: JWT → jwt-bearer grant at the key's token_uri.
class ServiceAccount final : public Credentials {
 public:
  ServiceAccount(std::string email, std::string key_id, std::string private_key, std::string token_uri,
                 SecretMasker* masker)
      : Credentials(masker), email_(std::move(email)), key_id_(std::move(key_id)),
        private_key_(std::move(private_key)), token_uri_(std::move(token_uri)) {
    if (masker_) masker_->add(private_key_);
  }
  std::string describe() const override { return "service account " + email_; }

 protected:
  Result<Token> fetch(HttpClient& http) override {
    STRATA_ASSIGN(std::string jwt,
                  sign_service_account_jwt(private_key_, key_id_, email_, kBigQueryScope, token_uri_, unix_now()));
    if (masker_) masker_->add(jwt);
    return exchange(http, token_uri_,
                    "grant_type=" + url_encode("urn:ietf:params:oauth:grant-type:jwt-bearer") + "&assertion=" + jwt);
  }

 private:
  std::string email_, key_id_, private_key_, token_uri_;
};

// An OAuth refresh token (oauth-secrets, or gcloud's authorized_user ADC file).
class RefreshToken final : public Credentials {
 public:
  RefreshToken(std::string refresh_token, std::string client_id, std::string client_secret, std::string token_uri,
               SecretMasker* masker)
      : Credentials(masker), refresh_token_(std::move(refresh_token)), client_id_(std::move(client_id)),
        client_secret_(std::move(client_secret)), token_uri_(std::move(token_uri)) {
    if (masker_) masker_->add(refresh_token_), masker_->add(client_secret_);
  }
  std::string describe() const override { return "OAuth client " + client_id_; }

 protected:
  Result<Token> fetch(HttpClient& http) override {
    return exchange(http, token_uri_,
                    "grant_type=refresh_token&refresh_token=" + url_encode(refresh_token_) +
                        "&client_id=" + url_encode(client_id_) + "&client_secret=" + url_encode(client_secret_));
  }

 private:
  std::string refresh_token_, client_id_, client_secret_, token_uri_;
};

// Credentials from a JSON key document (a service-account key or an authorized_user file).
Result<std::shared_ptr<Credentials>> from_key_json(const std::string& text, const std::string& what,
                                                  SecretMasker* masker) {
  Json key = Json::parse(text, nullptr, false);
  if (key.is_discarded() || !key.is_object()) {
    return Error(ErrorCode::kConfig, what + " is not valid JSON", SourceLocation{},
                 "use the JSON key file downloaded from the Google Cloud console");
  }
  const std::string type = json_string(key, "type");
  if (type == "authorized_user") {
    const std::string refresh = json_string(key, "refresh_token");
    if (refresh.empty()) return Error(ErrorCode::kConfig, what + " has no refresh_token");
    std::string uri = json_string(key, "token_uri");
    return std::shared_ptr<Credentials>(std::make_shared<RefreshToken>(
        refresh, json_string(key, "client_id"), json_string(key, "client_secret"), uri.empty() ? kGoogleTokenUri : uri,
        masker));
  }
  const std::string private_key = json_string(key, "private_key");
  if (masker && !private_key.empty()) masker->add(private_key);
  const std::string email = json_string(key, "client_email");
  if (!type.empty() && type != "service_account") {
    return Error(ErrorCode::kConfig, what + " is a '" + type + "' credential, not a service-account key",
                 SourceLocation{}, "use a key of type service_account");
  }
  if (private_key.empty() || email.empty()) {
    return Error(ErrorCode::kConfig, what + " lacks " + (private_key.empty() ? "private_key" : "client_email"),
                 SourceLocation{}, "use the complete JSON key of a service account");
  }
  std::string uri = json_string(key, "token_uri");
  return std::shared_ptr<Credentials>(std::make_shared<ServiceAccount>(
      email, json_string(key, "private_key_id"), private_key, uri.empty() ? kGoogleTokenUri : uri, masker));
}

}  // namespace

Result<std::string> Credentials::access_token() {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (has_token_ && (refresh_at_ == std::chrono::steady_clock::time_point{} || now < refresh_at_)) return token_;
  STRATA_ASSIGN(Token fresh, fetch(http_));
  if (masker_) masker_->add(fresh.value);
  token_ = std::move(fresh.value);
  has_token_ = true;
  if (fresh.lifetime.count() <= 0) {
    refresh_at_ = {};
  } else {
    const auto margin = std::min<std::chrono::seconds>(std::chrono::seconds(60), fresh.lifetime / 2);
    refresh_at_ = now + fresh.lifetime - margin;
  }
  return token_;
}

void Credentials::invalidate() {
  std::lock_guard lock(mutex_);
  if (refresh_at_ != std::chrono::steady_clock::time_point{}) has_token_ = false;
}

Result<Credentials::Token> Credentials::exchange(HttpClient& http, const std::string& token_uri,
                                                 const std::string& form) {
  HttpRequest request;
  request.method = "POST";
  request.url = token_uri;
  request.headers = {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"};
  request.body = form;
  request.timeout_ms = 60000;
  auto response = http.send(request);
  if (!response.ok()) {
    return Error(response.error().code(), "could not get an access token for " + describe() + ": " +
                                              response.error().message());
  }
  const Json body = Json::parse(response->body, nullptr, false);
  if (response->status != 200 || !body.is_object() || !body.contains("access_token")) {
    std::string reason = "HTTP " + std::to_string(response->status);
    if (body.is_object()) {
      const std::string error = json_string(body, "error");
      const std::string description = json_string(body, "error_description");
      if (!error.empty()) reason += " " + error;
      if (!description.empty()) reason += ": " + description;
    }
    if (masker_) reason = masker_->mask(reason);
    return Error(ErrorCode::kConnection,
                 "the token endpoint " + url_origin(token_uri) + " refused " + describe() + " (" + reason + ")",
                 SourceLocation{}, "check that the credentials are valid and not revoked or expired");
  }
  Token token;
  token.value = json_string(body, "access_token");
  if (masker_) masker_->add(token.value);
  const auto expires = body.find("expires_in");
  long long seconds = 3600;
  if (expires != body.end() && expires->is_number()) seconds = expires->get<long long>();
  if (expires != body.end() && expires->is_string()) seconds = std::atoll(expires->get<std::string>().c_str());
  token.lifetime = std::chrono::seconds(std::max<long long>(seconds, 1));
  return token;
}

Result<std::shared_ptr<Credentials>> make_credentials(const TargetConfig& target, const EnvLookup& env,
                                                      SecretMasker* masker) {
  const std::string& method = target.method;
  if (method == "service-account") {
    fs::path path(target.keyfile);
    if (path.is_relative() && !target.project_dir.empty()) path = fs::path(target.project_dir) / path;
    STRATA_ASSIGN(std::string text, read_file(path.string(), "keyfile"));
    return from_key_json(text, "the keyfile " + path.string(), masker);
  }
  if (method == "service-account-json") return from_key_json(target.keyfile_json, "keyfile_json", masker);
  if (method == "oauth-secrets") {
    if (!target.token.empty()) return std::shared_ptr<Credentials>(std::make_shared<StaticToken>(target.token, masker));
    return std::shared_ptr<Credentials>(std::make_shared<RefreshToken>(
        target.refresh_token, target.client_id, target.client_secret,
        target.token_uri.empty() ? kGoogleTokenUri : target.token_uri, masker));
  }
  if (method == "oauth") {
    std::string file;
    if (auto named = env("GOOGLE_APPLICATION_CREDENTIALS"); named && !named->empty()) {
      file = *named;
      STRATA_ASSIGN(std::string text, read_file(file, "GOOGLE_APPLICATION_CREDENTIALS file"));
      return from_key_json(text, "the GOOGLE_APPLICATION_CREDENTIALS file " + file, masker);
    }
    if (auto home = env("HOME"); home && !home->empty()) {
      file = *home + "/.config/gcloud/application_default_credentials.json";
      std::error_code ec;
      if (fs::exists(file, ec)) {
        STRATA_ASSIGN(std::string text, read_file(file, "application default credentials file"));
        return from_key_json(text, "the application default credentials file " + file, masker);
      }
    }
    return Error(ErrorCode::kConfig, "method: oauth found no Application Default Credentials", SourceLocation{},
                 "set GOOGLE_APPLICATION_CREDENTIALS to a key file, run `gcloud auth application-default login`, "
                 "or use method: service-account");
  }
  return Error(ErrorCode::kConfig, "unknown bigquery method '" + method + "'", SourceLocation{},
               "use oauth, service-account, service-account-json or oauth-secrets");
}

std::string base64url_encode(std::string_view bytes) { return base64_with(bytes, true); }
std::string base64_encode(std::string_view bytes) { return base64_with(bytes, false); }

Result<std::string> base64_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+' || c == '-') v = 62;
    else if (c == '/' || c == '_') v = 63;
    else if (c == '=' || c == '\n' || c == '\r') continue;
    else return Error(ErrorCode::kFailed, "invalid base64 text");
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

Result<std::string> sign_service_account_jwt(const std::string& private_key_pem, const std::string& key_id,
                                             const std::string& client_email, const std::string& scope,
                                             const std::string& audience, long long issued_at) {
  Json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!key_id.empty()) header["kid"] = key_id;
  const Json claims = {{"iss", client_email}, {"scope", scope},  {"aud", audience},
                       {"iat", issued_at},    {"exp", issued_at + 3600}};
  const std::string signing_input = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());

  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
  if (!bio) return Error(ErrorCode::kInternal, "out of memory reading the private key");
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return Error(ErrorCode::kConfig, "the service-account key's private_key is not a PEM private key",
                 SourceLocation{}, "use the key file exactly as downloaded (with its \\n line breaks)");
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  size_t size = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &size, reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return Error(ErrorCode::kInternal, "could not sign the service-account JWT");
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) != 1) {
    return Error(ErrorCode::kInternal, "could not sign the service-account JWT");
  }
  signature.resize(size);
  return signing_input + "." + base64url_encode(signature);
}

}  // namespace strata::warehouse::bigquery

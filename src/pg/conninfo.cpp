#include "pg/conninfo.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include <libpq-fe.h>

#include "common/strings.h"

namespace strata::pg {
namespace {

bool is_url(std::string_view text) {
  text = trim(text);
  return starts_with(text, "postgresql://") || starts_with(text, "postgres://");
}

void add_candidate(std::vector<std::string>& out, std::string value) {
  if (value.empty() || std::find(out.begin(), out.end(), value) != out.end()) return;
  out.push_back(std::move(value));
}

// Candidates from a URL: the user:password@ part and ?password= / &password= parameters.
void url_candidates(std::string_view url, std::vector<std::string>& out) {
  url = trim(url);
  size_t start = url.find("://") + 3;
  // libpq reads credentials up to the first '@' that comes before any '/'.
  size_t end = start;
  while (end < url.size() && url[end] != '@' && url[end] != '/') ++end;
  if (end < url.size() && url[end] == '@') {
    std::string_view userinfo = url.substr(start, end - start);
    size_t colon = userinfo.find(':');
    if (colon != std::string_view::npos) {
      std::string raw(userinfo.substr(colon + 1));
      add_candidate(out, raw);
      add_candidate(out, percent_decode(raw));
    }
  }
  size_t query = url.find('?');
  if (query == std::string_view::npos) return;
  for (const auto& pair : split(url.substr(query + 1), '&')) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || to_lower(pair.substr(0, eq)) != "password") continue;
    std::string raw = pair.substr(eq + 1);
    add_candidate(out, raw);
    add_candidate(out, percent_decode(raw));
  }
}

// Candidates from key=value text: every value following a `password` keyword.
void keyword_candidates(std::string_view text, std::vector<std::string>& out) {
  const std::string lower = to_lower(text);
  size_t pos = 0;
  while ((pos = lower.find("password", pos)) != std::string::npos) {
    size_t i = pos + 8;
    pos = i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size() || text[i] != '=') continue;
    ++i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::string value;
    if (i < text.size() && text[i] == '\'') {
      for (++i; i < text.size() && text[i] != '\''; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        value += text[i];
      }
    } else {
      while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) value += text[i++];
    }
    add_candidate(out, value);
  }
}

std::string build_conninfo(const std::vector<ConnParam>& entries, bool redact) {
  std::string out;
  for (const auto& entry : entries) {
    if (!out.empty()) out += ' ';
    out += entry.key + "=";
    out += redact && entry.key == "password" ? std::string("****") : quote_conninfo_value(entry.value);
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<ConnParams> ConnParams::parse(std::string_view conninfo_or_url) {
  const std::string text(conninfo_or_url);
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfoParse(text.c_str(), &error),
                                                                        &PQconninfoFree);
  if (!options) {
    std::string reason = error ? std::string(trim(error)) : std::string("out of memory");
    if (error) PQfreemem(error);
    const char* kind = is_url(text) ? "connection URL" : "connection string";
    return Error(ErrorCode::kConfig, std::string("invalid PostgreSQL ") + kind + ": " +
                                         scrub(reason, password_candidates(text)),
                 {},
                 "write key=value pairs (host=… port=… dbname=… user=…) or a URL "
                 "postgresql://user@host:port/database?sslmode=…");
  }
  ConnParams params;
  for (const PQconninfoOption* option = options.get(); option->keyword; ++option) {
    if (option->val) params.entries_.push_back({option->keyword, option->val});
  }
  return params;
}

const std::string* ConnParams::find(std::string_view key) const {
  for (const auto& entry : entries_) {
    if (entry.key == key) return &entry.value;
  }
  return nullptr;
}

std::string ConnParams::get(std::string_view key, std::string_view fallback) const {
  const std::string* value = find(key);
  return value ? *value : std::string(fallback);
}

void ConnParams::set(std::string_view key, std::string value) {
  for (auto& entry : entries_) {
    if (entry.key == key) {
      entry.value = std::move(value);
      return;
    }
  }
  entries_.push_back({std::string(key), std::move(value)});
}

void ConnParams::erase(std::string_view key) {
  std::erase_if(entries_, [&](const ConnParam& entry) { return entry.key == key; });
}

std::string ConnParams::describe() const {
  std::vector<std::string> parts;
  const std::string host = has("host") ? get("host") : get("hostaddr");
  if (!host.empty()) parts.push_back("host " + host);
  if (has("port")) parts.push_back("port " + get("port"));
  if (has("dbname")) parts.push_back("database " + get("dbname"));
  if (has("user")) parts.push_back("user " + get("user"));
  return join(parts, ", ");
}

std::string ConnParams::to_conninfo() const { return build_conninfo(entries_, false); }

std::string ConnParams::to_redacted_conninfo() const { return build_conninfo(entries_, true); }

std::string quote_conninfo_value(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::vector<std::string> password_candidates(std::string_view conninfo_or_url) {
  std::vector<std::string> out;
  if (is_url(conninfo_or_url)) {
    url_candidates(conninfo_or_url, out);
  } else {
    keyword_candidates(conninfo_or_url, out);
  }
  return out;
}

std::string scrub(std::string_view text, const std::vector<std::string>& secrets) {
  std::vector<std::string> ordered;
  for (const auto& secret : secrets) {
    if (secret.size() >= 3) ordered.push_back(secret);
  }
  // Longest first, so a secret containing another is masked whole.
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  std::string out(text);
  for (const auto& secret : ordered) out = replace_all(out, secret, "****");
  return out;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int high = hex_value(text[i + 1]);
      int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

}  // namespace strata::pg

#pragma once
// Connection strings: key=value conninfo ("host=h port=5432 dbname=d") or URLs
// ("postgresql://user:pw@h:5432/d?sslmode=require"), parsed by libpq's own parser, and the
// scrubbing that keeps passwords out of every message. Pure functions and value types;
// thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace strata::pg {

// One parameter as libpq names it: host, hostaddr, port, dbname, user, password, sslmode, …
struct ConnParam {
  std::string key;
  std::string value;
};

// The parameters given explicitly in a conninfo string or URL (libpq's defaults and environment
// variables are not filled in). Keys are unique; order is kept.
class ConnParams {
 public:
  // Parses with PQconninfoParse. Errors: kConfig with libpq's reason, with any password scrubbed.
  static Result<ConnParams> parse(std::string_view conninfo_or_url);

  // The value of `key`, or nullptr when it was not given.
  const std::string* find(std::string_view key) const;
  // The value of `key`, or `fallback`.
  std::string get(std::string_view key, std::string_view fallback = {}) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }
  // Replaces the value of `key`, or appends it.
  void set(std::string_view key, std::string value);
  void erase(std::string_view key);
  const std::vector<ConnParam>& entries() const { return entries_; }

  // "host H, port P, database D, user U" for the parameters given; never the password.
  std::string describe() const;
  // A key=value conninfo with every value quoted, password included (pass it to libpq, never print it).
  std::string to_conninfo() const;
  // The same with the password's value replaced by "****", for display.
  std::string to_redacted_conninfo() const;

 private:
  std::vector<ConnParam> entries_;
};

// A conninfo value in single quotes, with \ and ' escaped as libpq expects.
std::string quote_conninfo_value(std::string_view value);

// Every string in a raw conninfo or URL that may be a password, even when the text does not
// parse: values of password=… (quoted or not), the password of a URL's user:password@ part (raw
// and percent-decoded), and a URL's ?password=… parameter. Used to scrub error messages.
std::vector<std::string> password_candidates(std::string_view conninfo_or_url);

// `text` with every occurrence of each secret replaced by "****". Secrets shorter than 3
// characters are skipped (as SecretMasker does), so ordinary words stay readable.
std::string scrub(std::string_view text, const std::vector<std::string>& secrets);

// Decodes %XX escapes; malformed escapes are kept as they are.
std::string percent_decode(std::string_view text);

}  // namespace strata::pg

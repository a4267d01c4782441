#include "jinja/unicode_case.h"

#include <locale.h>
#include <wctype.h>

namespace strata::jinja::detail {
namespace {

locale_t utf8_locale() {
  static const locale_t kLocale = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return kLocale;
}

// Decodes the code point at s[i] (advancing i); -1 for a byte that does not start a valid
// sequence (i advances by one).
long decode(std::string_view s, std::size_t& i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b = byte(i);
  std::size_t n = b < 0x80 ? 1 : (b >> 5) == 0x6 ? 2 : (b >> 4) == 0xE ? 3 : (b >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) {
    ++i;
    return -1;
  }
  long cp = n == 1 ? b : n == 2 ? (b & 0x1F) : n == 3 ? (b & 0x0F) : (b & 0x07);
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return -1;
    }
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr long kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return -1;
  }
  i += n;
  return cp;
}

void encode(long cp, std::string& out) {
  auto c = [](long v) { return static_cast<char>(v); };
  if (cp < 0x80) {
    out += c(cp);
  } else if (cp < 0x800) {
    out += c(0xC0 | (cp >> 6));
    out += c(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += c(0xE0 | (cp >> 12));
    out += c(0x80 | ((cp >> 6) & 0x3F));
    out += c(0x80 | (cp & 0x3F));
  } else {
    out += c(0xF0 | (cp >> 18));
    out += c(0x80 | ((cp >> 12) & 0x3F));
    out += c(0x80 | ((cp >> 6) & 0x3F));
    out += c(0x80 | (cp & 0x3F));
  }
}

long to_lower(long cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  locale_t loc = utf8_locale();
  return loc ? static_cast<long>(towlower_l(static_cast<wint_t>(cp), loc)) : cp;
}
long to_upper(long cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
  locale_t loc = utf8_locale();
  return loc ? static_cast<long>(towupper_l(static_cast<wint_t>(cp), loc)) : cp;
}
// The Latin digraphs with a title case form (ǅ ǈ ǋ ǲ): cased, neither upper nor lower case.
long title_digraph(long cp) {
  if (cp >= 0x1C4 && cp <= 0x1CC) return 0x1C5 + (cp - 0x1C4) / 3 * 3;
  if (cp >= 0x1F1 && cp <= 0x1F3) return 0x1F2;
  return 0;
}
bool is_title_cp(long cp) { return cp == 0x1C5 || cp == 0x1C8 || cp == 0x1CB || cp == 0x1F2; }
bool is_lower_cp(long cp) {
  if (cp < 0x80) return cp >= 'a' && cp <= 'z';
  locale_t loc = utf8_locale();
  return loc && !is_title_cp(cp) && iswlower_l(static_cast<wint_t>(cp), loc);
}
bool is_upper_cp(long cp) {
  if (cp < 0x80) return cp >= 'A' && cp <= 'Z';
  locale_t loc = utf8_locale();
  return loc && !is_title_cp(cp) && iswupper_l(static_cast<wint_t>(cp), loc);
}
bool is_cased(long cp) { return is_lower_cp(cp) || is_upper_cp(cp) || is_title_cp(cp); }

void put_lower(long cp, std::string& out) {
  if (cp == 0x130) {  // 'İ' -> 'i' + combining dot above
    out += 'i';
    encode(0x307, out);
    return;
  }
  encode(to_lower(cp), out);
}
void put_upper(long cp, std::string& out) {
  if (cp == 0xDF) {  // 'ß' -> "SS"
    out += "SS";
    return;
  }
  encode(to_upper(cp), out);
}

// Python's title case of one character (str.title, str.capitalize).
void put_title(long cp, std::string& out) {
  if (cp == 0xDF) {  // 'ß' -> "Ss"
    out += "Ss";
    return;
  }
  if (long t = title_digraph(cp)) {
    encode(t, out);
    return;
  }
  put_upper(cp, out);
}

// Maps each code point with fn(cp, out); invalid bytes are copied.
template <typename Fn>
std::string map_chars(std::string_view s, Fn&& fn) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    std::size_t start = i;
    long cp = decode(s, i);
    if (cp < 0) out += s[start];
    else fn(cp, out);
  }
  return out;
}

}  // namespace

std::string unicode_lower(std::string_view s) { return map_chars(s, put_lower); }
std::string unicode_upper(std::string_view s) { return map_chars(s, put_upper); }

std::string unicode_swapcase(std::string_view s) {
  return map_chars(s, [](long cp, std::string& out) {
    if (is_upper_cp(cp)) put_lower(cp, out);
    else if (is_lower_cp(cp)) put_upper(cp, out);
    else encode(cp, out);
  });
}

std::string python_title(std::string_view s) {
  bool prev_cased = false;
  return map_chars(s, [&](long cp, std::string& out) {
    bool cased = is_cased(cp);
    if (cased) {
      if (prev_cased) put_lower(cp, out);
      else put_title(cp, out);
    } else {
      encode(cp, out);
    }
    prev_cased = cased;
  });
}

std::string python_capitalize(std::string_view s) {
  bool first = true;
  return map_chars(s, [&](long cp, std::string& out) {
    if (first) put_title(cp, out);
    else put_lower(cp, out);
    first = false;
  });
}

std::string jinja_title(std::string_view s) {
  bool at_start = true;
  return map_chars(s, [&](long cp, std::string& out) {
    bool sep = cp == '-' || cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v' ||
               cp == '(' || cp == '{' || cp == '[' || cp == '<';
    if (sep) {
      encode(cp, out);
      at_start = true;
      return;
    }
    if (at_start) put_upper(cp, out);
    else put_lower(cp, out);
    at_start = false;
  });
}

bool unicode_is_lower(std::string_view s) {
  bool any = false;
  for (std::size_t i = 0; i < s.size();) {
    long cp = decode(s, i);
    if (cp < 0) continue;
    if (is_upper_cp(cp)) return false;
    if (is_lower_cp(cp)) any = true;
  }
  return any;
}

bool unicode_is_upper(std::string_view s) {
  bool any = false;
  for (std::size_t i = 0; i < s.size();) {
    long cp = decode(s, i);
    if (cp < 0) continue;
    if (is_lower_cp(cp)) return false;
    if (is_upper_cp(cp)) any = true;
  }
  return any;
}

}  // namespace strata::jinja::detail

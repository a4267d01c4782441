#include "common/time.h"

#include <chrono>
#include <cmath>
#include <cstdio>

#include "common/strings.h"

namespace strata {

int64_t now_micros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t monotonic_micros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

// Howard Hinnant's civil-date algorithms (public-domain formulas from his date paper).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

std::string format_iso8601(int64_t micros, bool utc) {
  int64_t days = micros >= 0 ? micros / 86400000000LL : -((-micros + 86400000000LL - 1) / 86400000000LL);
  int64_t rem = micros - days * 86400000000LL;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  int hh = static_cast<int>(rem / 3600000000LL);
  int mm = static_cast<int>(rem / 60000000LL % 60);
  int ss = static_cast<int>(rem / 1000000LL % 60);
  int us = static_cast<int>(rem % 1000000LL);
  char buf[64];
  if (us != 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%06d%s", static_cast<long long>(y), m, d, hh,
                  mm, ss, us, utc ? "Z" : "");
  } else {
    std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d%s", static_cast<long long>(y), m, d, hh, mm,
                  ss, utc ? "Z" : "");
  }
  return buf;
}

namespace {
bool read_int(std::string_view s, size_t& pos, size_t digits, int64_t& out) {
  if (pos + digits > s.size()) return false;
  out = 0;
  for (size_t i = 0; i < digits; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += digits;
  return true;
}
}  // namespace

std::optional<int64_t> parse_iso8601(std::string_view s) {
  s = trim(s);
  size_t pos = 0;
  int64_t y, mo, d, h = 0, mi = 0, sec = 0, frac = 0;
  if (!read_int(s, pos, 4, y) || pos >= s.size() || s[pos++] != '-' || !read_int(s, pos, 2, mo) ||
      pos >= s.size() || s[pos++] != '-' || !read_int(s, pos, 2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31) return std::nullopt;
  if (pos < s.size() && (s[pos] == 'T' || s[pos] == ' ')) {
    ++pos;
    if (!read_int(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':' || !read_int(s, pos, 2, mi))
      return std::nullopt;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!read_int(s, pos, 2, sec)) return std::nullopt;
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int64_t scale = 100000;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          frac += (s[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
  }
  int64_t offset = 0;
  if (pos < s.size()) {
    if (s[pos] == 'Z' || s[pos] == 'z') {
      ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
      int sign = s[pos] == '-' ? -1 : 1;
      ++pos;
      int64_t oh, om = 0;
      if (!read_int(s, pos, 2, oh)) return std::nullopt;
      if (pos < s.size() && s[pos] == ':') ++pos;
      if (pos < s.size() && !read_int(s, pos, 2, om)) return std::nullopt;
      offset = sign * (oh * 3600 + om * 60);
    }
  }
  if (pos != s.size()) return std::nullopt;
  int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 86400 + h * 3600 + mi * 60 + sec) - offset) * 1000000LL + frac;
}

std::optional<int64_t> parse_duration(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty()) return std::nullopt;
  double total = 0;
  size_t pos = 0;
  bool any = false;
  while (pos < s.size()) {
    size_t start = pos;
    while (pos < s.size() && ((s[pos] >= '0' && s[pos] <= '9') || s[pos] == '.')) ++pos;
    if (start == pos) return std::nullopt;
    double number;
    try {
      number = std::stod(std::string(s.substr(start, pos - start)));
    } catch (...) {
      return std::nullopt;
    }
    while (pos < s.size() && s[pos] == ' ') ++pos;
    size_t ustart = pos;
    while (pos < s.size() && ((s[pos] >= 'a' && s[pos] <= 'z') || (s[pos] >= 'A' && s[pos] <= 'Z'))) ++pos;
    std::string unit = to_lower(s.substr(ustart, pos - ustart));
    double factor;
    if (unit.empty() || unit == "s" || unit == "sec" || unit == "secs" || unit == "second" || unit == "seconds") {
      factor = 1e6;
      if (unit.empty() && pos != s.size()) return std::nullopt;
    } else if (unit == "ms") {
      factor = 1e3;
    } else if (unit == "m" || unit == "min" || unit == "mins" || unit == "minute" || unit == "minutes") {
      factor = 60e6;
    } else if (unit == "h" || unit == "hr" || unit == "hour" || unit == "hours") {
      factor = 3600e6;
    } else if (unit == "d" || unit == "day" || unit == "days") {
      factor = 86400e6;
    } else if (unit == "w" || unit == "week" || unit == "weeks") {
      factor = 7 * 86400e6;
    } else {
      return std::nullopt;
    }
    total += number * factor;
    any = true;
    while (pos < s.size() && s[pos] == ' ') ++pos;
  }
  if (!any || total < 0 || !std::isfinite(total)) return std::nullopt;
  return static_cast<int64_t>(std::llround(total));
}

std::string format_duration(int64_t micros) {
  double seconds = static_cast<double>(micros) / 1e6;
  char buf[64];
  if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.2fs", seconds);
  } else if (seconds < 3600) {
    std::snprintf(buf, sizeof buf, "%dm %.1fs", static_cast<int>(seconds / 60), std::fmod(seconds, 60));
  } else {
    std::snprintf(buf, sizeof buf, "%dh %dm", static_cast<int>(seconds / 3600), static_cast<int>(seconds / 60) % 60);
  }
  return buf;
}

}  // namespace strata

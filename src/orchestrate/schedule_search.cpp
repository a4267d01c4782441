#include "orchestrate/schedule_search.h"

#include <bit>

#include "common/time.h"
#include "orchestrate/cron.h"

namespace strata::orchestrate {
namespace {

constexpr int64_t kMinutesPerDay = 24 * 60;

unsigned days_in_month(int64_t year, unsigned month) {
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// A position of the search: a civil day and a minute within it.
struct Cursor {
  int64_t day = 0;  // days since 1970-01-01 (local)
  int minute = 0;   // 0..1439
  int64_t year = 0;
  unsigned month = 1;
  unsigned mday = 1;

  void set_day(int64_t new_day, int new_minute) {
    day = new_day;
    minute = new_minute;
    civil_from_days(day, year, month, mday);
  }
  int64_t wall_minute() const { return day * kMinutesPerDay + minute; }
};

Cursor cursor_at(int64_t wall_minute) {
  Cursor c;
  c.set_day(floor_div(wall_minute, kMinutesPerDay), static_cast<int>(floor_mod(wall_minute, kMinutesPerDay)));
  return c;
}

// The lowest set bit of `bits` at or above `from`, or -1.
template <typename Bits>
int lowest_from(Bits bits, int from) {
  if (from >= static_cast<int>(sizeof(Bits) * 8)) return -1;
  const Bits masked = static_cast<Bits>(bits & static_cast<Bits>(~Bits{0} << from));
  return masked == 0 ? -1 : std::countr_zero(masked);
}

// The highest set bit of `bits` at or below `upto`, or -1.
template <typename Bits>
int highest_upto(Bits bits, int upto) {
  if (upto < 0) return -1;
  const int width = static_cast<int>(sizeof(Bits) * 8);
  const Bits mask = upto + 1 >= width ? static_cast<Bits>(~Bits{0}) : static_cast<Bits>((Bits{1} << (upto + 1)) - 1);
  const Bits masked = static_cast<Bits>(bits & mask);
  return masked == 0 ? -1 : std::bit_width(masked) - 1;
}

}  // namespace

std::optional<int64_t> next_wall_minute(const CronFields& fields, int64_t from, int max_years) {
  if (fields.months == 0 || fields.hours == 0 || fields.minutes == 0) return std::nullopt;
  Cursor c = cursor_at(from);
  const int64_t last_year = c.year + max_years;
  while (c.year <= last_year) {
    if ((fields.months >> c.month & 1u) == 0) {
      // Jump to the first day of the next allowed month.
      int month = lowest_from(fields.months, static_cast<int>(c.month) + 1);
      int64_t year = c.year;
      if (month < 0) {
        month = lowest_from(fields.months, 1);
        ++year;
      }
      c.set_day(days_from_civil(year, static_cast<unsigned>(month), 1), 0);
      continue;
    }
    if (!fields.matches_day(c.year, c.month, c.mday)) {
      c.set_day(c.day + 1, 0);
      continue;
    }
    const int hour = lowest_from(fields.hours, c.minute / 60);
    if (hour < 0) {
      c.set_day(c.day + 1, 0);
      continue;
    }
    const int from_minute = hour == c.minute / 60 ? c.minute % 60 : 0;
    const int minute = lowest_from(fields.minutes, from_minute);
    if (minute < 0) {
      if (hour == 23) {
        c.set_day(c.day + 1, 0);
      } else {
        c.minute = (hour + 1) * 60;
      }
      continue;
    }
    c.minute = hour * 60 + minute;
    return c.wall_minute();
  }
  return std::nullopt;
}

std::optional<int64_t> prev_wall_minute(const CronFields& fields, int64_t from, int max_years) {
  if (fields.months == 0 || fields.hours == 0 || fields.minutes == 0) return std::nullopt;
  Cursor c = cursor_at(from);
  const int64_t first_year = c.year - max_years;
  constexpr int kLastMinute = static_cast<int>(kMinutesPerDay) - 1;
  while (c.year >= first_year) {
    if ((fields.months >> c.month & 1u) == 0) {
      // Jump to the last minute of the previous allowed month.
      int month = highest_upto(fields.months, static_cast<int>(c.month) - 1);
      int64_t year = c.year;
      if (month < 1) {
        month = highest_upto(fields.months, 12);
        --year;
      }
      const unsigned m = static_cast<unsigned>(month);
      c.set_day(days_from_civil(year, m, days_in_month(year, m)), kLastMinute);
      continue;
    }
    if (!fields.matches_day(c.year, c.month, c.mday)) {
      c.set_day(c.day - 1, kLastMinute);
      continue;
    }
    const int hour = highest_upto(fields.hours, c.minute / 60);
    if (hour < 0) {
      c.set_day(c.day - 1, kLastMinute);
      continue;
    }
    const int upto_minute = hour == c.minute / 60 ? c.minute % 60 : 59;
    const int minute = highest_upto(fields.minutes, upto_minute);
    if (minute < 0) {
      if (hour == 0) {
        c.set_day(c.day - 1, kLastMinute);
      } else {
        c.minute = hour * 60 - 1;
      }
      continue;
    }
    c.minute = hour * 60 + minute;
    return c.wall_minute();
  }
  return std::nullopt;
}

bool CronFields::matches_day(int64_t year, unsigned month, unsigned day) const {
  if ((months >> month & 1u) == 0) return false;
  const unsigned month_days = days_in_month(year, month);
  const bool dom = (days >> day & 1u) != 0 || (last_day && day == month_days);
  // 1970-01-01 was a Thursday (weekday 4, Sunday = 0).
  const int weekday = static_cast<int>(floor_mod(days_from_civil(year, month, day) + 4, 7));
  bool dow = (weekdays >> weekday & 1u) != 0;
  if (has_nth) {
    const unsigned nth_bits = nth[static_cast<size_t>(weekday)];
    const unsigned occurrence = (day - 1) / 7 + 1;
    dow = (nth_bits >> occurrence & 1u) != 0 || ((nth_bits >> 6 & 1u) != 0 && day + 7 > month_days);
  }
  if (dom_restricted && dow_restricted) return dom || dow;
  if (dom_restricted) return dom;
  if (dow_restricted) return dow;
  return true;
}

}  // namespace strata::orchestrate

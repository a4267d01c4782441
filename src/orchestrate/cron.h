#pragma once
// Cron expressions for pipeline schedules, with croniter's semantics (the library Airflow uses).
//
// Syntax: five fields `minute hour day-of-month month day-of-week`, separated by blanks. Each field
// is a comma-separated list of items: `*`, `N`, `A-B`, `*/S`, `A-B/S`, `A/S` (= A-max/S). Months
// may be written JAN…DEC and weekdays SUN…SAT (any case); day-of-week takes 0–7 (0 and 7 are
// Sunday) and a range may end on Sunday (`FRI-SUN`). Day-of-month takes `L` (the month's last day).
// Day-of-week takes `D#N` (the N-th weekday D of the month, N 1–5) and `DL` or `LD` (the last
// weekday D of the month); such items cannot be mixed with plain weekdays in one field.
// When both day fields are restricted a day matches if EITHER matches (cron's OR rule); a field
// that lists every value counts as unrestricted, as in croniter.
// Presets: @hourly, @daily, @midnight, @weekly, @monthly, @quarterly, @yearly, @annually, @once;
// `none` / `null` / `~` mean "no schedule" (manual runs only).
//
// Fire times are wall-clock times in a TimeZone, found by skipping whole fields (never minute by
// minute). DST (like croniter with zoneinfo): a wall time inside a spring-forward gap fires at the
// instant it has with the pre-change offset (02:30 → 03:30 CEST; several gap times that land on
// one instant fire once); an ambiguous wall time fires at its first occurrence only. The search
// from an instant T starts at the wall-clock minute of T+60s (next) or the last whole minute
// before T (prev). Unlike croniter, a result is always strictly after (next) / before (prev) T,
// and croniter's "lag" adjustment after an offset change is not applied (see cron_dtest.cpp).
//
// CronExpression is an immutable value; all const members are thread-safe.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/result.h"
#include "orchestrate/schedule_time_zone.h"

namespace strata::orchestrate {

// What a schedule is: a cron expression (presets included), `@once`, or none (manual only).
enum class ScheduleKind { kCron, kOnce, kNone };

// The parsed fields as sets of allowed values (bit i set = value i allowed).
struct CronFields {
  uint64_t minutes = 0;              // bits 0-59
  uint32_t hours = 0;                // bits 0-23
  uint32_t days = 0;                 // bits 1-31
  bool last_day = false;             // `L` in day-of-month
  uint16_t months = 0;               // bits 1-12
  uint8_t weekdays = 0;              // bits 0-6, 0 = Sunday
  std::array<uint8_t, 7> nth{};      // per weekday: bit N (1-5) = `D#N`, bit 6 = last (`DL`)
  bool has_nth = false;              // any `#` / `L` item in day-of-week
  bool dom_restricted = false;       // day-of-month is not `*` (croniter's test)
  bool dow_restricted = false;       // day-of-week is not `*` (croniter's test)

  // Whether a civil date matches the day fields and the month field.
  bool matches_day(int64_t year, unsigned month, unsigned day) const;
};

class CronExpression {
 public:
  // Parses an expression or preset. `where` is the position of the first character of `text` in a
  // user's file (default: "cron expression", line 1, column 1); errors (kConfig) point at the
  // column of the bad item, say what is wrong ("hour 25 out of range 0-23") and give a hint.
  static Result<CronExpression> parse(std::string_view text, const SourceLocation& where = {});

  ScheduleKind kind() const { return kind_; }
  bool is_cron() const { return kind_ == ScheduleKind::kCron; }
  // The text as written (trimmed).
  const std::string& text() const { return text_; }
  // The five-field form ("0 0 1 */3 *" for @quarterly); the preset name for @once, "none" for manual.
  const std::string& expanded() const { return expanded_; }
  const CronFields& fields() const { return fields_; }
  // True when every hour of the day is allowed (the hour field is `*`).
  bool covers_every_hour() const { return fields_.hours == 0xFFFFFFu; }

  // The first fire time strictly after `after_micros`, in `zone`; nullopt for @once / none, or when
  // nothing fires within 50 years (e.g. `0 0 30 2 *`), like croniter. Result: micros, UTC, whole
  // minutes.
  std::optional<int64_t> next(int64_t after_micros, const TimeZone& zone) const;
  // The last fire time strictly before `before_micros`; nullopt as for next().
  std::optional<int64_t> prev(int64_t before_micros, const TimeZone& zone) const;
  // Whether `micros` is itself a fire time.
  bool fires_at(int64_t micros, const TimeZone& zone) const;

 private:
  CronExpression() = default;

  ScheduleKind kind_ = ScheduleKind::kNone;
  std::string text_;
  std::string expanded_;
  CronFields fields_;
};

}  // namespace strata::orchestrate

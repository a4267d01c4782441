#pragma once
// Time helpers: the wall clock in microseconds since the Unix epoch, ISO 8601 formatting and
// parsing, and human durations ("90s", "5m", "1h30m", "2d", "250ms", or plain seconds).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata {

// Microseconds since 1970-01-01T00:00:00Z.
int64_t now_micros();
// A monotonic clock in microseconds, for measuring durations.
int64_t monotonic_micros();

// "2026-11-28T04:19:31.123456Z" (utc) — fractional part only when non-zero.
std::string format_iso8601(int64_t micros, bool utc = true);
// Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.ffffff]]" with optional "Z" or "+HH:MM"; a value
// without an offset is taken as UTC. nullopt when malformed.
std::optional<int64_t> parse_iso8601(std::string_view text);

// Parses a duration into microseconds: "250ms", "30s", "5m", "1h30m", "2d", "1w", or a bare number of
// seconds ("300", "1.5"). nullopt when malformed or negative.
std::optional<int64_t> parse_duration(std::string_view text);
// "1h 2m 3.4s" style, for reports.
std::string format_duration(int64_t micros);

// Days since 1970-01-01 for a civil date, and back (proleptic Gregorian).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t days, int64_t& y, unsigned& m, unsigned& d);

}  // namespace strata

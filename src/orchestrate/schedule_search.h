#pragma once
// Internal to the orchestrate module: the wall-clock search behind CronExpression::next/prev.
// Wall-clock times are whole minutes counted from 1970-01-01T00:00 local time. The search skips
// whole months, days and hours that cannot match, so it never walks minute by minute. Pure
// functions; thread-safe.

#include <cstdint>
#include <optional>

namespace strata::orchestrate {

struct CronFields;

// The first wall-clock minute at or after `from` that matches `fields`, or nullopt when none
// falls within `max_years` calendar years after `from`'s year.
std::optional<int64_t> next_wall_minute(const CronFields& fields, int64_t from, int max_years);
// The last wall-clock minute at or before `from` that matches, or nullopt when none falls within
// `max_years` calendar years before `from`'s year.
std::optional<int64_t> prev_wall_minute(const CronFields& fields, int64_t from, int max_years);

// Floor division and modulo for possibly negative values.
inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int64_t floor_mod(int64_t a, int64_t b) { return a - floor_div(a, b) * b; }

}  // namespace strata::orchestrate

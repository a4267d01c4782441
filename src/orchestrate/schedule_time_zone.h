#pragma once
// TimeZone: an IANA time zone (from the OS database, /usr/share/zoneinfo, through Howard Hinnant's
// date/tz) used to turn schedule wall-clock times into instants and back. Instants are
// microseconds (or seconds) since the Unix epoch, UTC; "local seconds" count seconds since
// 1970-01-01T00:00 on the zone's wall clock.
//
// Wall-clock times that do not exist or exist twice around a DST change are resolved the way
// Python's zoneinfo does with fold=0 (which is what croniter ends up with): a time inside a gap is
// read with the offset in force before the change (02:30 in Europe/Berlin on the spring change is
// 01:30Z = 03:30 CEST), and an ambiguous time means its first occurrence.
//
// A TimeZone is a small copyable value; the zone data it points to lives for the whole process.
// All members are const and thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "common/error.h"
#include "common/result.h"

namespace date {
class time_zone;
}

namespace strata::orchestrate {

class TimeZone {
 public:
  // UTC.
  TimeZone() = default;
  static TimeZone utc() { return TimeZone(); }
  // Finds an IANA zone by name ("Europe/Berlin", "UTC"). Errors: kConfig "unknown time zone",
  // located at `where` when given, with a hint.
  static Result<TimeZone> find(std::string_view name, const SourceLocation& where = {});

  // "UTC" or the IANA name.
  const std::string& name() const { return name_; }
  bool is_utc() const { return zone_ == nullptr; }

  // The offset from UTC, in seconds, in force at an instant.
  int64_t offset_at(int64_t utc_seconds) const;
  // The wall-clock time (local seconds) of an instant.
  int64_t to_local(int64_t utc_seconds) const { return utc_seconds + offset_at(utc_seconds); }
  // The instant of a wall-clock time; gaps and ambiguous times as described above.
  int64_t from_local(int64_t local_seconds) const;

 private:
  TimeZone(const date::time_zone* zone, std::string name) : zone_(zone), name_(std::move(name)) {}

  const date::time_zone* zone_ = nullptr;  // nullptr: UTC; not owned (the tz database's)
  std::string name_ = "UTC";
};

// "2024-03-31T03:00:00+02:00": an instant as ISO 8601 in a zone's wall-clock time with its offset
// (microseconds appear only when non-zero).
std::string format_in_zone(int64_t utc_micros, const TimeZone& zone);

// Floor division of microseconds to seconds (correct for instants before 1970 too).
inline int64_t micros_to_seconds_floor(int64_t micros) {
  return micros >= 0 ? micros / 1000000 : -((-micros + 999999) / 1000000);
}

}  // namespace strata::orchestrate

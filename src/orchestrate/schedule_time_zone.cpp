#include "orchestrate/schedule_time_zone.h"

#include <chrono>
#include <cstdio>
#include <exception>

#include <date/tz.h>

#include "common/strings.h"
#include "common/time.h"

namespace strata::orchestrate {

Result<TimeZone> TimeZone::find(std::string_view name, const SourceLocation& where) {
  const std::string wanted(trim(name));
  if (wanted == "UTC" || wanted == "utc" || wanted == "Etc/UTC" || wanted == "Z") return TimeZone();
  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(wanted);
  } catch (const std::exception&) {
    zone = nullptr;  // the library reports an unknown name by throwing
  }
  if (zone == nullptr || wanted.empty()) {
    return Error(ErrorCode::kConfig, "unknown time zone '" + wanted + "'", where,
                 "use an IANA time zone name such as UTC, Europe/Berlin or America/New_York "
                 "(the names under /usr/share/zoneinfo)");
  }
  return TimeZone(zone, std::string(zone->name()));
}

int64_t TimeZone::offset_at(int64_t utc_seconds) const {
  if (zone_ == nullptr) return 0;
  const date::sys_seconds instant{std::chrono::seconds(utc_seconds)};
  return zone_->get_info(instant).offset.count();
}

int64_t TimeZone::from_local(int64_t local_seconds) const {
  if (zone_ == nullptr) return local_seconds;
  const date::local_seconds wall{std::chrono::seconds(local_seconds)};
  // `first` is the only period for a unique time, the period before the change for a gap (so the
  // wall time is read with the old offset) and the earlier period for an ambiguous time.
  const date::local_info info = zone_->get_info(wall);
  return local_seconds - info.first.offset.count();
}

std::string format_in_zone(int64_t utc_micros, const TimeZone& zone) {
  const int64_t seconds = micros_to_seconds_floor(utc_micros);
  const int64_t fraction = utc_micros - seconds * 1000000;
  const int64_t offset = zone.offset_at(seconds);
  // format_iso8601 prints a wall-clock value when asked for a non-UTC form.
  std::string out = format_iso8601((seconds + offset) * 1000000 + fraction, /*utc=*/false);
  const int64_t magnitude = offset < 0 ? -offset : offset;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%c%02lld:%02lld", offset < 0 ? '-' : '+',
                static_cast<long long>(magnitude / 3600), static_cast<long long>(magnitude / 60 % 60));
  out += buf;
  if (magnitude % 60 != 0) {
    std::snprintf(buf, sizeof buf, ":%02lld", static_cast<long long>(magnitude % 60));
    out += buf;
  }
  return out;
}

}  // namespace strata::orchestrate

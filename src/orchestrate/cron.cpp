#include "orchestrate/cron.h"

#include <cctype>
#include <string>
#include <vector>

#include "common/strings.h"
#include "orchestrate/schedule_search.h"

namespace strata::orchestrate {
namespace {

// croniter gives up when no fire time falls within this many years.
constexpr int kMaxYearsBetweenMatches = 50;

struct Preset {
  const char* name;
  const char* expression;  // nullptr: not a cron expression (@once)
};

constexpr Preset kPresets[] = {
    {"@hourly", "0 * * * *"},     {"@daily", "0 0 * * *"},     {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},     {"@monthly", "0 0 1 * *"},   {"@quarterly", "0 0 1 */3 *"},
    {"@yearly", "0 0 1 1 *"},     {"@annually", "0 0 1 1 *"},  {"@once", nullptr},
};

constexpr const char* kPresetList = "@hourly @daily @midnight @weekly @monthly @quarterly @yearly @annually @once";

enum FieldIndex { kMinute = 0, kHour, kDayOfMonth, kMonth, kDayOfWeek, kFieldCount };

struct FieldInfo {
  const char* name;
  int min;
  int max;  // for day-of-week 7 (= Sunday again)
};

constexpr FieldInfo kFieldInfo[kFieldCount] = {
    {"minute", 0, 59}, {"hour", 0, 23}, {"day-of-month", 1, 31}, {"month", 1, 12}, {"day-of-week", 0, 7}};

constexpr const char* kMonthNames[12] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                         "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr const char* kDayNames[7] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

// A piece of the expression with its offset (0-based) in the whole text.
struct Piece {
  std::string_view text;
  size_t offset = 0;
};

std::vector<Piece> split_pieces(Piece whole, char separator) {
  std::vector<Piece> out;
  size_t start = 0;
  for (size_t i = 0; i <= whole.text.size(); ++i) {
    if (i == whole.text.size() || whole.text[i] == separator) {
      out.push_back({whole.text.substr(start, i - start), whole.offset + start});
      start = i + 1;
    }
  }
  return out;
}

std::vector<Piece> split_blanks(std::string_view text) {
  std::vector<Piece> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    const size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > start) out.push_back({text.substr(start, i - start), start});
  }
  return out;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Parses one field into `fields`; errors are located through `fail`.
class FieldParser {
 public:
  FieldParser(std::string_view text, const SourceLocation& where) : text_(text), where_(where) {}

  Error fail(size_t offset, const std::string& message, const std::string& hint) const {
    SourceLocation at = where_;
    at.column = where_.column + static_cast<int>(offset);
    return Error(ErrorCode::kConfig, message + " in cron expression \"" + std::string(text_) + "\"", at, hint);
  }

  Status parse_field(int field, Piece piece, CronFields& fields) {
    bool plain_weekday = false;
    size_t first_nth_offset = 0;
    for (const Piece& item : split_pieces(piece, ',')) {
      if (item.text.empty()) {
        return fail(item.offset, std::string("empty item in the ") + kFieldInfo[field].name + " field",
                    "remove the extra comma");
      }
      bool was_nth = false;
      STRATA_TRY(parse_item(field, item, fields, was_nth));
      if (was_nth && !fields.has_nth) first_nth_offset = item.offset;
      if (was_nth) fields.has_nth = true;
      if (!was_nth && field == kDayOfWeek) plain_weekday = true;
    }
    if (field == kDayOfWeek && fields.has_nth && plain_weekday) {
      return fail(first_nth_offset, "day-of-week cannot mix plain weekdays with D#N or DL items",
                  "croniter rejects this mix too; use only D#N/DL items, or only plain weekdays");
    }
    return ok_status();
  }

 private:
  Status parse_item(int field, Piece item, CronFields& fields, bool& was_nth) {
    const std::string upper = to_upper(item.text);
    if (upper.find('?') != std::string::npos) {
      return fail(item.offset + upper.find('?'), "'?' is not supported", "write * instead of ?");
    }
    if (upper.find('H') != std::string::npos && field != kMonth && field != kDayOfWeek) {
      return fail(item.offset + upper.find('H'), "hashed values (H) are not supported",
                  "choose a fixed value, e.g. 17 instead of H");
    }
    if (field == kDayOfMonth && upper == "L") {
      fields.last_day = true;
      return ok_status();
    }
    if (field == kDayOfWeek && (upper.find('#') != std::string::npos || is_last_weekday(upper))) {
      was_nth = true;
      return parse_nth(item, upper, fields);
    }
    if (upper.find('L') != std::string::npos && upper.find("JUL") == std::string::npos) {
      return fail(item.offset + upper.find('L'), std::string("'L' is not allowed here in the ") +
                                                     kFieldInfo[field].name + " field",
                  "L stands alone in day-of-month (last day of the month) or follows a weekday in "
                  "day-of-week (5L: last Friday)");
    }
    if (upper.find('#') != std::string::npos) {
      return fail(item.offset + upper.find('#'), std::string("'#' is not allowed in the ") +
                                                     kFieldInfo[field].name + " field",
                  "D#N (the N-th weekday D of the month) belongs in the day-of-week field");
    }
    return parse_range_item(field, item, upper, fields);
  }

  static bool is_last_weekday(const std::string& upper) {
    return upper.size() > 1 && (upper.back() == 'L' || upper.front() == 'L');
  }

  Status parse_range_item(int field, Piece item, const std::string& upper, CronFields& fields) {
    const FieldInfo& info = kFieldInfo[field];
    const size_t slash = upper.find('/');
    std::string_view base = std::string_view(upper).substr(0, slash);
    int step = 1;
    if (slash != std::string::npos) {
      const std::string_view step_text = std::string_view(upper).substr(slash + 1);
      const size_t step_offset = item.offset + slash + 1;
      if (!all_digits(step_text) || step_text.size() > 4) {
        return fail(step_offset, std::string("bad step '") + std::string(step_text) + "' in the " + info.name +
                                     " field",
                    "a step is a whole number after '/', e.g. */15 or 0-30/5");
      }
      step = std::stoi(std::string(step_text));
      if (step == 0) {
        return fail(step_offset, std::string("step 0 in the ") + info.name + " field", "a step must be at least 1");
      }
    }
    int low = info.min;
    int high = info.max;
    if (base != "*") {
      const size_t dash = base.find('-');
      STRATA_TRY(parse_value(field, {base.substr(0, dash), item.offset}, low));
      if (dash != std::string_view::npos) {
        STRATA_TRY(parse_value(field, {base.substr(dash + 1), item.offset + dash + 1}, high));
        if (field == kDayOfWeek && high == 0 && low > 0) high = 7;  // FRI-SUN
        if (low > high) {
          return fail(item.offset, std::string("range ") + std::string(item.text.substr(0, dash)) + "-" +
                                       std::string(base.substr(dash + 1)) + " in the " + info.name +
                                       " field goes backwards",
                      "ranges do not wrap around: write the two parts as a list, e.g. 22-23,0-3");
        }
      } else if (slash == std::string::npos) {
        high = low;
      }
    }
    for (int v = low; v <= high; v += step) set_value(field, v, fields);
    return ok_status();
  }

  Status parse_nth(Piece item, const std::string& upper, CronFields& fields) {
    const size_t hash = upper.find('#');
    std::string_view day_text;
    int bit = 6;  // last
    size_t day_offset = item.offset;
    if (hash != std::string::npos) {
      day_text = std::string_view(upper).substr(0, hash);
      const std::string_view n_text = std::string_view(upper).substr(hash + 1);
      if (!all_digits(n_text) || n_text.size() > 2 || std::stoi(std::string(n_text)) < 1 ||
          std::stoi(std::string(n_text)) > 5) {
        return fail(item.offset + hash + 1, "week number '" + std::string(n_text) + "' after '#' must be 1-5",
                    "D#N means the N-th weekday D of the month, e.g. 1#2 for the second Monday");
      }
      bit = std::stoi(std::string(n_text));
    } else if (upper.back() == 'L') {
      day_text = std::string_view(upper).substr(0, upper.size() - 1);
    } else {
      day_text = std::string_view(upper).substr(1);
      day_offset += 1;
    }
    int weekday = 0;
    STRATA_TRY(parse_value(kDayOfWeek, {day_text, day_offset}, weekday));
    fields.nth[static_cast<size_t>(weekday % 7)] |= static_cast<uint8_t>(1u << bit);
    return ok_status();
  }

  Status parse_value(int field, Piece value, int& out) const {
    const FieldInfo& info = kFieldInfo[field];
    if (value.text.empty()) {
      return fail(value.offset, std::string("missing value in the ") + info.name + " field",
                  std::string("write a number ") + std::to_string(info.min) + "-" + std::to_string(info.max) +
                      (field == kMonth ? " or a month name (JAN-DEC)" : field == kDayOfWeek ? " or a day name (SUN-SAT)" : ""));
    }
    if (all_digits(value.text)) {
      out = value.text.size() > 4 ? 99999 : std::stoi(std::string(value.text));
      if (out < info.min || out > info.max) {
        return fail(value.offset, std::string(info.name) + " " + std::string(value.text) + " out of range " +
                                      std::to_string(info.min) + "-" + std::to_string(info.max),
                    std::string("the ") + info.name + " field takes values from " + std::to_string(info.min) +
                        " to " + std::to_string(info.max) + (field == kDayOfWeek ? " (0 and 7 are Sunday)" : ""));
      }
      return ok_status();
    }
    if (field == kMonth || field == kDayOfWeek) {
      const auto* names = field == kMonth ? kMonthNames : kDayNames;
      const int count = field == kMonth ? 12 : 7;
      for (int i = 0; i < count; ++i) {
        if (value.text == names[i]) {
          out = field == kMonth ? i + 1 : i;
          return ok_status();
        }
      }
      return fail(value.offset, std::string("unknown ") + (field == kMonth ? "month" : "day") + " name '" +
                                    std::string(value.text) + "'",
                  field == kMonth ? "use JAN, FEB, …, DEC or 1-12" : "use SUN, MON, …, SAT or 0-7 (0 and 7 are Sunday)");
    }
    return fail(value.offset, "'" + std::string(value.text) + "' is not a number in the " + info.name + " field",
                std::string("write a number ") + std::to_string(info.min) + "-" + std::to_string(info.max) +
                    ", a range a-b, a step */n, or a list a,b");
  }

  static void set_value(int field, int v, CronFields& f) {
    switch (field) {
      case kMinute: f.minutes |= uint64_t{1} << v; break;
      case kHour: f.hours |= uint32_t{1} << v; break;
      case kDayOfMonth: f.days |= uint32_t{1} << v; break;
      case kMonth: f.months = static_cast<uint16_t>(f.months | (1u << v)); break;
      default: f.weekdays = static_cast<uint8_t>(f.weekdays | (1u << (v % 7))); break;
    }
  }

  std::string_view text_;
  SourceLocation where_;
};

}  // namespace

Result<CronExpression> CronExpression::parse(std::string_view text, const SourceLocation& where) {
  SourceLocation base = where;
  if (base.empty()) base = {"cron expression", 1, 1};
  if (base.column == 0) base.column = 1;
  // Columns count from the first character of `text`, so keep leading blanks in the offsets.
  CronExpression out;
  out.text_ = std::string(trim(text));
  const std::string lower = to_lower(out.text_);
  FieldParser parser(text, base);
  if (out.text_.empty()) {
    return parser.fail(0, "empty schedule", "write a cron expression such as \"0 * * * *\", a preset such as "
                                            "@daily, or none for manual runs only");
  }
  if (lower == "none" || lower == "null" || lower == "~") {
    out.kind_ = ScheduleKind::kNone;
    out.expanded_ = "none";
    return out;
  }
  std::string_view body = text;
  if (lower.front() == '@') {
    const size_t at = text.find('@');
    for (const Preset& preset : kPresets) {
      if (lower == preset.name) {
        if (preset.expression == nullptr) {
          out.kind_ = ScheduleKind::kOnce;
          out.expanded_ = preset.name;
          return out;
        }
        CronExpression expanded = std::move(parse(preset.expression)).value();
        expanded.text_ = out.text_;
        return expanded;
      }
    }
    return parser.fail(at, "unknown preset '" + out.text_ + "'", std::string("use one of ") + kPresetList);
  }
  const std::vector<Piece> pieces = split_blanks(body);
  if (pieces.size() != kFieldCount) {
    const size_t offset = pieces.size() > kFieldCount ? pieces[kFieldCount].offset : 0;
    return parser.fail(offset, "expected 5 fields (minute hour day-of-month month day-of-week), found " +
                                   std::to_string(pieces.size()),
                       pieces.size() > kFieldCount ? "seconds and years are not supported: remove the extra fields"
                                                   : "write all five fields, e.g. \"30 2 * * *\" for 02:30 every day");
  }
  for (int field = 0; field < kFieldCount; ++field) {
    STRATA_TRY(parser.parse_field(field, pieces[static_cast<size_t>(field)], out.fields_));
  }
  CronFields& f = out.fields_;
  f.dom_restricted = !(f.days == 0xFFFFFFFEu && !f.last_day);
  f.dow_restricted = f.has_nth || f.weekdays != 0x7Fu;
  out.kind_ = ScheduleKind::kCron;
  std::string expanded;
  for (const Piece& p : pieces) expanded += (expanded.empty() ? "" : " ") + std::string(p.text);
  out.expanded_ = expanded;
  return out;
}

std::optional<int64_t> CronExpression::next(int64_t after_micros, const TimeZone& zone) const {
  if (kind_ != ScheduleKind::kCron) return std::nullopt;
  const int64_t after = micros_to_seconds_floor(after_micros);
  int64_t from = floor_div(zone.to_local(after + 60), 60);
  for (;;) {
    const std::optional<int64_t> wall = next_wall_minute(fields_, from, kMaxYearsBetweenMatches);
    if (!wall) return std::nullopt;
    const int64_t instant = zone.from_local(*wall * 60) * 1000000;
    // Inside a repeated (ambiguous) hour the first occurrence may lie before `after`; skip it.
    if (instant > after_micros) return instant;
    from = *wall + 1;
  }
}

std::optional<int64_t> CronExpression::prev(int64_t before_micros, const TimeZone& zone) const {
  if (kind_ != ScheduleKind::kCron) return std::nullopt;
  const int64_t ceil_seconds = -micros_to_seconds_floor(-before_micros);
  const int64_t back = floor_mod(ceil_seconds, 60) != 0 ? 1 : 60;
  int64_t from = floor_div(zone.to_local(ceil_seconds - back), 60);
  for (;;) {
    const std::optional<int64_t> wall = prev_wall_minute(fields_, from, kMaxYearsBetweenMatches);
    if (!wall) return std::nullopt;
    const int64_t instant = zone.from_local(*wall * 60) * 1000000;
    if (instant < before_micros) return instant;
    from = *wall - 1;
  }
}

bool CronExpression::fires_at(int64_t micros, const TimeZone& zone) const {
  const std::optional<int64_t> hit = next(micros - 1, zone);
  return hit && *hit == micros;
}

}  // namespace strata::orchestrate

// `strata cron "EXPR" [--from TIME] [--count N] [--tz ZONE]`: prints the next fire times of a
// schedule, ISO 8601 with the zone's offset, one a line — for users checking a schedule.

#include <string>

#include "cli/app.h"
#include "common/strings.h"
#include "common/time.h"
#include "orchestrate/cron.h"

namespace strata::cli {
namespace {

struct CronOptions {
  std::string expression;
  std::string from;
  int count = 10;
  std::string zone = "UTC";
};

// Whether an ISO 8601 text carries its own offset ("Z", "+02:00", "-05:00" after the time).
bool has_offset(const std::string& text) {
  const size_t t = text.find_first_of("Tt ");
  if (t == std::string::npos) return false;
  return text.find_first_of("Zz+-", t) != std::string::npos;
}

// The start instant: now, or --from read in the schedule's zone unless it names its own offset.
Result<int64_t> start_instant(const CronOptions& options, const orchestrate::TimeZone& zone) {
  if (options.from.empty()) return now_micros();
  const std::optional<int64_t> parsed = parse_iso8601(options.from);
  if (!parsed) {
    return Error(ErrorCode::kUsage, "bad --from time '" + options.from + "'", {},
                 "write an ISO 8601 time such as 2025-03-30T00:00, 2025-03-30T00:00:00+01:00 or 2025-03-30");
  }
  if (has_offset(options.from)) return *parsed;
  const int64_t seconds = orchestrate::micros_to_seconds_floor(*parsed);
  return zone.from_local(seconds) * 1000000 + (*parsed - seconds * 1000000);
}

Status run_cron(const CronOptions& options, CliContext& context) {
  STRATA_ASSIGN(const orchestrate::CronExpression cron, orchestrate::CronExpression::parse(options.expression));
  STRATA_ASSIGN(const orchestrate::TimeZone zone, orchestrate::TimeZone::find(options.zone, {"--tz", 0, 0}));
  if (options.count < 1 || options.count > 100000) {
    return Error(ErrorCode::kUsage, "--count " + std::to_string(options.count) + " out of range",
                 {}, "ask for 1 to 100000 fire times");
  }
  STRATA_ASSIGN(int64_t cursor, start_instant(options, zone));
  if (!cron.is_cron()) {
    context.err << (cron.kind() == orchestrate::ScheduleKind::kOnce
                        ? "@once: a single run at the pipeline's start_date, no recurring fire times\n"
                        : "no schedule: the pipeline runs only when triggered\n");
    return ok_status();
  }
  for (int i = 0; i < options.count; ++i) {
    const std::optional<int64_t> next = cron.next(cursor, zone);
    if (!next) {
      if (i == 0) {
        return Error(ErrorCode::kUsage, "\"" + cron.text() + "\" never fires within 50 years", {},
                     "check the day-of-month and month fields: dates such as February 30 or April 31 never exist");
      }
      break;
    }
    context.out << orchestrate::format_in_zone(*next, zone) << "\n";
    cursor = *next;
  }
  return ok_status();
}

}  // namespace

void register_cron(CLI::App& app, CliContext& context) {
  auto options = std::make_shared<CronOptions>();
  auto* cmd = app.add_subcommand("cron", "Print the next fire times of a cron expression or preset");
  cmd->add_option("expression", options->expression, "5-field cron expression or preset, e.g. \"0 2 * * MON-FRI\"")
      ->required();
  cmd->add_option("--from", options->from, "start after this time (ISO 8601; default now; no offset = in --tz)");
  cmd->add_option("--count,-n", options->count, "how many fire times to print (default 10)");
  cmd->add_option("--tz", options->zone, "IANA time zone of the schedule (default UTC)");
  bind_action(*cmd, context, [options, &context]() -> Status { return run_cron(*options, context); });
}

}  // namespace strata::cli

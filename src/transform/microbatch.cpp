// incremental_strategy='microbatch' (dbt 1.9): a model built one batch of its event_time at a
// time. Each batch compiles the model with its window (ref() and source() of nodes with an
// `event_time` config read only the window's rows) and replaces the window's rows of the table
// in a transaction of its own; a failed batch leaves the others' rows and the table as they were.
#include <algorithm>

#include "common/strings.h"
#include "common/time.h"
#include "transform/runner_internal.h"

namespace strata::transform::detail {

namespace {

constexpr int64_t kHour = 3600LL * 1000000;
constexpr int64_t kDay = 24 * kHour;

enum class BatchSize { kHour, kDay, kMonth, kYear };

std::optional<BatchSize> parse_batch_size(const std::string& text) {
  if (text == "hour") return BatchSize::kHour;
  if (text == "day") return BatchSize::kDay;
  if (text == "month") return BatchSize::kMonth;
  if (text == "year") return BatchSize::kYear;
  return std::nullopt;
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// The start of the batch holding `t` (UTC microseconds).
int64_t batch_floor(int64_t t, BatchSize size) {
  if (size == BatchSize::kHour) return floor_div(t, kHour) * kHour;
  const int64_t day = floor_div(t, kDay);
  if (size == BatchSize::kDay) return day * kDay;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(day, y, m, d);
  return days_from_civil(y, size == BatchSize::kMonth ? m : 1, 1) * kDay;
}

// The batch start `n` batches after the batch start `t` (n may be negative).
int64_t batch_step(int64_t t, BatchSize size, int64_t n) {
  if (size == BatchSize::kHour) return t + n * kHour;
  if (size == BatchSize::kDay) return t + n * kDay;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(floor_div(t, kDay), y, m, d);
  int64_t months = y * 12 + (m - 1) + n * (size == BatchSize::kMonth ? 1 : 12);
  return days_from_civil(floor_div(months, 12), static_cast<unsigned>(months - floor_div(months, 12) * 12) + 1, 1) *
         kDay;
}

// "2024-01-31 00:00:00", the literal batches are compared with.
std::string timestamp_literal(int64_t t) {
  std::string iso = format_iso8601(t);
  if (!iso.empty() && iso.back() == 'Z') iso.pop_back();
  std::replace(iso.begin(), iso.end(), 'T', ' ');
  return iso;
}

std::string config_text(const Node& n, const char* key) {
  auto it = n.config.find(key);
  if (it == n.config.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

Result<int64_t> parse_time(const Node& n, const std::string& text, const std::string& what) {
  std::optional<int64_t> t = parse_iso8601(trim(text));
  if (!t)
    return Error(ErrorCode::kConfig, "model " + n.name + ": " + what + " '" + text + "' is not a date or timestamp",
                 n.where, "write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)");
  return *t;
}

struct BatchPlan {
  BatchSize size = BatchSize::kDay;
  std::string event_time;
  std::vector<EventTimeWindow> batches;
};

// The batches to build, as dbt: --event-time-start/--event-time-end when given; else from `begin`
// on a first (or full) build, or `lookback` batches before the current one; to the current batch.
Result<BatchPlan> plan_batches(const NodeContext& ctx, bool first_build) {
  const Node& n = ctx.node;
  BatchPlan plan;
  plan.event_time = config_text(n, "event_time");
  if (plan.event_time.empty())
    return Error(ErrorCode::kConfig, "microbatch model " + n.name + " has no event_time", n.where,
                 "set event_time to the column that dates each row, e.g. config(event_time='created_at')");
  const std::string size_text = config_text(n, "batch_size");
  std::optional<BatchSize> size = parse_batch_size(size_text);
  if (!size)
    return Error(ErrorCode::kConfig,
                 "microbatch model " + n.name + (size_text.empty() ? " has no batch_size" : " has batch_size '" +
                                                                                               size_text + "'"),
                 n.where, "set batch_size to hour, day, month or year");
  plan.size = *size;
  STRATA_ASSIGN(int64_t now, parse_time(n, ctx.options.run_started_at, "the run's start"));
  int64_t end = batch_step(batch_floor(now, plan.size), plan.size, 1);
  if (!ctx.options.event_time_end.empty()) {
    STRATA_ASSIGN(end, parse_time(n, ctx.options.event_time_end, "--event-time-end"));
  }
  int64_t start = 0;
  if (!ctx.options.event_time_start.empty()) {
    STRATA_ASSIGN(start, parse_time(n, ctx.options.event_time_start, "--event-time-start"));
  } else if (first_build) {
    const std::string begin = config_text(n, "begin");
    if (begin.empty())
      return Error(ErrorCode::kConfig, "microbatch model " + n.name + " has no begin", n.where,
                   "set begin to the date its first build starts from, e.g. config(begin='2024-01-01')");
    STRATA_ASSIGN(start, parse_time(n, begin, "begin"));
  } else {
    const Json lookback = n.config.value("lookback", Json(1));
    start = batch_step(batch_floor(now, plan.size), plan.size, -(lookback.is_number_integer() ? lookback.get<int64_t>() : 1));
  }
  if (start >= end)
    return Error(ErrorCode::kUsage, "model " + n.name + ": the batches start at " + format_iso8601(start) +
                                        ", not before their end " + format_iso8601(end),
                 n.where, "give --event-time-start before --event-time-end");
  constexpr size_t kMaxBatches = 100000;
  for (int64_t t = batch_floor(start, plan.size); t < end; t = batch_step(t, plan.size, 1)) {
    if (plan.batches.size() == kMaxBatches)
      return Error(ErrorCode::kConfig, "model " + n.name + " would build more than 100000 batches", n.where,
                   "use a larger batch_size or a later begin");
    std::string id = timestamp_literal(t).substr(0, plan.size == BatchSize::kHour ? 13 : 10);
    std::erase_if(id, [](char c) { return c < '0' || c > '9'; });
    plan.batches.push_back({timestamp_literal(std::max(t, start)),
                            timestamp_literal(std::min(batch_step(t, plan.size, 1), end)), id});
  }
  return plan;
}

}  // namespace

Result<std::string> materialize_microbatch(NodeContext& ctx) {
  const Node& n = ctx.node;
  const sql::Dialect& d = ctx.wh.dialect();
  bool is_view = false;
  STRATA_ASSIGN(bool exists, relation_exists(ctx, is_view));
  const bool full_refresh = rebuilds_fully(ctx);
  STRATA_ASSIGN(BatchPlan plan, plan_batches(ctx, !exists || is_view || full_refresh));
  if (exists && (is_view || full_refresh)) {
    STRATA_TRY(ctx.execute(std::string("drop ") + (is_view ? "view" : "table") + " if exists " + n.relation_name));
    relation_changed(ctx, std::nullopt);
    exists = false;
  }
  size_t failed = 0;
  std::string first_error;
  for (size_t b = 0; b < plan.batches.size(); ++b) {
    const EventTimeWindow& window = plan.batches[b];
    RenderOptions ro;
    ro.warehouse = &ctx.wh;
    ro.is_incremental = exists;
    ro.batch = &window;
    auto run_batch = [&]() -> Status {
      STRATA_ASSIGN(std::string sql, ctx.compiler.compile(ctx.index, ro));
      if (!exists) {
        STRATA_TRY(ctx.execute("create table " + n.relation_name + " as (\n" + sql + "\n)"));
        relation_changed(ctx, warehouse::RelationKind::kTable);
        exists = true;
        return ok_status();
      }
      STRATA_TRY(ctx.wh.begin());
      Status st = ctx.execute("delete from " + n.relation_name + " where " + plan.event_time + " >= cast(" +
                              d.quote_string(window.start) + " as timestamp) and " + plan.event_time + " < cast(" +
                              d.quote_string(window.end) + " as timestamp)");
      if (st.ok()) st = insert_by_name(ctx, n.relation_name, sql);
      if (!st.ok()) {
        (void)ctx.wh.rollback();
        return st;
      }
      return ctx.wh.commit();
    };
    Status st = run_batch();
    if (!st.ok()) {
      if (failed++ == 0) first_error = "batch " + window.start + ": " + st.error().message();
    }
  }
  if (failed > 0)
    return Error(ErrorCode::kFailed,
                 std::to_string(failed) + " of " + std::to_string(plan.batches.size()) + " batches failed; " +
                     first_error,
                 n.where, "the other batches' rows are in place; run the model again to build the failed ones");
  return "MICROBATCH " + std::to_string(plan.batches.size()) + " batch" + (plan.batches.size() == 1 ? "" : "es");
}

}  // namespace strata::transform::detail

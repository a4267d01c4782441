// incremental_strategy='microbatch' (dbt 1.9): a model built one batch of its event_time at a
// time. Each batch compiles the model with its window (ref() and source() of nodes with an
// `event_time` config read only the window's rows) and replaces the window's rows of the table
// in a transaction of its own; a failed batch leaves the others' rows and the table as they were.
// Some batches failing and some committing is dbt's "partial success"; `retry` then builds only
// the failed ones (RunOptions::retry_batches).
//
// concurrent_batches (dbt 1.9): dbt may run the batches between the first and the last at once
// when the config is true, or unset and the model does not use {{ this }}, on adapters that
// declare the capability; on others it runs them in sequence. Strata accepts the config (a
// boolean) and always runs the batches in sequence: a node owns one warehouse session, which runs
// one transaction at a time, and on DuckDB concurrent delete+insert transactions on one table can
// abort each other with write conflicts, so concurrency would buy failed batches, not speed.
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

// A window's literal as batch_results gives it: "2024-01-31T00:00:00Z".
std::string window_iso(const std::string& literal) {
  std::string iso = literal;
  std::replace(iso.begin(), iso.end(), ' ', 'T');
  return iso + "Z";
}

// dbt's batch id: the batch's start as 20240131, or 2024013105 for hourly batches.
std::string batch_id(int64_t batch_start, BatchSize size) {
  std::string id = timestamp_literal(batch_start).substr(0, size == BatchSize::kHour ? 13 : 10);
  std::erase_if(id, [](char c) { return c < '0' || c > '9'; });
  return id;
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
                 what == "begin" ? n.config_location("begin") : n.where, "write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)");
  return *t;
}

struct BatchPlan {
  BatchSize size = BatchSize::kDay;
  std::string event_time;
  std::vector<EventTimeWindow> batches;
};

// The configs every plan needs: event_time, batch_size, and concurrent_batches checked (a
// boolean when set; see the comment at the top of the file for why it changes nothing here).
Result<BatchPlan> plan_configs(const Node& n) {
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
                 n.config_location("batch_size"), "set batch_size to hour, day, month or year");
  plan.size = *size;
  auto concurrent = n.config.find("concurrent_batches");
  if (concurrent != n.config.end() && !concurrent->is_null() && !concurrent->is_boolean())
    return Error(ErrorCode::kConfig, "model " + n.name + ": concurrent_batches is " + concurrent->dump(),
                 n.config_location("concurrent_batches"),
                 "set concurrent_batches to true or false, or leave it out");
  return plan;
}

// The failed batches of the run being retried: `previous.failed`, each window as it was.
Result<BatchPlan> retry_plan(const Node& n, const BatchResults& previous) {
  STRATA_ASSIGN(BatchPlan plan, plan_configs(n));
  for (const auto& [start_text, end_text] : previous.failed) {
    std::optional<int64_t> start = parse_iso8601(start_text), end = parse_iso8601(end_text);
    if (!start || !end || *start >= *end)
      return Error(ErrorCode::kUsage,
                   "model " + n.name + ": the previous run's failed batch [" + start_text + ", " + end_text +
                       "] is not a time window",
                   {}, "run the model again with `strata run --select " + n.name + "` instead of retry");
    const std::string id = batch_id(batch_floor(*start, plan.size), plan.size);
    plan.batches.push_back({timestamp_literal(*start), timestamp_literal(*end), id});
  }
  return plan;
}

// The batches to build, as dbt: --event-time-start/--event-time-end when given; else from `begin`
// on a first (or full) build, or `lookback` batches before the current one; to the current batch.
Result<BatchPlan> plan_batches(const NodeContext& ctx, bool first_build) {
  const Node& n = ctx.node;
  STRATA_ASSIGN(BatchPlan plan, plan_configs(n));
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
      return Error(ErrorCode::kConfig, "model " + n.name + " would build more than 100000 batches",
                 n.config_location("batch_size"),
                   "use a larger batch_size or a later begin");
    plan.batches.push_back({timestamp_literal(std::max(t, start)),
                            timestamp_literal(std::min(batch_step(t, plan.size, 1), end)), batch_id(t, plan.size)});
  }
  return plan;
}

}  // namespace

Result<std::string> materialize_microbatch(NodeContext& ctx, const TableConfig& table) {
  const Node& n = ctx.node;
  const sql::Dialect& d = ctx.wh.dialect();
  bool is_view = false;
  STRATA_ASSIGN(bool exists, relation_exists(ctx, is_view));
  auto retried = ctx.options.retry_batches.find(n.unique_id);
  const BatchResults* previous =
      retried != ctx.options.retry_batches.end() && !retried->second.failed.empty() ? &retried->second : nullptr;
  // A retry keeps the batches that committed: it rebuilds from scratch only when none did.
  const bool full_refresh = rebuilds_fully(ctx) && !(previous && !previous->successful.empty());
  Result<BatchPlan> planned = previous ? retry_plan(n, *previous)
                                       : plan_batches(ctx, !exists || is_view || full_refresh);
  STRATA_ASSIGN(BatchPlan plan, std::move(planned));
  if (exists && (is_view || full_refresh)) {
    STRATA_TRY(ctx.execute(std::string("drop ") + (is_view ? "view" : "table") + " if exists " + n.relation_name));
    relation_changed(ctx, std::nullopt);
    exists = false;
  }
  BatchResults& results = ctx.batches.emplace();
  if (previous) results.successful = previous->successful;
  std::string first_error;
  for (const EventTimeWindow& window : plan.batches) {
    RenderOptions ro;
    ro.warehouse = &ctx.wh;
    ro.is_incremental = exists;
    ro.batch = &window;
    auto run_batch = [&]() -> Status {
      STRATA_ASSIGN(std::string sql, ctx.compiler.compile(ctx.index, ro));
      if (!exists) {
        STRATA_TRY(run_ddl(ctx, adapter_sql(d).replace_relation(n.relation_name, std::nullopt,
                                                                 warehouse::RelationKind::kTable, sql, table)));
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
    BatchResults::Window span{window_iso(window.start), window_iso(window.end)};
    if (st.ok()) {
      results.successful.push_back(std::move(span));
      continue;
    }
    results.failed.push_back(std::move(span));
    const std::string what = "batch " + window.start + " to " + window.end + " failed: " + st.error().message();
    if (first_error.empty()) first_error = what;
    ctx.batch_report += "\n    " + what;
  }
  const size_t ok = results.successful.size(), total = ok + results.failed.size();
  const std::string counts = std::to_string(ok) + "/" + std::to_string(total) + " batches";
  if (results.failed.empty())
    return "MICROBATCH " + std::to_string(plan.batches.size()) + " batch" + (plan.batches.size() == 1 ? "" : "es");
  if (ok == 0)
    return Error(ErrorCode::kFailed,
                 total == 1 ? first_error : "all " + std::to_string(total) + " batches failed:" + ctx.batch_report,
                 n.where, "fix the model and run `strata retry`, which builds the failed batches again");
  return "PARTIAL SUCCESS (" + counts + ")";
}

}  // namespace strata::transform::detail

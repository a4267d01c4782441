#include "orchestrate/sql_runner.h"

#include "pg/connection.h"

namespace strata::orchestrate {

namespace {

std::string target_label(const TaskSpec& task) { return task.target.empty() ? std::string("default") : task.target; }

Result<TaskOutcome> finish(TaskContext& ctx, Status status) {
  if (ctx.cancel.cancelled()) return Error(ErrorCode::kCancelled, "SQL interrupted: " + ctx.cancel.reason());
  if (!status.ok()) return std::move(status).error();
  ctx.log.line("SQL finished");
  return TaskOutcome::kSuccess;
}

}  // namespace

Result<TaskOutcome> SqlRunner::run(TaskContext& ctx) {
  if (postgres_) {
    STRATA_ASSIGN(std::optional<std::string> conninfo, postgres_(ctx.task.target));
    if (conninfo) return run_postgres(ctx, *conninfo);
  }
  STRATA_ASSIGN(warehouse::Database * database, resolver_(ctx.task.target));
  STRATA_ASSIGN(std::unique_ptr<warehouse::Warehouse> session, database->connect());
  warehouse::Warehouse* raw = session.get();
  int cancel_id = ctx.cancel.on_cancel([raw] { raw->interrupt(); });
  ctx.log.line("running SQL on target '" + target_label(ctx.task) + "':");
  ctx.log.write(ctx.command + "\n");
  Status status = ctx.cancel.cancelled() ? Status(Error(ErrorCode::kCancelled, "cancelled")) : session->execute(ctx.command);
  ctx.cancel.remove(cancel_id);
  return finish(ctx, std::move(status));
}

Result<TaskOutcome> SqlRunner::run_postgres(TaskContext& ctx, const std::string& conninfo) {
  pg::ConnectOptions options;
  options.masker = masker_.get();
  options.application_name = "strata task " + ctx.task.id;
  options.on_notice = [&ctx](std::string_view notice) { ctx.log.line(notice); };
  STRATA_ASSIGN(pg::Connection conn, pg::Connection::connect(conninfo, options));
  pg::Canceller canceller = conn.canceller();
  int cancel_id = ctx.cancel.on_cancel([canceller] { (void)canceller.cancel(); });
  ctx.log.line("running SQL on PostgreSQL target '" + target_label(ctx.task) + "' (" + conn.describe() + "):");
  ctx.log.write(ctx.command + "\n");
  Status status = ctx.cancel.cancelled() ? Status(Error(ErrorCode::kCancelled, "cancelled")) : conn.execute(ctx.command);
  ctx.cancel.remove(cancel_id);
  return finish(ctx, std::move(status));
}

}  // namespace strata::orchestrate

#include "orchestrate/sql_runner.h"

#include "pg/connection.h"

namespace strata::orchestrate {

namespace {

Result<TaskOutcome> finish(TaskContext& ctx, Status status) {
  if (ctx.cancel.cancelled()) return Error(ErrorCode::kCancelled, "SQL interrupted: " + ctx.cancel.reason());
  if (!status.ok()) return std::move(status).error();
  ctx.log.line("SQL finished");
  return TaskOutcome::kSuccess;
}

}  // namespace

std::string target_label(const TaskSpec& task) { return task.target.empty() ? std::string("default") : task.target; }

Status run_on_target(const TargetResolver& resolver, const PostgresResolver& postgres, const SecretMaskerPtr& masker,
                     TaskContext& ctx, const std::function<Status(pg::Connection&)>& on_postgres,
                     const std::function<Status(warehouse::Warehouse&)>& on_duckdb) {
  if (postgres) {
    STRATA_ASSIGN(std::optional<std::string> conninfo, postgres(ctx.task.target));
    if (conninfo) {
      pg::ConnectOptions options;
      options.masker = masker.get();
      options.application_name = "strata task " + ctx.task.id;
      options.on_notice = [&ctx](std::string_view notice) { ctx.log.line(notice); };
      STRATA_ASSIGN(pg::Connection conn, pg::Connection::connect(*conninfo, options));
      pg::Canceller canceller = conn.canceller();
      const int cancel_id = ctx.cancel.on_cancel([canceller] { (void)canceller.cancel(); });
      Status status = ctx.cancel.cancelled() ? Status(Error(ErrorCode::kCancelled, "cancelled")) : on_postgres(conn);
      ctx.cancel.remove(cancel_id);
      return status;
    }
  }
  STRATA_ASSIGN(warehouse::Database * database, resolver(ctx.task.target));
  STRATA_ASSIGN(std::unique_ptr<warehouse::Warehouse> session, database->connect());
  warehouse::Warehouse* raw = session.get();
  const int cancel_id = ctx.cancel.on_cancel([raw] { raw->interrupt(); });
  Status status = ctx.cancel.cancelled() ? Status(Error(ErrorCode::kCancelled, "cancelled")) : on_duckdb(*session);
  ctx.cancel.remove(cancel_id);
  return status;
}

Result<TaskOutcome> SqlRunner::run(TaskContext& ctx) {
  Status status = run_on_target(
      resolver_, postgres_, masker_, ctx,
      [&ctx](pg::Connection& conn) {
        ctx.log.line("running SQL on PostgreSQL target '" + target_label(ctx.task) + "' (" + conn.describe() + "):");
        ctx.log.write(ctx.command + "\n");
        return conn.execute(ctx.command);
      },
      [&ctx](warehouse::Warehouse& session) {
        ctx.log.line("running SQL on target '" + target_label(ctx.task) + "':");
        ctx.log.write(ctx.command + "\n");
        return session.execute(ctx.command);
      });
  return finish(ctx, std::move(status));
}

}  // namespace strata::orchestrate

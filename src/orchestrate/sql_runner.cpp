#include "orchestrate/sql_runner.h"

namespace strata::orchestrate {

Result<TaskOutcome> SqlRunner::run(TaskContext& ctx) {
  STRATA_ASSIGN(warehouse::Database * database, resolver_(ctx.task.target));
  STRATA_ASSIGN(std::unique_ptr<warehouse::Warehouse> session, database->connect());
  warehouse::Warehouse* raw = session.get();
  int cancel_id = ctx.cancel.on_cancel([raw] { raw->interrupt(); });
  ctx.log.line("running SQL on target '" + (ctx.task.target.empty() ? std::string("default") : ctx.task.target) +
               "':");
  ctx.log.write(ctx.command + "\n");
  Status status = ctx.cancel.cancelled() ? Status(Error(ErrorCode::kCancelled, "cancelled")) : session->execute(ctx.command);
  ctx.cancel.remove(cancel_id);
  if (ctx.cancel.cancelled())
    return Error(ErrorCode::kCancelled, "SQL interrupted: " + ctx.cancel.reason());
  if (!status.ok()) return std::move(status).error();
  ctx.log.line("SQL finished");
  return TaskOutcome::kSuccess;
}

}  // namespace strata::orchestrate

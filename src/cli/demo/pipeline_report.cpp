#include "cli/demo/pipeline_report.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>

#include "orchestrate/store_factory.h"

namespace strata::cli::demo {
namespace {

struct Span {
  std::int64_t first_start = std::numeric_limits<std::int64_t>::max(), last_end = 0;
  bool all_ok = true;
};

// The stage a task belongs to: its group, else its own id.
std::string stage_of(const orchestrate::TaskInstanceRecord& ti) { return ti.group.empty() ? ti.task_id : ti.group; }

}  // namespace

Result<PipelineReport> read_pipeline_report(const std::string& project_dir, const std::string& pipeline) {
  STRATA_ASSIGN(auto store, orchestrate::open_metadata_store(project_dir));
  STRATA_ASSIGN(auto runs, store->runs(pipeline, std::nullopt, 1));
  if (runs.empty()) return Error(ErrorCode::kNotFound, "the pipeline " + pipeline + " has no run yet");
  PipelineReport report;
  report.run_id = runs.front().run_id;
  report.state = std::string(orchestrate::run_state_name(runs.front().state));
  STRATA_ASSIGN(auto tasks, store->task_instances(pipeline, report.run_id));
  std::map<std::string, Span> spans;
  for (const auto& ti : tasks) {
    if (ti.start_at == 0) continue;  // never started (skipped or upstream failed)
    Span& span = spans[stage_of(ti)];
    span.first_start = std::min(span.first_start, ti.start_at);
    span.last_end = std::max(span.last_end, ti.end_at);
    span.all_ok = span.all_ok && ti.state == orchestrate::TaskState::kSuccess;
  }
  for (const auto& [name, span] : spans) {
    StageResult stage;
    stage.name = name;
    stage.exit_code = span.all_ok ? 0 : 1;
    stage.seconds = span.last_end > span.first_start ? static_cast<double>(span.last_end - span.first_start) / 1e6 : 0;
    report.stages.push_back(stage);
  }
  std::sort(report.stages.begin(), report.stages.end(), [&](const StageResult& a, const StageResult& b) {
    return spans[a.name].first_start < spans[b.name].first_start;
  });
  STRATA_ASSIGN(auto tests, store->test_results(pipeline, report.run_id));
  for (const auto& t : tests) {
    if (t.status == "pass") {
      ++report.tests.passed;
    } else if (t.status == "warn") {
      ++report.tests.warned;
    } else {
      ++report.tests.failed;
    }
  }
  return report;
}

}  // namespace strata::cli::demo

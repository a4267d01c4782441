#pragma once
// What one `strata pipeline run` did, read back from the project's metadata store
// (`<project>/.strata/strata.db`): wall time per stage (the tasks of a group together — silver,
// gold — and each ungrouped task on its own, e.g. sync_erp, test_bronze) and the data tests'
// outcomes. `strata demo` and the NovaDrive benchmark print it. Thread-compatible.

#include <string>
#include <vector>

#include "cli/demo/demo_stages.h"
#include "common/result.h"

namespace strata::cli::demo {

struct PipelineReport {
  std::string run_id;
  std::string state;                // "success", "failed", …
  std::vector<StageResult> stages;  // in order of their first start; exit_code 0 when every task succeeded
  TestTally tests;                  // tests and freshness checks recorded by the run
};

// The newest run of `pipeline` in the project's store. Errors: kConnection when the store cannot
// be opened, kNotFound when the pipeline has no run.
Result<PipelineReport> read_pipeline_report(const std::string& project_dir, const std::string& pipeline);

}  // namespace strata::cli::demo

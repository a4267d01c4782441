// The NovaDrive pipeline end to end with the default warehouse: ERP in PostgreSQL → `strata`
// → bronze, silver, gold in the project's DuckDB file (NovaDriveScenario: gold against the ERP,
// before and after live changes).

#include "e2e/novadrive_scenario.h"

namespace strata::testing {
namespace {

class NovaDrivePipeline : public NovaDriveScenario {
 protected:
  NovaDrivePipeline() : NovaDriveScenario("nd_pipeline") {}
  std::vector<std::string> warehouse_rows(const std::string& sql) override {
    return duck_rows(project_.duckdb_path(), sql);
  }
  std::map<std::string, std::string> warehouse_env() const override { return {{"NOVADRIVE_TARGET", "dev"}}; }
};

TEST_F(NovaDrivePipeline, GoldAnswersTheSameQuestionsAsPostgresBeforeAndAfterLiveChanges) { run_scenario(); }

}  // namespace
}  // namespace strata::testing

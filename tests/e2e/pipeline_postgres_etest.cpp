// The NovaDrive pipeline end to end with a PostgreSQL warehouse: the profile's `pg` target
// (NOVADRIVE_TARGET=pg, NOVADRIVE_WH_*) on a second database of the shared cluster, so the sync
// loads bronze there and the build makes silver and gold there from the same models as on DuckDB
// (macros/ dispatches what differs). NovaDriveScenario asks gold the same questions as with DuckDB.

#include <filesystem>

#include "e2e/novadrive_scenario.h"
#include "support/pg_cluster.h"

namespace strata::testing {
namespace {

class NovaDrivePostgresWarehouse : public NovaDriveScenario {
 protected:
  NovaDrivePostgresWarehouse() : NovaDriveScenario("nd_pipeline_pg") {}
  std::vector<std::string> warehouse_rows(const std::string& sql) override { return pg_rows(warehouse_conninfo_, sql); }
  std::map<std::string, std::string> warehouse_env() const override {
    auto& pg = shared_pg_cluster();
    return {{"NOVADRIVE_TARGET", "pg"},
            {"NOVADRIVE_WH_HOST", pg.host()},
            {"NOVADRIVE_WH_PORT", std::to_string(pg.port())},
            {"NOVADRIVE_WH_USER", pg.superuser()},
            {"NOVADRIVE_WH_PASSWORD", ""},
            {"NOVADRIVE_WH_DATABASE", kWarehouse}};
  }

  static constexpr const char* kWarehouse = "nd_pipeline_pg_warehouse";
  const std::string warehouse_conninfo_ = shared_pg_cluster().create_database(kWarehouse);
};

TEST_F(NovaDrivePostgresWarehouse, GoldAnswersTheSameQuestionsAsWithDuckDbBeforeAndAfterLiveChanges) {
  run_scenario();
  // Nothing of it went to the DuckDB file of the default target.
  EXPECT_FALSE(std::filesystem::exists(project_.duckdb_path()));
}

}  // namespace
}  // namespace strata::testing

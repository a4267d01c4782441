// Unit tests of ingest/connection_config.h: sync mode names (with Airbyte's), bronze tables, and
// the warning for a password written in the file.

#include "ingest/connection_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace strata::ingest {
namespace {

TEST(ConnectionConfig, SyncModeNamesRoundTripAndAirbytesDedupNameIsAccepted) {
  for (SyncMode m : {SyncMode::kFullRefreshOverwrite, SyncMode::kFullRefreshAppend, SyncMode::kIncrementalAppend,
                     SyncMode::kIncrementalDedup}) {
    EXPECT_EQ(parse_sync_mode(sync_mode_name(m)), m);
  }
  EXPECT_EQ(parse_sync_mode("incremental_deduped_history"), SyncMode::kIncrementalDedup);
  EXPECT_EQ(parse_sync_mode("Incremental_Append"), std::nullopt);
}

TEST(ConnectionConfig, BronzeTableNames) {
  StreamConfig s;
  s.schema = "public";
  s.table = "orders";
  EXPECT_EQ(bronze_table_name(s), "orders");
  s.schema = "sales";
  EXPECT_EQ(bronze_table_name(s), "sales_orders");
  s.bronze_table = "orders_eu";
  EXPECT_EQ(bronze_table_name(s), "orders_eu");
  EXPECT_EQ(default_bronze_table("my.sch", "t"), "my.sch_t");
}

TEST(ConnectionConfig, APasswordWrittenInTheFileIsALocatedWarning) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("strata_conn_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto load = [&](const std::string& password_line) {
    const std::string path = (dir / "c.yml").string();
    std::ofstream(path) << "source:\n  type: postgres\n  database: erp\n  user: etl\n" << password_line
                        << "destination:\n  duckdb_path: w.duckdb\n";
    YamlOptions options;
    options.env = [](const std::string& name) -> std::optional<std::string> {
      if (name == "PGPASSWORD") return "from-env";
      return std::nullopt;
    };
    auto config = load_connection_config(path, options);
    EXPECT_TRUE(config.ok()) << config.error().to_string();
    return config.ok() ? *config : ConnectionConfig{};
  };
  ConnectionConfig literal = load("  password: s3cret-Value\n");
  ASSERT_EQ(literal.warnings.size(), 1u);
  EXPECT_EQ(literal.source.password, "s3cret-Value");
  EXPECT_NE(literal.warnings[0].find("c.yml:5:13: warning: the source password is written in the connection file"),
            std::string::npos)
      << literal.warnings[0];
  EXPECT_NE(literal.warnings[0].find("env_var('PGPASSWORD')"), std::string::npos) << literal.warnings[0];
  EXPECT_EQ(literal.warnings[0].find("s3cret"), std::string::npos) << literal.warnings[0];
  ConnectionConfig from_env = load("  password: \"{{ env_var('PGPASSWORD') }}\"\n");
  EXPECT_EQ(from_env.source.password, "from-env");
  EXPECT_TRUE(from_env.warnings.empty());
  EXPECT_TRUE(load("").warnings.empty());
  EXPECT_TRUE(load("  password: \"\"\n").warnings.empty());
  std::filesystem::remove_all(dir);
}

TEST(ConnectionConfig, AKeyRepeatedInOneMappingIsALocatedError) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("strata_conn_dup_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "c.yml").string();
  std::ofstream(path) << "source:\n  type: postgres\n  database: erp\ndestination:\n  duckdb_path: w.duckdb\n"
                         "streams:\n  - name: public.orders\n    sync_mode: full_refresh_append\n"
                         "    sync_mode: full_refresh_overwrite\n";
  auto config = load_connection_config(path);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.error().exit_code(), 2);
  EXPECT_EQ(config.error().where().line, 9) << config.error().to_string();
  EXPECT_NE(config.error().message().find("key 'sync_mode' appears twice in this mapping (first at line 8)"),
            std::string::npos)
      << config.error().to_string();
  std::filesystem::remove_all(dir);
}

TEST(ConnectionConfig, CdcDefaultsAndItsLocatedMistakes) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("strata_cdc_conf_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto load = [&](const std::string& source_lines, const std::string& streams) {
    const std::string path = (dir / "My-Erp.yml").string();
    std::ofstream(path) << "source:\n  type: postgres\n  database: erp\n  user: etl\n" << source_lines
                        << "destination:\n  duckdb_path: w.duckdb\n" << streams;
    return load_connection_config(path);
  };
  auto config = load("  replication: cdc\n", "streams:\n  - public.orders\n  - name: public.lines\n"
                                                "    sync_mode: incremental_append\n");
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_TRUE(config->source.cdc());
  EXPECT_EQ(config->source.replication_slot, "strata_my_erp");
  EXPECT_EQ(config->source.publication, "strata_my_erp");
  ASSERT_EQ(config->streams.size(), 2u);
  EXPECT_EQ(config->streams[0].mode, SyncMode::kIncrementalDedup);  // Airbyte's CDC default
  EXPECT_EQ(config->streams[0].cursor_field, kLsnColumn);
  EXPECT_EQ(config->streams[1].mode, SyncMode::kIncrementalAppend);
  auto named = load("  replication: cdc\n  replication_slot: erp_slot\n  publication: Erp Pub\n",
                    "streams:\n  - public.orders\n");
  ASSERT_TRUE(named.ok()) << named.error().to_string();
  EXPECT_EQ(named->source.replication_slot, "erp_slot");
  EXPECT_EQ(named->source.publication, "Erp Pub");
  struct Bad {
    std::string source, streams, message;
    int line;
  };
  const std::vector<Bad> cases = {
      {"  replication: logical\n", "", "unknown replication 'logical'", 5},
      {"  replication_slot: s\n", "", "replication_slot is only used with replication: cdc", 5},
      {"  replication: cdc\n  replication_slot: Bad-Slot\n", "streams:\n  - public.orders\n",
       "replication_slot 'Bad-Slot' is not a valid name", 6},
      {"  replication: cdc\n", "", "replication: cdc needs a streams: list", 5},
      {"  replication: cdc\n", "streams:\n  - name: public.orders\n    sync_mode: full_refresh_append\n",
       "sync_mode full_refresh_append cannot read changes with replication: cdc", 10},
      {"  replication: cdc\n", "streams:\n  - name: public.orders\n    cursor_field: updated_at\n",
       "has no cursor_field", 10},
  };
  for (const Bad& c : cases) {
    auto bad = load(c.source, c.streams);
    ASSERT_FALSE(bad.ok()) << c.message;
    EXPECT_EQ(bad.error().code(), ErrorCode::kConfig) << c.message;
    EXPECT_NE(bad.error().message().find(c.message), std::string::npos) << bad.error().to_string();
    EXPECT_EQ(bad.error().where().line, c.line) << bad.error().to_string();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace strata::ingest

// PgStore on a real PostgreSQL (the test cluster): the store contract shared with SQLite
// (store_contract.h), the schema it creates, claims raced by several processes, the errors of a
// server it cannot reach, and the settings that select it (store_factory.h).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "orchestrate/pg_store.h"
#include "orchestrate/store_factory.h"
#include "pg/connection.h"
#include "store_contract.h"
#include "store_contract_datasets.h"
#include "support/pg_cluster.h"

namespace strata::orchestrate {
namespace {

using testing::StoreContractTest;

std::string fresh_database(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return strata::testing::shared_pg_cluster().create_database(prefix + "_" + std::to_string(++counter));
}

Result<std::unique_ptr<MetadataStore>> open_pg(const std::string& conninfo) {
  PgStoreOptions options;
  options.conninfo = conninfo;
  STRATA_ASSIGN(auto store, PgStore::open(options));
  return std::unique_ptr<MetadataStore>(std::move(store));
}

// The store contract on PostgreSQL: a database per test; handles are connections to it.
INSTANTIATE_TEST_SUITE_P(Postgres, StoreContractTest,
                         ::testing::Values(testing::StoreBackend{
                             "postgres", [](const strata::testing::TempDir&) { return fresh_database("contract"); },
                             open_pg}),
                         testing::backend_name);

int64_t count_rows(const std::string& conninfo, const std::string& sql) {
  auto conn = pg::Connection::connect(conninfo);
  EXPECT_TRUE(conn.ok()) << conn.error().to_string();
  if (!conn.ok()) return -1;
  auto result = conn->exec(sql);
  EXPECT_TRUE(result.ok()) << result.error().to_string();
  return result.ok() ? std::stoll(std::string(result->value(0, 0))) : -1;
}

TEST(PgStoreTest, CreatesItsSchemaOnceWhenProcessesOpenAtOnce) {
  const std::string conninfo = fresh_database("schema");
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      auto store = PgStore::open(PgStoreOptions{conninfo, "team_meta", nullptr});
      EXPECT_TRUE(store.ok()) << store.error().to_string();
      if (store.ok() && (*store)->schema_version() == 6) ++opened;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened.load(), 4);
  auto store = std::move(PgStore::open(PgStoreOptions{conninfo, "team_meta", nullptr})).value();
  ASSERT_TRUE(store->ensure_pipeline("p").ok());
  EXPECT_EQ(count_rows(conninfo, "SELECT COUNT(*) FROM team_meta.schema_versions"), 6);
  EXPECT_EQ(count_rows(conninfo, "SELECT COUNT(*) FROM team_meta.pipelines"), 1);
  // Nothing outside its schema: the database stays shareable.
  EXPECT_EQ(count_rows(conninfo, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'"), 0);
  // A second schema in the same database is a second, independent store.
  auto other = std::move(PgStore::open(PgStoreOptions{conninfo, "other_meta", nullptr})).value();
  EXPECT_TRUE(other->pipelines()->empty());
}

// Separate processes (fork: their own connections) race to claim the same queued runs.
TEST(PgStoreTest, ClaimRunHasExactlyOneWinnerAcrossProcesses) {
  constexpr int kProcesses = 4;
  constexpr int kRuns = 20;
  const std::string conninfo = fresh_database("claims");
  {
    auto store = std::move(open_pg(conninfo)).value();
    for (int r = 0; r < kRuns; ++r)
      ASSERT_TRUE(store->create_run(testing::queued_run("p", "run_" + std::to_string(r), r)).ok());
  }
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      auto store = open_pg(conninfo);
      if (!store.ok()) _exit(100);
      int wins = 0;
      for (int r = 0; r < kRuns; ++r) {
        auto claimed = (*store)->claim_run("p", "run_" + std::to_string(r), "proc_" + std::to_string(i), 1, 0);
        if (!claimed.ok()) _exit(101);
        wins += *claimed ? 1 : 0;
      }
      _exit(wins);
    }
    children.push_back(pid);
  }
  int total = 0;
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_LE(WEXITSTATUS(status), kRuns) << "a child failed with " << WEXITSTATUS(status);
    total += WEXITSTATUS(status);
  }
  EXPECT_EQ(total, kRuns);
  auto store = std::move(open_pg(conninfo)).value();
  auto running = store->runs("p", RunState::kRunning, 100);
  ASSERT_TRUE(running.ok());
  EXPECT_EQ(running->size(), static_cast<size_t>(kRuns));
  for (const auto& run : *running) EXPECT_EQ(run.owner.rfind("proc_", 0), 0u) << run.run_id;
}

TEST(PgStoreTest, UnreachableServerNamesItButNeverThePassword) {
  auto& pg = strata::testing::shared_pg_cluster();
  // A port nothing listens on.
  const std::string url = "postgresql://strata_test:S3cret-Never-Shown@127.0.0.1:1/metadb";
  auto store = PgStore::open(PgStoreOptions{url, "strata_meta", nullptr});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), ErrorCode::kConnection);
  const std::string text = store.error().to_string();
  EXPECT_NE(text.find("metadata store"), std::string::npos) << text;
  EXPECT_NE(text.find("127.0.0.1"), std::string::npos) << text;
  EXPECT_NE(text.find("port 1"), std::string::npos) << text;
  EXPECT_NE(text.find("metadb"), std::string::npos) << text;
  EXPECT_EQ(text.find("S3cret-Never-Shown"), std::string::npos) << text;
  // A wrong password on the real server: refused, and the password stays out of the message.
  const std::string wrong = "postgresql://strata_test:Wrong-Pass-123@127.0.0.1:" + std::to_string(pg.port()) + "/postgres";
  SecretMasker masker;
  auto refused = PgStore::open(PgStoreOptions{wrong, "strata_meta", &masker});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kConnection);
  EXPECT_EQ(refused.error().to_string().find("Wrong-Pass-123"), std::string::npos) << refused.error().to_string();
  EXPECT_EQ(masker.mask("pw Wrong-Pass-123"), "pw ****");
}

TEST(PgStoreTest, PasswordLoginWorksThroughTheFactory) {
  auto& pg = strata::testing::shared_pg_cluster();
  fresh_database("factory");
  const std::string url = pg.password_url("postgres");
  auto env = map_env({{"STRATA_METADATA_URL", url}, {"STRATA_METADATA_SCHEMA", "factory_meta"}});
  auto config = metadata_store_config("/nowhere", env);
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  EXPECT_EQ(config->kind, MetadataStoreConfig::Kind::kPostgres);
  EXPECT_EQ(config->schema, "factory_meta");
  EXPECT_EQ(config->describe().find(pg.password()), std::string::npos) << config->describe();
  EXPECT_NE(config->describe().find("factory_meta"), std::string::npos) << config->describe();
  SecretMasker masker;
  auto store = open_metadata_store("/nowhere", &masker, env);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  ASSERT_TRUE((*store)->ensure_pipeline("from_factory").ok());
  EXPECT_EQ(masker.mask(pg.password()), "****");
  EXPECT_EQ(count_rows(pg.conninfo("postgres"), "SELECT COUNT(*) FROM factory_meta.pipelines WHERE name = "
                                                "'from_factory'"),
            1);
  auto bad = metadata_store_config("/p", map_env({{"STRATA_METADATA_URL", "host='unterminated"}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kConfig);
}

// A server restart drops the store's connection; the store reconnects for the next statement.
TEST(PgStoreTest, ReconnectsAfterTheServerRestarts) {
  auto& pg = strata::testing::shared_pg_cluster();
  const std::string conninfo = fresh_database("restart");
  auto store = std::move(open_pg(conninfo)).value();
  ASSERT_TRUE(store->ensure_pipeline("before").ok());
  pg.restart();
  Status first = store->ensure_pipeline("after");
  if (!first.ok()) {
    EXPECT_EQ(first.error().code(), ErrorCode::kConnection) << first.error().to_string();
    ASSERT_TRUE(store->ensure_pipeline("after").ok());
  }
  EXPECT_EQ(store->pipelines()->size(), 2u);
}

TEST(PgStoreTest, NumbersPlaceholdersOutsideQuotes) {
  EXPECT_EQ(numbered_placeholders("a = ? AND b = '?' AND \"c?\" = ? LIMIT ?"),
            "a = $1 AND b = '?' AND \"c?\" = $2 LIMIT $3");
  EXPECT_EQ(numbered_placeholders("SELECT 1"), "SELECT 1");
}

}  // namespace
}  // namespace strata::orchestrate

// Scale-out end to end: several `strata scheduler` processes (the real binary) share one
// PostgreSQL metadata store (STRATA_METADATA_URL, with a password) and one project. A pipeline on
// a one-minute schedule with catch-up has a fixed number of due runs; every run must execute
// exactly once (one attempt, one line its task wrote), spread over both processes. A scheduler
// killed with SIGKILL mid-run has its run recovered and finished by the other.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "common/strings.h"
#include "common/time.h"
#include "orchestrate/pg_store.h"
#include "support/child_process.h"
#include "support/pg_cluster.h"
#include "support/temp_dir.h"

namespace strata::orchestrate {
namespace {

const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/strata";
constexpr int64_t kMinute = 60'000'000;

// A `strata scheduler` child with STRATA_METADATA_URL set; stderr to `err_file`.
pid_t start_scheduler(const std::string& dir, const std::string& metadata_url, const std::string& err_file,
                      int max_runs) {
  const pid_t pid = strata::testing::spawn_child(kStrata,
                                                 {"scheduler", "--project-dir", dir, "--max-runs", std::to_string(max_runs)},
                                                 {"STRATA_METADATA_"}, {"STRATA_METADATA_URL=" + metadata_url}, err_file);
  EXPECT_GT(pid, 0);
  return pid;
}

std::string read_text(const std::string& path) {
  std::string text;
  read_file(path, text);
  return text;
}

// A pipeline with `runs` due scheduled runs: one a minute from start, end_date capping them.
std::string pipeline_yaml(int runs, const std::string& out_file, const std::string& sleep) {
  const int64_t start = (now_micros() / kMinute) * kMinute - 2 * static_cast<int64_t>(runs) * kMinute;
  const int64_t end = start + (runs - 1) * kMinute;
  return "schedule: \"* * * * *\"\nstart_date: " + format_iso8601(start) + "\nend_date: " + format_iso8601(end) +
         "\ncatchup: true\nmax_active_runs: 16\ntasks:\n"
         "  - {id: work, shell: \"echo $STRATA_RUN_ID >> " + out_file + "; sleep " + sleep +
         "\", retries: 1, retry_delay: 0}\n";
}

// Waits until `count` runs of p have ended; returns how many succeeded (-1 on timeout).
int wait_for_runs(MetadataStore& store, size_t count, int seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    auto runs = store.runs("p", std::nullopt, 1000);
    if (runs.ok() && runs->size() == count) {
      int ended = 0, succeeded = 0;
      for (const auto& r : *runs) {
        ended += r.state == RunState::kSuccess || r.state == RunState::kFailed;
        succeeded += r.state == RunState::kSuccess;
      }
      if (static_cast<size_t>(ended) == count) return succeeded;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return -1;
}

class ScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kStrata)) << "build the strata target first";
    auto& pg = strata::testing::shared_pg_cluster();
    static int counter = 0;
    const std::string db = "scale_out_" + std::to_string(++counter);
    pg.create_database(db);
    // Owned by the superuser; the password role logs in and creates its schema there.
    pg.execute("GRANT ALL ON DATABASE " + db + " TO " + pg.password_user());
    url_ = pg.password_url(db);
    password_ = pg.password();
    std::filesystem::create_directories(dir_.file("pipelines"));
    auto store = PgStore::open(PgStoreOptions{url_, "strata_meta", nullptr});
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    store_ = std::move(store).value();
  }

  strata::testing::TempDir dir_;
  std::string url_, password_;
  std::unique_ptr<PgStore> store_;
};

TEST_F(ScaleOutTest, TwoSchedulersExecuteEveryScheduledRunExactlyOnce) {
  constexpr int kRuns = 20;
  const std::string out = dir_.file("executed.txt");
  ASSERT_TRUE(write_file_atomic(dir_.file("pipelines/p.yml"), pipeline_yaml(kRuns, out, "0.3")));
  const auto started = std::chrono::steady_clock::now();
  const pid_t a = start_scheduler(dir_.path(), url_, dir_.file("a.err"), 3);
  const pid_t b = start_scheduler(dir_.path(), url_, dir_.file("b.err"), 3);
  const int succeeded = wait_for_runs(*store_, kRuns, 90);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_TRUE(strata::testing::stop_child(a)) << read_text(dir_.file("a.err"));
  EXPECT_TRUE(strata::testing::stop_child(b)) << read_text(dir_.file("b.err"));
  ASSERT_EQ(succeeded, kRuns) << "after " << seconds << " s\nA:\n"
                              << read_text(dir_.file("a.err")) << "\nB:\n" << read_text(dir_.file("b.err"));

  // Every run once: one attempt, one line written by its task, no run id twice.
  auto runs = std::move(store_->runs("p", std::nullopt, 1000)).value();
  ASSERT_EQ(runs.size(), static_cast<size_t>(kRuns));
  std::set<std::string> owners;
  for (const auto& run : runs) {
    EXPECT_EQ(run.type, RunType::kScheduled) << run.run_id;
    auto attempts = std::move(store_->attempts("p", run.run_id, "work")).value();
    ASSERT_EQ(attempts.size(), 1u) << run.run_id;
    EXPECT_EQ(attempts[0].state, TaskState::kSuccess) << run.run_id;
    owners.insert(attempts[0].owner);
  }
  std::map<std::string, int> lines;
  for (const auto& line : split(read_text(out), '\n'))
    if (!line.empty()) ++lines[line];
  EXPECT_EQ(lines.size(), static_cast<size_t>(kRuns));
  for (const auto& [run_id, n] : lines) EXPECT_EQ(n, 1) << run_id << " executed " << n << " times";
  // --max-runs 3 each: neither process could take all 20.
  EXPECT_EQ(owners.size(), 2u) << "both schedulers execute runs";
  // The password came through the environment and stayed out of both logs.
  EXPECT_EQ(read_text(dir_.file("a.err")).find(password_), std::string::npos);
  EXPECT_EQ(read_text(dir_.file("b.err")).find(password_), std::string::npos);
  EXPECT_NE(read_text(dir_.file("a.err")).find("metadata: PostgreSQL"), std::string::npos)
      << read_text(dir_.file("a.err"));
}

TEST_F(ScaleOutTest, AKilledSchedulersRunIsFinishedByTheOther) {
  const std::string out = dir_.file("executed.txt");
  ASSERT_TRUE(write_file_atomic(dir_.file("pipelines/p.yml"), pipeline_yaml(1, out, "3")));
  const pid_t a = start_scheduler(dir_.path(), url_, dir_.file("a.err"), 0);
  // Wait until A runs the task, then kill it.
  bool running = false;
  for (int i = 0; i < 300 && !running; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto attempts = store_->running_attempts();
    running = attempts.ok() && !attempts->empty();
  }
  ASSERT_TRUE(running) << read_text(dir_.file("a.err"));
  ASSERT_EQ(::kill(a, SIGKILL), 0);
  ::waitpid(a, nullptr, 0);
  const pid_t b = start_scheduler(dir_.path(), url_, dir_.file("b.err"), 0);
  const int succeeded = wait_for_runs(*store_, 1, 60);
  EXPECT_TRUE(strata::testing::stop_child(b)) << read_text(dir_.file("b.err"));
  ASSERT_EQ(succeeded, 1) << read_text(dir_.file("b.err"));
  auto run = std::move(store_->runs("p", std::nullopt, 10)).value().front();
  auto attempts = std::move(store_->attempts("p", run.run_id, "work")).value();
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].state, TaskState::kFailed);
  EXPECT_NE(attempts[0].error.find("died"), std::string::npos) << attempts[0].error;
  EXPECT_EQ(attempts[1].state, TaskState::kSuccess);
  EXPECT_NE(attempts[0].owner, attempts[1].owner);
  EXPECT_TRUE(store_->running_attempts()->empty());
}

}  // namespace
}  // namespace strata::orchestrate

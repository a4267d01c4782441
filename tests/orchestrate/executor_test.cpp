#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "common/strings.h"
#include "orchestrate/clock.h"
#include "orchestrate_harness.h"

namespace strata::orchestrate {
namespace {

using testing::Harness;
using testing::new_run;
using testing::parse_spec;
using testing::shell_runners;

// Counts the attempts running at once (from the executor's task events), across every executor
// it observes, and the highest count seen.
struct Concurrency {
  std::atomic<int> running{0}, peak{0}, finished{0};
  std::function<void(const TaskEvent&)> observer() {
    return [this](const TaskEvent& e) {
      if (e.state == TaskState::kRunning) {
        const int now = ++running;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
      } else if (is_finished(e.state)) {
        --running;
        ++finished;
      }
    };
  }
};

TEST(ExecutorTest, TriggerRulesWithRealFailuresAndSkips) {
  // ok succeeds, bad fails, skip exits 99 (skipped). Each rule is wired to a pair of upstreams.
  auto spec = parse_spec(R"(
tasks:
  - {id: ok, shell: "true"}
  - {id: bad, shell: "exit 3"}
  - {id: skip, shell: "exit 99"}
  - {id: all_success_fail, shell: "true", depends_on: [ok, bad]}
  - {id: all_success_skip, shell: "true", depends_on: [ok, skip]}
  - {id: all_success_ok, shell: "true", depends_on: [ok]}
  - {id: all_failed_yes, shell: "true", depends_on: [bad, all_success_fail], trigger_rule: all_failed}
  - {id: all_failed_no, shell: "true", depends_on: [bad, ok], trigger_rule: all_failed}
  - {id: all_done, shell: "true", depends_on: [ok, bad, skip], trigger_rule: all_done}
  - {id: one_success_yes, shell: "true", depends_on: [ok, bad], trigger_rule: one_success}
  - {id: one_success_uf, shell: "true", depends_on: [bad, skip], trigger_rule: one_success}
  - {id: one_success_skip, shell: "true", depends_on: [skip], trigger_rule: one_success}
  - {id: one_failed_yes, shell: "true", depends_on: [ok, bad], trigger_rule: one_failed}
  - {id: one_failed_no, shell: "true", depends_on: [ok, skip], trigger_rule: one_failed}
  - {id: none_failed_yes, shell: "true", depends_on: [ok, skip], trigger_rule: none_failed}
  - {id: none_failed_no, shell: "true", depends_on: [ok, bad], trigger_rule: none_failed}
  - {id: none_skipped_yes, shell: "true", depends_on: [ok, bad], trigger_rule: none_skipped}
  - {id: none_skipped_no, shell: "true", depends_on: [ok, skip], trigger_rule: none_skipped}
  - {id: always, shell: "true", depends_on: [all_success_fail], trigger_rule: always}
  - {id: after_skip, shell: "true", depends_on: [all_success_skip]}
  - {id: after_uf, shell: "true", depends_on: [all_success_fail]}
)");
  Harness h;
  SystemClock clock;
  Executor executor(*h.store, shell_runners(), clock, h.options());
  EXPECT_EQ(h.run(executor, spec, new_run("p", "r1")), RunState::kFailed);
  auto st = h.states("r1");
  const std::map<std::string, TaskState> want{
      {"ok", TaskState::kSuccess},
      {"bad", TaskState::kFailed},
      {"skip", TaskState::kSkipped},
      {"all_success_fail", TaskState::kUpstreamFailed},
      {"all_success_skip", TaskState::kSkipped},
      {"all_success_ok", TaskState::kSuccess},
      {"all_failed_yes", TaskState::kSuccess},
      {"all_failed_no", TaskState::kSkipped},
      {"all_done", TaskState::kSuccess},
      {"one_success_yes", TaskState::kSuccess},
      {"one_success_uf", TaskState::kUpstreamFailed},
      {"one_success_skip", TaskState::kSkipped},
      {"one_failed_yes", TaskState::kSuccess},
      {"one_failed_no", TaskState::kSkipped},
      {"none_failed_yes", TaskState::kSuccess},
      {"none_failed_no", TaskState::kUpstreamFailed},
      {"none_skipped_yes", TaskState::kSuccess},
      {"none_skipped_no", TaskState::kSkipped},
      {"always", TaskState::kSuccess},
      {"after_skip", TaskState::kSkipped},
      {"after_uf", TaskState::kUpstreamFailed},
  };
  for (const auto& [task, state] : want) {
    ASSERT_TRUE(st.count(task)) << task;
    EXPECT_EQ(task_state_name(st[task].state), task_state_name(state)) << task;
  }
  // Tasks never run have no try.
  EXPECT_EQ(st["after_uf"].try_number, 0);
  EXPECT_EQ(st["ok"].try_number, 1);
}

// Each attempt records how its process ended: a shell task's exit code (128 + signal when killed),
// and for a failure without a process (here an undefined template) the error's exit code.
TEST(ExecutorTest, AttemptsRecordTheExitCode) {
  auto spec = parse_spec(R"(
tasks:
  - {id: three, shell: "exit 3"}
  - {id: zero, shell: "true"}
  - {id: killed, shell: "kill -TERM $$"}
  - {id: bad_template, shell: "echo {{ nope.nothing }}"}
)");
  Harness h;
  SystemClock clock;
  Executor executor(*h.store, shell_runners(), clock, h.options());
  EXPECT_EQ(h.run(executor, spec, new_run("p", "r")), RunState::kFailed);
  auto exit_code = [&](const std::string& task) {
    auto attempts = h.store->attempts("p", "r", task);
    EXPECT_TRUE(attempts.ok() && attempts->size() == 1u) << task;
    return attempts.ok() && !attempts->empty() ? (*attempts)[0].exit_code : -1;
  };
  EXPECT_EQ(exit_code("three"), 3);
  EXPECT_EQ(exit_code("zero"), 0);
  EXPECT_EQ(exit_code("killed"), 128 + 15);
  EXPECT_EQ(exit_code("bad_template"), 2);  // a configuration error
}

TEST(ExecutorTest, LogsPerAttemptWithTemplatesAndMaskedSecrets) {
  auto spec = parse_spec(R"(
params: {who: world}
tasks:
  - id: hello
    shell: "echo hello {{ params.who }} {{ ds }} $STRATA_TASK_ID $TOKEN; pwd"
    env: {TOKEN: hunter2secret}
)");
  Harness h;
  SystemClock clock;
  auto options = h.options();
  options.masker->add("hunter2secret");
  Executor executor(*h.store, shell_runners(), clock, options);
  auto run = new_run("p", "manual__1", 1767225600LL * 1000000);  // 2026-01-01
  run.params_json = R"({"who": "strata"})";
  EXPECT_EQ(h.run(executor, spec, run), RunState::kSuccess);
  auto attempts = h.store->attempts("p", "manual__1", "hello");
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].log_path, h.dir.file(".strata/logs/p/manual__1/hello/1.log"));
  std::string log;
  ASSERT_TRUE(read_file((*attempts)[0].log_path, log));
  EXPECT_NE(log.find("hello strata 2026-01-01 hello ****"), std::string::npos) << log;
  EXPECT_EQ(log.find("hunter2secret"), std::string::npos) << log;
  EXPECT_NE(log.find(h.dir.path()), std::string::npos) << log;  // working folder = project
}

TEST(ExecutorTest, RetriesWithExponentialBackoffOnAFakeClock) {
  auto spec = parse_spec(R"(
tasks:
  - id: flaky
    shell: "echo try $STRATA_TRY_NUMBER; test $STRATA_TRY_NUMBER -ge 4"
    retries: 4
    retry_delay: 10s
    retry_exponential_backoff: true
    max_retry_delay: 25s
)");
  Harness h;
  FakeClock clock(1'000'000'000'000'000LL);
  std::mutex mu;
  std::condition_variable cv;
  std::vector<TaskEvent> events;
  auto options = h.options();
  options.on_task_event = [&](const TaskEvent& e) {
    std::lock_guard lock(mu);
    events.push_back(e);
    cv.notify_all();
  };
  Executor executor(*h.store, shell_runners(), clock, options);
  ASSERT_TRUE(h.store->create_run(new_run("p", "r")).ok());
  ASSERT_TRUE(executor.start_run(spec, new_run("p", "r")).ok());
  auto wait_retry = [&](int n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(20), [&] {
      int c = 0;
      for (auto& e : events) c += e.state == TaskState::kUpForRetry;
      return c >= n;
    });
  };
  const int64_t expected_delays[] = {10'000'000, 20'000'000, 25'000'000};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(wait_retry(i + 1));
    auto ti = h.states("r")["flaky"];
    EXPECT_EQ(ti.state, TaskState::kUpForRetry);
    EXPECT_EQ(ti.try_number, i + 1);
    EXPECT_EQ(ti.next_retry_at - ti.end_at, expected_delays[i]) << "after try " << i + 1;
    // One microsecond short of the delay: the task must not start again.
    clock.advance(ti.next_retry_at - clock.now() - 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(h.states("r")["flaky"].try_number, i + 1);
    clock.advance(1);
  }
  EXPECT_EQ(executor.wait("p", "r"), RunState::kSuccess);
  auto ti = h.states("r")["flaky"];
  EXPECT_EQ(ti.try_number, 4);
  EXPECT_EQ(ti.state, TaskState::kSuccess);
  auto attempts = h.store->attempts("p", "r", "flaky");
  ASSERT_EQ(attempts->size(), 4u);
  EXPECT_EQ((*attempts)[0].state, TaskState::kFailed);
  EXPECT_EQ((*attempts)[3].state, TaskState::kSuccess);
}

TEST(ExecutorTest, ExecutionTimeoutKillsTheProcessGroup) {
  Harness h;
  const std::string pid_file = h.dir.file("child.pid");
  auto spec = parse_spec(R"(
tasks:
  - id: sleepy
    shell: "sleep 300 & echo $! > )" + pid_file + R"(; wait"
    execution_timeout: 1s
    retries: 1
    retry_delay: 0
)");
  SystemClock clock;
  Executor executor(*h.store, shell_runners(), clock, h.options());
  const int64_t start = monotonic_micros();
  EXPECT_EQ(h.run(executor, spec, new_run("p", "r")), RunState::kFailed);
  const int64_t elapsed = monotonic_micros() - start;
  EXPECT_LT(elapsed, 10'000'000);  // two tries of 1 s, not 300 s
  EXPECT_GE(elapsed, 2'000'000);
  auto ti = h.states("r")["sleepy"];
  EXPECT_EQ(ti.state, TaskState::kFailed);
  EXPECT_EQ(ti.try_number, 2);
  auto attempts = h.store->attempts("p", "r", "sleepy");
  EXPECT_NE((*attempts)[0].error.find("execution_timeout"), std::string::npos) << (*attempts)[0].error;
  // The background sleep (same process group) is gone.
  std::string pid_text;
  ASSERT_TRUE(read_file(pid_file, pid_text));
  const pid_t pid = std::stoi(pid_text);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Gone, or a zombie waiting for init to reap it (no longer running).
  std::string stat;
  const bool exists = read_file("/proc/" + std::to_string(pid) + "/stat", stat);
  const bool running = exists && stat.find(") Z") == std::string::npos;
  EXPECT_FALSE(running) << "sleep " << pid << " still alive: " << stat;
}

TEST(ExecutorTest, PoolsCapConcurrencyAcrossRunsAndPriorityOrders) {
  Harness h;
  const std::string trace = h.dir.file("trace");
  std::string cmd = "echo start $STRATA_RUN_ID $STRATA_TASK_ID >> " + trace + "; sleep 0.2; echo end >> " + trace;
  auto spec = parse_spec("tasks:\n"
                         "  - {id: a, shell: \"" + cmd + "\", pool: narrow, priority: 1}\n"
                         "  - {id: b, shell: \"" + cmd + "\", pool: narrow, priority: 1}\n"
                         "  - {id: c, shell: \"" + cmd + "\", pool: narrow, priority: 9}\n");
  SystemClock clock;
  auto options = h.options(8);
  options.pools["narrow"] = 1;
  Concurrency concurrency;
  options.on_task_event = concurrency.observer();
  Executor executor(*h.store, shell_runners(), clock, options);
  ASSERT_TRUE(h.store->create_run(new_run("p", "r1")).ok());
  ASSERT_TRUE(h.store->create_run(new_run("p", "r2")).ok());
  ASSERT_TRUE(executor.start_run(spec, new_run("p", "r1")).ok());
  ASSERT_TRUE(executor.start_run(spec, new_run("p", "r2")).ok());
  EXPECT_EQ(executor.wait("p", "r1"), RunState::kSuccess);
  EXPECT_EQ(executor.wait("p", "r2"), RunState::kSuccess);
  EXPECT_EQ(concurrency.peak.load(), 1);
  std::string text;
  ASSERT_TRUE(read_file(trace, text));
  // Never two starts without an end between them.
  int open = 0;
  for (const auto& line : split(text, '\n')) {
    if (starts_with(line, "start")) {
      EXPECT_EQ(++open, 1) << text;
    }
    if (starts_with(line, "end")) --open;
  }
  // The high-priority task of the second run starts before the low-priority tasks still waiting.
  auto lines = split(text, '\n');
  std::vector<std::string> starts;
  for (auto& l : lines) {
    if (starts_with(l, "start")) starts.push_back(l.substr(6));
  }
  ASSERT_EQ(starts.size(), 6u);
  EXPECT_EQ(starts[1], "r2 c") << text;
}

// Two executors (two schedulers) on one store, each running a run of two tasks in a pool of one
// slot: never two of the four tasks at once, and every task runs. Each executor alone would let
// one of its own run beside the other's.
// Runs r1 of `spec` on one executor and r2 on a second one with its own connection to h's store,
// both to success; returns the peak number of their tasks running at once.
int peak_across_two_executors(Harness& h, const std::shared_ptr<const PipelineSpec>& spec, ExecutorOptions options) {
  auto second_store = SqliteStore::open(h.dir.file(".strata/strata.db"));
  EXPECT_TRUE(second_store.ok()) << second_store.error().to_string();
  if (!second_store.ok()) return -1;
  SystemClock clock;
  Concurrency concurrency;
  options.on_task_event = concurrency.observer();
  Executor first(*h.store, shell_runners(), clock, options);
  Executor second(**second_store, shell_runners(), clock, options);
  EXPECT_TRUE(h.store->create_run(new_run("p", "r1")).ok());
  EXPECT_TRUE(h.store->create_run(new_run("p", "r2")).ok());
  EXPECT_TRUE(first.start_run(spec, new_run("p", "r1")).ok());
  EXPECT_TRUE(second.start_run(spec, new_run("p", "r2")).ok());
  EXPECT_EQ(first.wait("p", "r1"), RunState::kSuccess);
  EXPECT_EQ(second.wait("p", "r2"), RunState::kSuccess);
  EXPECT_EQ(concurrency.finished.load(), 2 * static_cast<int>(spec->tasks.size()));
  return concurrency.peak.load();
}

TEST(ExecutorTest, APoolHoldsAcrossExecutorsSharingTheStore) {
  Harness h;
  auto spec = parse_spec("tasks:\n"
                         "  - {id: a, shell: \"sleep 0.3\", pool: narrow}\n"
                         "  - {id: b, shell: \"sleep 0.3\", pool: narrow}\n");
  auto options = h.options(4);
  options.pools["narrow"] = 1;
  EXPECT_EQ(peak_across_two_executors(h, spec, options), 1);
  for (const std::string run_id : {"r1", "r2"})
    for (const auto& [task, ti] : h.states(run_id)) EXPECT_EQ(ti.try_number, 1) << run_id << " " << task;
}

// Runs "first", a scheduled run of a depends_on_past pipeline whose task `load` fails: the
// previous run a later run's `load` waits on. Returns that pipeline.
std::shared_ptr<const PipelineSpec> fail_first_scheduled_run(Harness& h, Executor& executor) {
  auto failing = testing::parse_spec("default_args: {depends_on_past: true}\ntasks:\n  - {id: load, shell: \"exit 1\"}\n");
  RunRecord first = testing::new_run("p", "first", 0);
  first.type = RunType::kScheduled;
  EXPECT_EQ(h.run(executor, failing, first), RunState::kFailed);
  return failing;
}

// A task waiting on depends_on_past when its run is cancelled is skipped, no longer "waiting for"
// anything; the run's note says why it ended.
TEST(ExecutorTest, ACancelledWaitingTaskLosesItsWaitingNote) {
  Harness h;
  SystemClock clock;
  Executor executor(*h.store, testing::shell_runners(), clock, h.options());
  auto spec = fail_first_scheduled_run(h, executor);
  RunRecord second = testing::new_run("p", "second", 3'600'000'000LL);
  second.type = RunType::kScheduled;
  ASSERT_TRUE(h.store->create_run(second).ok());
  ASSERT_TRUE(executor.start_run(spec, second).ok());
  bool waiting = false;
  for (int i = 0; i < 500 && !waiting; ++i) {
    waiting = !h.states("second")["load"].note.empty();
    if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(waiting) << "load was never recorded waiting";
  ASSERT_TRUE(executor.cancel_run("p", "second", "stopped by the test"));
  EXPECT_EQ(executor.wait("p", "second"), RunState::kFailed);
  auto load = h.states("second")["load"];
  EXPECT_EQ(load.state, TaskState::kSkipped);
  EXPECT_EQ(load.note, "");
  EXPECT_EQ((*h.store->run("p", "second"))->note, "stopped by the test");
}

// max_active_tasks holds across executors too: two executors sharing the store run one run each of
// a pipeline capped at 1 task at a time, so its four tasks never overlap.
TEST(ExecutorTest, MaxActiveTasksHoldsAcrossExecutorsSharingTheStore) {
  Harness h;
  auto spec = parse_spec("max_active_tasks: 1\n"
                         "tasks:\n"
                         "  - {id: a, shell: \"sleep 0.3\"}\n"
                         "  - {id: b, shell: \"sleep 0.3\"}\n");
  EXPECT_EQ(peak_across_two_executors(h, spec, h.options(4)), 1);
}

TEST(ExecutorTest, CancelRunStopsRunningAttemptsWithoutRetryAndSkipsTheRest) {
  Harness h;
  const std::string pid_file = h.dir.file("child.pid");
  auto spec = parse_spec(R"(
tasks:
  - id: slow
    shell: "sleep 300 & echo $! > )" + pid_file + R"(; wait"
    retries: 3
    retry_delay: 0
  - {id: after, shell: "true", depends_on: [slow]}
  - {id: beside, shell: "true", depends_on: [slow], trigger_rule: all_done}
)");
  SystemClock clock;
  Executor executor(*h.store, shell_runners(), clock, h.options());
  ASSERT_TRUE(h.store->create_run(new_run("p", "r")).ok());
  ASSERT_TRUE(executor.start_run(spec, new_run("p", "r")).ok());
  EXPECT_FALSE(executor.cancel_run("p", "not-a-run", "test"));
  std::string pid_text;
  const int64_t deadline = monotonic_micros() + 20'000'000;
  while (!read_file(pid_file, pid_text) || pid_text.empty()) {
    ASSERT_LT(monotonic_micros(), deadline) << "the slow task never started";
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const int64_t cancelled_at = monotonic_micros();
  EXPECT_TRUE(executor.cancel_run("p", "r", "cancelled by the test"));
  auto end = executor.wait_for("p", "r", 20'000);
  ASSERT_TRUE(end.has_value()) << "the run did not end after cancel";
  EXPECT_EQ(*end, RunState::kFailed);
  EXPECT_LT(monotonic_micros() - cancelled_at, 10'000'000);
  auto st = h.states("r");
  EXPECT_EQ(task_state_name(st["slow"].state), task_state_name(TaskState::kFailed));
  EXPECT_EQ(st["slow"].try_number, 1);  // retries: 3, but a cancelled run is not retried
  // Neither the all_success child nor the all_done one runs after a cancel.
  EXPECT_EQ(task_state_name(st["after"].state), task_state_name(TaskState::kSkipped));
  EXPECT_EQ(task_state_name(st["beside"].state), task_state_name(TaskState::kSkipped));
  auto attempts = h.store->attempts("p", "r", "slow");
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].state, TaskState::kFailed);
  auto run = h.store->run("p", "r");
  ASSERT_TRUE(run.ok() && run->has_value());
  EXPECT_EQ((*run)->state, RunState::kFailed);
  // The shell's process group is gone (or a zombie for init to reap).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::string stat;
  const bool exists = read_file("/proc/" + std::to_string(std::stoi(pid_text)) + "/stat", stat);
  EXPECT_FALSE(exists && stat.find(") Z") == std::string::npos) << "sleep still alive: " << stat;
}

TEST(ExecutorTest, UndefinedPoolIsAConfigError) {
  auto spec = parse_spec("tasks:\n  - {id: a, shell: \"true\", pool: nowhere}\n");
  Harness h;
  SystemClock clock;
  Executor executor(*h.store, shell_runners(), clock, h.options());
  Status s = executor.start_run(spec, new_run("p", "r"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("nowhere"), std::string::npos);
  EXPECT_EQ(s.error().where().line, 2);
}

TEST(ExecutorTest, ResumesARunKeepingFinishedTasks) {
  Harness h;
  const std::string trace = h.dir.file("trace");
  auto spec = parse_spec("tasks:\n  - {id: a, shell: \"echo a >> " + trace + "\"}\n  - {id: b, shell: \"echo b >> " +
                         trace + "\", depends_on: a}\n");
  TaskInstanceRecord done;
  done.pipeline = "p";
  done.run_id = "r";
  done.task_id = "a";
  done.state = TaskState::kSuccess;
  done.try_number = 1;
  ASSERT_TRUE(h.store->upsert_task_instance(done).ok());
  SystemClock clock;
  Executor executor(*h.store, shell_runners(), clock, h.options());
  EXPECT_EQ(h.run(executor, spec, new_run("p", "r")), RunState::kSuccess);
  std::string text;
  ASSERT_TRUE(read_file(trace, text));
  EXPECT_EQ(text, "b\n");
}

}  // namespace
}  // namespace strata::orchestrate

namespace strata::orchestrate {
namespace {

// depends_on_past (Airflow's): the task waits while its instance in the previous run (by logical
// date) has not succeeded; the first run, and a task the previous run did not have, do not wait.
TEST(ExecutorTest, DependsOnPastWaitsForThePreviousRunsInstance) {
  Harness h;
  SystemClock clock;
  Executor executor(*h.store, testing::shell_runners(), clock, h.options());
  fail_first_scheduled_run(h, executor);
  // A failed manual run in between does not count: with catchup (the default), the previous run
  // is the previous scheduled one, as in Airflow.
  RunRecord manual = testing::new_run("p", "manual", 1'800'000'000LL);
  manual.state = RunState::kFailed;
  ASSERT_TRUE(h.store->create_run(manual).ok());
  TaskInstanceRecord manual_load;
  manual_load.pipeline = "p";
  manual_load.run_id = "manual";
  manual_load.task_id = "load";
  manual_load.state = TaskState::kFailed;
  ASSERT_TRUE(h.store->upsert_task_instance(manual_load).ok());
  auto spec = testing::parse_spec(R"(
default_args: {depends_on_past: true}
tasks:
  - {id: load, shell: "echo second >> out.txt"}
  - {id: new_task, shell: "true"}
)");
  EXPECT_TRUE(spec->tasks[0].depends_on_past);
  RunRecord second = testing::new_run("p", "second", 3'600'000'000LL);
  second.type = RunType::kScheduled;
  ASSERT_TRUE(h.store->create_run(second).ok());
  ASSERT_TRUE(executor.start_run(spec, second).ok());
  auto waited = executor.wait_for("p", "second", 1500);
  EXPECT_FALSE(waited.has_value());  // load waits for the failed instance of the first run
  auto tis = h.states("second");
  EXPECT_EQ(tis["new_task"].state, TaskState::kSuccess);  // not in the first run: no wait
  EXPECT_EQ(tis["load"].state, TaskState::kQueued);  // shown waiting, with what for
  EXPECT_EQ(tis["load"].note, "depends_on_past: its instance in the previous run (first) is failed");
  EXPECT_EQ(tis["load"].try_number, 0);  // never started: no try used
  EXPECT_FALSE(std::filesystem::exists(h.dir.file("out.txt")));
  // The first run's instance is marked success (as a clear and re-run would make it).
  auto first = h.states("first")["load"];
  first.state = TaskState::kSuccess;
  ASSERT_TRUE(h.store->upsert_task_instance(first).ok());
  auto ended = executor.wait_for("p", "second", 10000);
  ASSERT_TRUE(ended.has_value()) << "load still waits: the manual run counted as the previous one?";
  EXPECT_EQ(*ended, RunState::kSuccess);
  EXPECT_EQ(h.states("second")["load"].try_number, 1);
  EXPECT_EQ(h.states("second")["load"].note, "");  // once it ran, it waits for nothing
}

}  // namespace
}  // namespace strata::orchestrate

namespace strata::orchestrate {
namespace {

// max_active_tasks (Airflow's): at most that many of the pipeline's tasks run at once across its runs.
TEST(ExecutorTest, MaxActiveTasksCapsAPipelineAcrossItsRuns) {
  Harness h;
  SystemClock clock;
  Concurrency concurrency;
  auto options = h.options(8);
  options.on_task_event = concurrency.observer();
  Executor executor(*h.store, testing::shell_runners(), clock, options);
  auto spec = testing::parse_spec(R"(
max_active_tasks: 2
tasks:
  - {id: a, shell: "sleep 0.2"}
  - {id: b, shell: "sleep 0.2"}
  - {id: c, shell: "sleep 0.2"}
)");
  EXPECT_EQ(spec->max_active_tasks, 2);
  for (const char* id : {"r1", "r2"}) {
    ASSERT_TRUE(h.store->create_run(testing::new_run("p", id)).ok());
    ASSERT_TRUE(executor.start_run(spec, testing::new_run("p", id)).ok());
  }
  EXPECT_EQ(executor.wait("p", "r1"), RunState::kSuccess);
  EXPECT_EQ(executor.wait("p", "r2"), RunState::kSuccess);
  EXPECT_EQ(concurrency.finished.load(), 6);
  EXPECT_EQ(concurrency.peak.load(), 2);
}

// dagrun_timeout (Airflow's): a run still going after it is cancelled: its running task stopped
// and failed without retry, what had not run skipped, the run failed.
TEST(ExecutorTest, DagrunTimeoutFailsARunThatTakesTooLong) {
  Harness h;
  SystemClock clock;
  Executor executor(*h.store, testing::shell_runners(), clock, h.options());
  auto spec = testing::parse_spec(R"(
dagrun_timeout: 600ms
tasks:
  - {id: slow, shell: "sleep 30", retries: 2, retry_delay: 0s}
  - {id: after, shell: "true", depends_on: slow}
)");
  const int64_t t0 = monotonic_micros();
  EXPECT_EQ(h.run(executor, spec, testing::new_run("p", "r")), RunState::kFailed);
  const int64_t elapsed = monotonic_micros() - t0;
  EXPECT_GE(elapsed, 550'000);
  EXPECT_LT(elapsed, 10'000'000);
  auto tis = h.states("r");
  EXPECT_EQ(tis["slow"].state, TaskState::kFailed);
  EXPECT_EQ(tis["slow"].try_number, 1);
  EXPECT_EQ(tis["after"].state, TaskState::kSkipped);
  auto attempts = *h.store->attempts("p", "r", "slow");
  ASSERT_EQ(attempts.size(), 1u);
  EXPECT_NE(attempts[0].error.find("dagrun_timeout exceeded"), std::string::npos) << attempts[0].error;
  // The run says why it failed (the API, the UI, `pipeline runs` and the run_failed notification show it).
  auto run = *h.store->run("p", "r");
  ASSERT_TRUE(run.has_value());
  EXPECT_NE(run->note.find("dagrun_timeout exceeded"), std::string::npos) << run->note;
}

TEST(ExecutorTest, RunLimitsAreCheckedWhenParsed) {
  for (const char* bad : {"max_active_tasks: 0\ntasks:\n  - {id: a, shell: x}\n",
                          "dagrun_timeout: soon\ntasks:\n  - {id: a, shell: x}\n",
                          "dagrun_timeout: 0s\ntasks:\n  - {id: a, shell: x}\n"}) {
    auto doc = load_yaml_string(bad, "pipelines/p.yml");
    ASSERT_TRUE(doc.ok());
    auto spec = parse_pipeline(*doc, "p");
    ASSERT_FALSE(spec.ok()) << bad;
    EXPECT_EQ(spec.error().where().line, 1) << spec.error().to_string();
    EXPECT_EQ(spec.error().exit_code(), 2);
  }
}

}  // namespace
}  // namespace strata::orchestrate

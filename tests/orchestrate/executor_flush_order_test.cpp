// The executor writes a run's end only after every other write of the run: workers gather store
// writes under the executor's lock and make them after it, so without that order a run could be
// reported finished while another worker's task-instance writes were still on their way. The real
// SQLite store is wrapped so that one write is slow, which makes that window wide and certain.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "orchestrate/clock.h"
#include "orchestrate_harness.h"

namespace strata::orchestrate {
namespace {

using testing::Harness;
using testing::new_run;
using testing::parse_spec;
using testing::shell_runners;

// The harness's SQLite store, with the write of one task instance state delayed.
class DelayingStore final : public MetadataStore {
 public:
  DelayingStore(MetadataStore& inner, std::string task_id, TaskState state, std::chrono::milliseconds delay)
      : inner_(inner), task_id_(std::move(task_id)), state_(state), delay_(delay) {}

  Status upsert_task_instance(const TaskInstanceRecord& ti) override {
    if (ti.task_id == task_id_ && ti.state == state_) std::this_thread::sleep_for(delay_);
    return inner_.upsert_task_instance(ti);
  }

  Status ensure_pipeline(const std::string& name) override { return inner_.ensure_pipeline(name); }
  Status set_paused(const std::string& name, bool paused) override { return inner_.set_paused(name, paused); }
  Result<std::vector<PipelineRecord>> pipelines() override { return inner_.pipelines(); }
  Status create_run(const RunRecord& run) override { return inner_.create_run(run); }
  Status update_run(const RunRecord& run) override { return inner_.update_run(run); }
  Result<bool> claim_run(const std::string& pipeline, const std::string& run_id, const std::string& owner,
                         int64_t at, int max_running) override {
    return inner_.claim_run(pipeline, run_id, owner, at, max_running);
  }
  Result<bool> adopt_run(const std::string& pipeline, const std::string& run_id, const std::string& from_owner,
                         const std::string& to_owner) override {
    return inner_.adopt_run(pipeline, run_id, from_owner, to_owner);
  }
  Result<std::optional<RunRecord>> run(const std::string& pipeline, const std::string& run_id) override {
    return inner_.run(pipeline, run_id);
  }
  Result<std::vector<RunRecord>> runs_with_id(const std::string& run_id) override {
    return inner_.runs_with_id(run_id);
  }
  Result<std::optional<RunRecord>> run_at(const std::string& pipeline, int64_t logical_date) override {
    return inner_.run_at(pipeline, logical_date);
  }
  Result<std::vector<RunRecord>> runs(const std::string& pipeline, std::optional<RunState> state,
                                      int limit) override {
    return inner_.runs(pipeline, state, limit);
  }
  Result<std::optional<RunRecord>> latest_run(const std::string& pipeline) override {
    return inner_.latest_run(pipeline);
  }
  Result<std::vector<TaskInstanceRecord>> task_instances(const std::string& pipeline,
                                                         const std::string& run_id) override {
    return inner_.task_instances(pipeline, run_id);
  }
  Status delete_task_instances(const std::string& pipeline, const std::string& run_id) override {
    return inner_.delete_task_instances(pipeline, run_id);
  }
  Status upsert_attempt(const AttemptRecord& attempt) override { return inner_.upsert_attempt(attempt); }
  Status save_attempt(const TaskInstanceRecord& ti, const AttemptRecord& attempt) override {
    return inner_.save_attempt(ti, attempt);
  }
  Result<bool> start_attempt(const TaskInstanceRecord& ti, const AttemptRecord& attempt, int pool_slots,
                             int pipeline_slots) override {
    return inner_.start_attempt(ti, attempt, pool_slots, pipeline_slots);
  }
  Result<std::vector<AttemptRecord>> attempts(const std::string& pipeline, const std::string& run_id,
                                              const std::string& task_id) override {
    return inner_.attempts(pipeline, run_id, task_id);
  }
  Result<std::vector<AttemptRecord>> running_attempts() override { return inner_.running_attempts(); }
  Status heartbeat(const HeartbeatRecord& beat) override { return inner_.heartbeat(beat); }
  Result<std::vector<HeartbeatRecord>> heartbeats() override { return inner_.heartbeats(); }
  Status enqueue_work(const WorkItemRecord& item) override { return inner_.enqueue_work(item); }
  Result<std::vector<WorkItemRecord>> queued_work(const std::vector<std::string>& queues, int limit) override {
    return inner_.queued_work(queues, limit);
  }
  Result<bool> claim_work(const WorkKey& key, const std::string& worker, int64_t at) override {
    return inner_.claim_work(key, worker, at);
  }
  Result<bool> heartbeat_work(const WorkKey& key, const std::string& worker, int64_t at) override {
    return inner_.heartbeat_work(key, worker, at);
  }
  Result<bool> finish_work(const WorkKey& key, const std::string& worker, const WorkResult& result) override {
    return inner_.finish_work(key, worker, result);
  }
  Status request_cancel_work(const WorkKey& key, const std::string& reason, int64_t at) override {
    return inner_.request_cancel_work(key, reason, at);
  }
  Result<std::optional<WorkItemRecord>> work_item(const WorkKey& key) override { return inner_.work_item(key); }
  Status append_work_log(const WorkKey& key, int64_t seq, const std::string& text) override {
    return inner_.append_work_log(key, seq, text);
  }
  Result<std::vector<std::pair<int64_t, std::string>>> work_log(const WorkKey& key, int64_t after_seq) override {
    return inner_.work_log(key, after_seq);
  }
  Status add_sync_report(const SyncReportRecord& report) override { return inner_.add_sync_report(report); }
  Result<std::vector<SyncReportRecord>> sync_reports(const std::string& pipeline,
                                                     const std::string& run_id) override {
    return inner_.sync_reports(pipeline, run_id);
  }
  Result<int64_t> add_dataset_event(const DatasetEventRecord& event, int64_t at) override {
    return inner_.add_dataset_event(event, at);
  }
  Result<std::vector<DatasetEventRecord>> dataset_events(const std::string& uri, int64_t after_id, int limit) override {
    return inner_.dataset_events(uri, after_id, limit);
  }
  Status start_dataset_queues(const std::string& pipeline, const std::vector<std::string>& uris) override {
    return inner_.start_dataset_queues(pipeline, uris);
  }
  Result<std::vector<DatasetQueueRecord>> dataset_queue(const std::string& pipeline,
                                                        const std::vector<std::string>& uris) override {
    return inner_.dataset_queue(pipeline, uris);
  }
  Result<bool> create_dataset_run(const RunRecord& run, const std::vector<DatasetQueueRecord>& queues) override {
    return inner_.create_dataset_run(run, queues);
  }
  Result<std::optional<RunRecord>> previous_run(const std::string& pipeline, int64_t logical_date,
                                                bool skip_manual) override {
    return inner_.previous_run(pipeline, logical_date, skip_manual);
  }
  Result<bool> skip_dataset_queue(const std::string& pipeline, const std::vector<DatasetQueueRecord>& queues) override {
    return inner_.skip_dataset_queue(pipeline, queues);
  }
  Result<std::vector<DatasetEventRecord>> run_outlet_events(const std::string& pipeline,
                                                            const std::string& run_id) override {
    return inner_.run_outlet_events(pipeline, run_id);
  }
  Result<std::vector<DatasetSummaryRecord>> dataset_summaries() override { return inner_.dataset_summaries(); }
  Result<std::vector<DatasetEventRecord>> run_dataset_events(const std::string& pipeline,
                                                             const std::string& run_id) override {
    return inner_.run_dataset_events(pipeline, run_id);
  }
  Status add_test_result(const TestResultRecord& result) override { return inner_.add_test_result(result); }
  Result<std::vector<TestResultRecord>> test_results(const std::string& pipeline,
                                                     const std::string& run_id) override {
    return inner_.test_results(pipeline, run_id);
  }

 private:
  MetadataStore& inner_;
  std::string task_id_;
  TaskState state_;
  std::chrono::milliseconds delay_;
};

// `bad` fails at once and its worker marks `child` upstream_failed (that write takes 1.5 s);
// `slow` ends after 0.3 s on the other worker and completes the run. The run's end must wait for
// `child`'s write: whoever waits for the run then reads every task's final state.
TEST(ExecutorFlushOrder, ARunEndsAfterEveryTaskInstanceWriteOfIt) {
  auto spec = parse_spec(R"(
tasks:
  - {id: bad, shell: "exit 3"}
  - {id: child, shell: "true", depends_on: [bad]}
  - {id: slow, shell: "sleep 0.3"}
)");
  Harness h;
  DelayingStore store(*h.store, "child", TaskState::kUpstreamFailed, std::chrono::milliseconds(1500));
  SystemClock clock;
  Executor executor(store, shell_runners(), clock, h.options(2));
  ASSERT_TRUE(store.ensure_pipeline("p").ok());
  ASSERT_TRUE(store.create_run(new_run("p", "r")).ok());
  ASSERT_TRUE(executor.start_run(spec, new_run("p", "r")).ok());
  EXPECT_EQ(executor.wait("p", "r"), RunState::kFailed);
  auto states = h.states("r");
  EXPECT_EQ(states["bad"].state, TaskState::kFailed);
  EXPECT_EQ(states["slow"].state, TaskState::kSuccess);
  EXPECT_EQ(states["child"].state, TaskState::kUpstreamFailed) << task_state_name(states["child"].state);
  auto run = h.store->run("p", "r");
  ASSERT_TRUE(run.ok() && *run);
  EXPECT_EQ((*run)->state, RunState::kFailed);
}

}  // namespace
}  // namespace strata::orchestrate

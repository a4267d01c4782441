#pragma once
// The MetadataStore contract for datasets (metadata_store.h, orchestrate/datasets.h); included
// after store_contract.h by the same files.
#include "store_contract.h"

namespace strata::orchestrate::testing {

inline DatasetEventRecord produced(const std::string& uri, const std::string& task = "t") {
  return DatasetEventRecord{0, uri, 0, "producer", "run_1", task, R"({"rows": 3})"};
}

inline RunRecord dataset_run(const std::string& pipeline, const std::string& run_id) {
  RunRecord run = queued_run(pipeline, run_id, 1000);
  run.type = RunType::kDatasetTriggered;
  return run;
}

TEST_P(StoreContractTest, DatasetEventsQueueForEachPipelineFromWhenItFirstWaits) {
  // Before the consumer waits for it: never queued for it.
  ASSERT_TRUE(store_->add_dataset_event(produced("s3://a"), 10).ok());
  ASSERT_TRUE(store_->start_dataset_queues("consumer", {"s3://a", "s3://b"}).ok());
  auto queue = store_->dataset_queue("consumer", {"s3://a", "s3://b"});
  ASSERT_TRUE(queue.ok()) << queue.error().to_string();
  ASSERT_EQ(queue->size(), 2u);
  EXPECT_EQ((*queue)[0].uri, "s3://a");
  EXPECT_EQ((*queue)[0].count, 0);
  EXPECT_EQ((*queue)[0].consumed_id, 1);
  EXPECT_EQ((*queue)[1].count, 0);

  auto a2 = store_->add_dataset_event(produced("s3://a"), 20);
  auto a3 = store_->add_dataset_event(produced("s3://a", "u"), 30);
  auto b1 = store_->add_dataset_event(produced("s3://b"), 25);
  ASSERT_TRUE(a2.ok() && a3.ok() && b1.ok());
  EXPECT_EQ(*a2, 2);
  EXPECT_EQ(*a3, 3);
  EXPECT_EQ(*b1, 4);
  queue = store_->dataset_queue("consumer", {"s3://a", "s3://b"});
  ASSERT_TRUE(queue.ok());
  EXPECT_EQ((*queue)[0].count, 2);
  EXPECT_EQ((*queue)[0].last_id, 3);
  EXPECT_EQ((*queue)[0].first_at, 20);
  EXPECT_EQ((*queue)[0].last_at, 30);
  EXPECT_EQ((*queue)[1].count, 1);
  // Another pipeline's queue is its own: it starts empty now.
  ASSERT_TRUE(store_->start_dataset_queues("other", {"s3://a"}).ok());
  auto other = store_->dataset_queue("other", {"s3://a"});
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)[0].count, 0);

  ASSERT_TRUE(store_->ensure_pipeline("consumer").ok());
  auto created = store_->create_dataset_run(dataset_run("consumer", "dataset_triggered__1"), *queue);
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  EXPECT_TRUE(*created);
  auto run = store_->run("consumer", "dataset_triggered__1");
  ASSERT_TRUE(run.ok() && *run);
  EXPECT_EQ((*run)->type, RunType::kDatasetTriggered);
  auto triggering = store_->run_dataset_events("consumer", "dataset_triggered__1");
  ASSERT_TRUE(triggering.ok());
  ASSERT_EQ(triggering->size(), 3u);
  EXPECT_EQ((*triggering)[0].id, 2);
  EXPECT_EQ((*triggering)[1].source_task_id, "u");
  EXPECT_EQ((*triggering)[2].uri, "s3://b");
  EXPECT_EQ((*triggering)[0].extra_json, R"({"rows": 3})");
  // Consumed: the queue is empty again, and the same (stale) queue cannot be consumed twice.
  auto drained = store_->dataset_queue("consumer", {"s3://a", "s3://b"});
  ASSERT_TRUE(drained.ok());
  EXPECT_EQ((*drained)[0].count, 0);
  EXPECT_EQ((*drained)[1].count, 0);
  auto again = store_->create_dataset_run(dataset_run("consumer", "dataset_triggered__2"), *queue);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_FALSE(*store_->run("consumer", "dataset_triggered__2"));

  auto events = store_->dataset_events("s3://a", 0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ(events->front().id, 3);  // newest first
  // After an id: the oldest first, so that a follower pages through all of them.
  auto after = store_->dataset_events("", 1, 2);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].id, 2);
  EXPECT_EQ((*after)[1].id, 3);
  EXPECT_EQ(store_->dataset_events("", 3, 10)->size(), 1u);
  auto outlets = store_->run_outlet_events("producer", "run_1");
  ASSERT_TRUE(outlets.ok());
  EXPECT_EQ(outlets->size(), 4u);
  EXPECT_TRUE(store_->run_outlet_events("producer", "run_2")->empty());
  auto summaries = store_->dataset_summaries();
  ASSERT_TRUE(summaries.ok());
  ASSERT_EQ(summaries->size(), 2u);
  EXPECT_EQ((*summaries)[0].uri, "s3://a");
  EXPECT_EQ((*summaries)[0].events, 3);
  EXPECT_EQ((*summaries)[0].last_at, 30);
}

// A dataset taken out of a pipeline's schedule and put back starts afresh; skipping (a paused
// pipeline) consumes without a run.
TEST_P(StoreContractTest, DatasetQueuesFollowTheScheduleAndCanBeSkipped) {
  ASSERT_TRUE(store_->start_dataset_queues("c", {"a", "b"}).ok());
  ASSERT_TRUE(store_->add_dataset_event(produced("b"), 1).ok());
  ASSERT_EQ((*store_->dataset_queue("c", {"a", "b"}))[1].count, 1);
  ASSERT_TRUE(store_->start_dataset_queues("c", {"a"}).ok());  // b left the schedule
  ASSERT_TRUE(store_->add_dataset_event(produced("b"), 2).ok());
  ASSERT_TRUE(store_->start_dataset_queues("c", {"a", "b"}).ok());
  auto back = store_->dataset_queue("c", {"a", "b"});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[1].count, 0);
  ASSERT_TRUE(store_->add_dataset_event(produced("a"), 3).ok());
  auto queued = store_->dataset_queue("c", {"a", "b"});
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ((*queued)[0].count, 1);
  auto skipped = store_->skip_dataset_queue("c", *queued);
  ASSERT_TRUE(skipped.ok());
  EXPECT_TRUE(*skipped);
  EXPECT_EQ((*store_->dataset_queue("c", {"a", "b"}))[0].count, 0);
  EXPECT_FALSE(*store_->skip_dataset_queue("c", *queued));  // stale
  EXPECT_TRUE(store_->runs("c", std::nullopt, 10)->empty());
}

// Schedulers sharing the store race to consume one queue: exactly one creates the run, and the
// events added meanwhile get distinct, ascending ids.
TEST_P(StoreContractTest, DatasetQueueIsConsumedByExactlyOneProcess) {
  constexpr int kSchedulers = 5;
  ASSERT_TRUE(store_->ensure_pipeline("consumer").ok());
  ASSERT_TRUE(store_->start_dataset_queues("consumer", {"s3://a"}).ok());
  ASSERT_TRUE(store_->add_dataset_event(produced("s3://a"), 1).ok());
  std::atomic<int> created{0}, errors{0};
  std::vector<std::vector<int64_t>> ids(kSchedulers);
  ASSERT_NO_FATAL_FAILURE(race(kSchedulers, [&](int i, MetadataStore& handle) {
    auto queue = handle.dataset_queue("consumer", {"s3://a"});
    if (!queue.ok()) {
      ++errors;
      return;
    }
    auto made = handle.create_dataset_run(dataset_run("consumer", "run_" + std::to_string(i)), *queue);
    if (!made.ok()) ++errors;
    else if (*made) ++created;
    for (int k = 0; k < 4; ++k) {
      auto id = handle.add_dataset_event(produced("s3://other"), 2);
      if (!id.ok()) ++errors;
      else ids[static_cast<size_t>(i)].push_back(*id);
    }
  }));
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(store_->runs("consumer", std::nullopt, 100)->size(), 1u);
  std::set<int64_t> all;
  for (const auto& list : ids) {
    EXPECT_TRUE(std::is_sorted(list.begin(), list.end()));
    all.insert(list.begin(), list.end());
  }
  EXPECT_EQ(all.size(), static_cast<size_t>(kSchedulers * 4));
}

}  // namespace strata::orchestrate::testing

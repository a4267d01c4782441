// Datasets through the HTTP API of a real server, store, executor and scheduler: a producer's
// outlet triggers its consumer, events sent to POST /api/v1/datasets/events trigger it again, and
// the lists show who updates and who waits for each dataset.
#include <gtest/gtest.h>

#include "server_harness.h"

namespace strata::server::testing {
namespace {

const std::map<std::string, std::string> kFiles{
    {"pipelines/producer.yml", "tasks:\n  - {id: load, shell: \"echo loaded\", outlets: [s3://lake/orders]}\n"},
    {"pipelines/consumer.yml",
     "schedule: [s3://lake/orders]\ntasks:\n"
     "  - id: report\n"
     "    shell: \"echo {{ triggering_dataset_events['s3://lake/orders'] | length }} >> report.txt\"\n"},
};

// The consumer's runs, oldest first.
Json consumer_runs(httplib::Client& c) {
  Json page = json_of(c.Get("/api/v1/pipelines/consumer/runs?limit=100"));
  Json runs = page.is_object() ? page["runs"] : Json::array();
  std::reverse(runs.begin(), runs.end());
  return runs;
}

bool consumer_finished(httplib::Client& c, size_t count) {
  return eventually([&] {
    Json runs = consumer_runs(c);
    if (runs.size() != count) return false;
    for (const auto& r : runs)
      if (r["state"] != "success" && r["state"] != "failed") return false;
    return true;
  });
}

TEST(DatasetsApi, AnOutletAndAnApiEventEachTriggerTheConsumer) {
  ServerHarness h({}, "127.0.0.1", kFiles);
  auto c = h.client();
  auto s = BrowserSession::open(c);

  Json list = json_of(c.Get("/api/v1/datasets"));
  ASSERT_EQ(list["datasets"].size(), 1u) << list.dump();
  Json orders = list["datasets"][0];
  EXPECT_EQ(orders["uri"], "s3://lake/orders");
  EXPECT_EQ(orders["producers"], Json::parse(R"([{"pipeline": "producer", "task": "load"}])"));
  EXPECT_EQ(orders["consumers"], Json::parse(R"([{"pipeline": "consumer", "schedule": "s3://lake/orders"}])"));
  EXPECT_EQ(orders["total_events"], 0);
  EXPECT_TRUE(orders["last_event_at"].is_null());
  Json consumer = json_of(c.Get("/api/v1/pipelines/consumer"));
  EXPECT_EQ(consumer["dataset_schedule"], "s3://lake/orders");
  EXPECT_TRUE(consumer["schedule"].is_null());
  EXPECT_EQ(json_of(c.Get("/api/v1/pipelines/producer"))["tasks"][0]["outlets"], Json::parse(R"(["s3://lake/orders"])"));

  const std::string produced = trigger(c, s, "producer");
  ASSERT_FALSE(produced.empty());
  ASSERT_TRUE(wait_finished(c, produced));
  ASSERT_TRUE(consumer_finished(c, 1)) << consumer_runs(c).dump();
  Json runs = consumer_runs(c);
  EXPECT_EQ(runs[0]["type"], "dataset_triggered");
  EXPECT_EQ(runs[0]["data_interval_start"], runs[0]["data_interval_end"]);  // one event
  EXPECT_EQ(runs[0]["state"], "success");
  const std::string first = runs[0]["run_id"];
  Json triggering = json_of(c.Get(("/api/v1/runs/" + first + "/dataset_events?pipeline=consumer").c_str()));
  ASSERT_EQ(triggering["events"].size(), 1u);
  EXPECT_EQ(triggering["events"][0]["source_dag_id"], "producer");
  EXPECT_EQ(triggering["events"][0]["source_run_id"], produced);
  EXPECT_EQ(triggering["events"][0]["source_task_id"], "load");

  // An event from outside, as Airflow's POST /datasets/events.
  auto posted = post(c, s, "/api/v1/datasets/events", R"({"uri": "s3://lake/orders", "extra": {"rows": 5}})");
  ASSERT_TRUE(posted);
  ASSERT_EQ(posted->status, 201) << posted->body;
  Json event = json_of(posted)["event"];
  EXPECT_EQ(event["uri"], "s3://lake/orders");
  EXPECT_EQ(event["extra"]["rows"], 5);
  EXPECT_EQ(event["extra"]["from_rest_api"], true);
  EXPECT_EQ(event["source_dag_id"], "");
  ASSERT_TRUE(consumer_finished(c, 2)) << consumer_runs(c).dump();
  std::ifstream report(h.file("report.txt"));
  std::string lines((std::istreambuf_iterator<char>(report)), std::istreambuf_iterator<char>());
  EXPECT_EQ(lines, "1\n1\n");

  Json events = json_of(c.Get("/api/v1/datasets/events?uri=s3://lake/orders"));
  ASSERT_EQ(events["events"].size(), 2u);
  EXPECT_EQ(events["events"][0]["id"], event["id"]);  // newest first
  EXPECT_EQ(json_of(c.Get("/api/v1/datasets/events?limit=1"))["events"].size(), 1u);
  EXPECT_EQ(json_of(c.Get("/api/v1/datasets/events?uri=s3://elsewhere"))["events"].size(), 0u);
  list = json_of(c.Get("/api/v1/datasets"));
  EXPECT_EQ(list["datasets"][0]["total_events"], 2);
  EXPECT_EQ(list["datasets"][0]["last_event_id"], event["id"]);
}

TEST(DatasetsApi, BadEventsAreRefusedWithNothingStored) {
  ServerHarness h({}, "127.0.0.1", kFiles);
  auto c = h.client();
  auto s = BrowserSession::open(c);
  const char* bad[] = {R"({})", R"({"uri": 3})", R"({"uri": "s3://a b"})", R"({"uri": ""})",
                       R"({"uri": "s3://lake/orders", "extra": [1]})", R"({"uri": "s3://a", "colour": "red"})", R"([1])"};
  for (const char* body : bad) {
    auto r = post(c, s, "/api/v1/datasets/events", body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << body;
    EXPECT_FALSE(json_of(r)["error"]["message"].get<std::string>().empty()) << body;
    EXPECT_FALSE(json_of(r)["error"]["hint"].get<std::string>().empty()) << body;
  }
  auto unknown = post(c, s, "/api/v1/datasets/events", R"({"uri": "s3://lake/ordres"})");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_NE(json_of(unknown)["error"]["hint"].get<std::string>().find("s3://lake/orders"), std::string::npos);
  EXPECT_EQ(c.Get("/api/v1/datasets/events?after_id=-1")->status, 400);
  // Without a session, or without its CSRF token, a browser cannot post one.
  auto anonymous = c.Post("/api/v1/datasets/events", R"({"uri": "s3://a"})", "application/json");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  auto forged = c.Post("/api/v1/datasets/events", {{"Cookie", s.cookie}}, R"({"uri": "s3://a"})", "application/json");
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 403);
  EXPECT_EQ(h.store().dataset_events("", 0, 10)->size(), 0u);
  EXPECT_EQ(c.Get("/api/v1/runs/nope/dataset_events")->status, 404);
}

}  // namespace
}  // namespace strata::server::testing

// The HTTP API against a real server, store, executor and scheduler: pipelines, runs, task
// instances, clear/mark/cancel, grid, metrics, connections, dbt graph, data preview and the UI.
#include <gtest/gtest.h>

#include "server_harness.h"

namespace strata::server::testing {
namespace {

TEST(ServerApi, HealthPipelinesAndGraph) {
  ServerHarness h;
  auto c = h.client();
  Json health = json_of(c.Get("/healthz"));
  ASSERT_TRUE(health.is_object());
  EXPECT_EQ(health["pipelines"], 4);
  EXPECT_TRUE(health["status"] == "ok");

  Json list = json_of(c.Get("/api/v1/pipelines"));
  ASSERT_EQ(list["pipelines"].size(), 4u);
  EXPECT_EQ(list["pipelines"][0]["name"], "broken");
  EXPECT_EQ(list["pipelines"][1]["name"], "demo");
  EXPECT_EQ(list["pipelines"][1]["paused"], false);
  EXPECT_TRUE(list["pipelines"][1]["schedule"].is_null());
  EXPECT_EQ(list["pipelines"][1]["params"]["greeting"], "hello");
  EXPECT_TRUE(list["pipelines"][1]["recent_runs"].empty());

  Json demo = json_of(c.Get("/api/v1/pipelines/demo"));
  ASSERT_EQ(demo["tasks"].size(), 3u);
  EXPECT_EQ(demo["tasks"][0]["id"], "extract");
  EXPECT_EQ(demo["tasks"][0]["group"], "load");
  EXPECT_EQ(demo["tasks"][2]["upstream"], Json::array({"stage"}));
  ASSERT_EQ(demo["groups"].size(), 1u);
  EXPECT_EQ(demo["groups"][0]["tasks"], Json::array({"extract", "stage"}));
  EXPECT_EQ(demo["edges"].size(), 2u);
  // The secret in a task's command is masked.
  EXPECT_EQ(demo.dump().find(kSecret), std::string::npos);

  auto missing = c.Get("/api/v1/pipelines/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(json_of(missing)["error"]["code"], "not_found");

  // JSON goes out uncompressed even to a browser that accepts Brotli (compressing at the library's
  // fixed highest quality cost more time than it saved), with its charset.
  auto plain = c.Get("/api/v1/pipelines", {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->get_header_value("Content-Encoding"), "");
  EXPECT_EQ(plain->get_header_value("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(json_of(plain)["pipelines"].size(), 4u);
}

TEST(ServerApi, TriggerValidatesParamsAndRunsToSuccess) {
  ServerHarness h;
  auto c = h.client();
  auto s = BrowserSession::open(c);
  ASSERT_FALSE(s.csrf.empty());

  auto bad = post(c, s, "/api/v1/pipelines/demo/runs", R"({"params": {"nope": 1}})");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(json_of(bad)["error"]["message"].get<std::string>().find("nope"), std::string::npos);
  bad = post(c, s, "/api/v1/pipelines/demo/runs", R"({"params": {"count": "three"}})");
  EXPECT_EQ(bad->status, 400);
  bad = post(c, s, "/api/v1/pipelines/demo/runs", R"({"params": [1]})");
  EXPECT_EQ(bad->status, 400);
  bad = post(c, s, "/api/v1/pipelines/demo/runs", R"({"params": {)");
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json_of(bad)["error"]["code"], "bad_request");
  bad = post(c, s, "/api/v1/pipelines/demo/runs", R"([1, 2])");
  EXPECT_EQ(bad->status, 400);
  bad = post(c, s, "/api/v1/pipelines/ghost/runs", "{}");
  EXPECT_EQ(bad->status, 404);

  const std::string run_id = trigger(c, s, "demo", R"({"params": {"greeting": "bonjour", "count": 2}})");
  ASSERT_FALSE(run_id.empty());
  ASSERT_TRUE(wait_finished(c, run_id));
  Json run = json_of(c.Get(("/api/v1/runs/" + run_id).c_str()));
  EXPECT_EQ(run["run"]["state"], "success");
  EXPECT_EQ(run["run"]["params"]["greeting"], "bonjour");
  EXPECT_EQ(run["task_counts"]["success"], 3);

  Json tasks = json_of(c.Get(("/api/v1/runs/" + run_id + "/tasks").c_str()));
  ASSERT_EQ(tasks["task_instances"].size(), 3u);
  for (const auto& ti : tasks["task_instances"]) {
    EXPECT_EQ(ti["state"], "success");
    EXPECT_EQ(ti["try_number"], 1);
    EXPECT_TRUE(ti["duration_seconds"].is_number());
  }
  Json detail = json_of(c.Get(("/api/v1/runs/" + run_id + "/tasks/extract").c_str()));
  ASSERT_EQ(detail["attempts"].size(), 1u);
  EXPECT_EQ(detail["attempts"][0]["exit_code"], 0);
  EXPECT_GT(detail["attempts"][0]["log_size"].get<int64_t>(), 0);
  EXPECT_EQ(c.Get(("/api/v1/runs/" + run_id + "/tasks/ghost").c_str())->status, 404);
  EXPECT_EQ(c.Get("/api/v1/runs/manual__1999-01-01T00:00:00Z")->status, 404);
  EXPECT_EQ(c.Get("/api/v1/runs/manual__1999-01-01T00:00:00Z/tasks")->status, 404);

  // Lists, filters and paging.
  const std::string second = trigger(c, s, "demo");
  ASSERT_FALSE(second.empty());
  ASSERT_TRUE(wait_finished(c, second));
  Json page = json_of(c.Get("/api/v1/pipelines/demo/runs?limit=1"));
  EXPECT_EQ(page["total"], 2);
  ASSERT_EQ(page["runs"].size(), 1u);
  EXPECT_EQ(page["runs"][0]["run_id"], second);
  page = json_of(c.Get("/api/v1/pipelines/demo/runs?limit=1&offset=1"));
  EXPECT_EQ(page["runs"][0]["run_id"], run_id);
  EXPECT_EQ(json_of(c.Get("/api/v1/runs?state=failed"))["total"], 0);
  EXPECT_EQ(json_of(c.Get("/api/v1/runs?pipeline=demo&type=manual"))["total"], 2);
  EXPECT_EQ(json_of(c.Get("/api/v1/runs?to=2000-01-01T00:00:00Z"))["total"], 0);
  EXPECT_EQ(c.Get("/api/v1/runs?state=bogus")->status, 400);
  EXPECT_EQ(c.Get("/api/v1/runs?limit=0")->status, 400);
  EXPECT_EQ(c.Get("/api/v1/runs?limit=abc")->status, 400);
  EXPECT_EQ(c.Get("/api/v1/runs?from=yesterday")->status, 400);

  Json grid = json_of(c.Get("/api/v1/pipelines/demo/grid?limit=10"));
  ASSERT_EQ(grid["tasks"].size(), 3u);
  ASSERT_EQ(grid["runs"].size(), 2u);
  EXPECT_EQ(grid["runs"][0]["task_instances"][2]["state"], "success");

  Json pipelines = json_of(c.Get("/api/v1/pipelines"));
  EXPECT_EQ(pipelines["pipelines"][1]["recent_runs"].size(), 2u);

  std::string metrics = c.Get("/metrics")->body;
  EXPECT_NE(metrics.find("strata_runs{pipeline=\"demo\",state=\"success\"} 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("strata_task_instances{pipeline=\"demo\",state=\"success\"} 6"), std::string::npos);
  EXPECT_NE(metrics.find("strata_task_duration_seconds_count{pipeline=\"demo\"} 6"), std::string::npos);
  EXPECT_NE(metrics.find("strata_scheduler_heartbeat_age_seconds "), std::string::npos);
}

TEST(ServerApi, MarkClearCancelAndPause) {
  ServerHarness h;
  auto c = h.client();
  auto s = BrowserSession::open(c);
  const std::string run_id = trigger(c, s, "broken");
  ASSERT_TRUE(wait_finished(c, run_id));
  EXPECT_EQ(run_state(c, run_id), "failed");
  Json tasks = json_of(c.Get(("/api/v1/runs/" + run_id + "/tasks").c_str()));
  EXPECT_EQ(tasks["task_instances"][1]["state"], "failed");
  EXPECT_EQ(tasks["task_instances"][2]["state"], "upstream_failed");

  // Mark the failed task and its downstream success: the run becomes a success.
  auto r = post(c, s, "/api/v1/runs/" + run_id + "/tasks/boom/mark", R"({"state": "success", "downstream": true})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json_of(r)["marked"], Json::array({"boom", "after"}));
  EXPECT_EQ(run_state(c, run_id), "success");
  EXPECT_EQ(post(c, s, "/api/v1/runs/" + run_id + "/tasks/boom/mark", R"({"state": "running"})")->status, 400);
  EXPECT_EQ(post(c, s, "/api/v1/runs/" + run_id + "/tasks/boom/mark", R"({"state": "failed", "downstream": 1})")
                ->status,
            400);

  // Clear with downstream: the run is re-queued and runs boom again (try 2), failing again.
  r = post(c, s, "/api/v1/runs/" + run_id + "/tasks/boom/clear", R"({"downstream": true})");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json_of(r)["cleared"], Json::array({"boom", "after"}));
  ASSERT_TRUE(eventually([&] {
    Json t = json_of(c.Get(("/api/v1/runs/" + run_id + "/tasks/boom").c_str()));
    return t.is_object() && t["task_instance"]["try_number"] == 2 && run_state(c, run_id) == "failed";
  }));
  Json boom = json_of(c.Get(("/api/v1/runs/" + run_id + "/tasks/boom").c_str()));
  EXPECT_EQ(boom["attempts"].size(), 2u);
  EXPECT_EQ(boom["task_instance"]["state"], "failed");
  EXPECT_EQ(post(c, s, "/api/v1/runs/" + run_id + "/tasks/ghost/clear")->status, 404);

  // Cancel: a finished run is a conflict; a queued run (paused pipeline) becomes failed.
  EXPECT_EQ(post(c, s, "/api/v1/runs/" + run_id + "/cancel")->status, 409);
  r = post(c, s, "/api/v1/pipelines/demo/pause");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(json_of(r)["paused"], true);
  EXPECT_EQ(json_of(c.Get("/api/v1/pipelines/demo"))["paused"], true);
  const std::string queued = trigger(c, s, "demo");
  ASSERT_FALSE(queued.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(run_state(c, queued), "queued");
  r = post(c, s, "/api/v1/runs/" + queued + "/cancel");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json_of(r)["run"]["state"], "failed");
  EXPECT_EQ(json_of(r)["run"]["note"], "the run was cancelled through the API before it started");
  EXPECT_EQ(post(c, s, "/api/v1/runs/nope/cancel")->status, 404);
  EXPECT_EQ(json_of(post(c, s, "/api/v1/pipelines/demo/unpause"))["paused"], false);
  EXPECT_EQ(post(c, s, "/api/v1/pipelines/ghost/pause")->status, 404);
}

TEST(ServerApi, CancelOfARunningRunStopsItsTasksWithoutRetry) {
  ServerHarness h;
  auto c = h.client();
  auto s = BrowserSession::open(c);
  const std::string run_id = trigger(c, s, "long");
  ASSERT_FALSE(run_id.empty());
  const std::string sleeper = "/api/v1/runs/" + run_id + "/tasks/sleeper";
  ASSERT_TRUE(eventually([&] {
    Json t = json_of(c.Get(sleeper.c_str()));
    return t.is_object() && t["task_instance"]["state"] == "running";
  }));
  const auto started = std::chrono::steady_clock::now();
  auto r = post(c, s, "/api/v1/runs/" + run_id + "/cancel");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
  EXPECT_EQ(json_of(r)["run"]["state"], "failed");
  EXPECT_EQ(json_of(r)["run"]["note"], "the run was cancelled through the API");
  Json t = json_of(c.Get(sleeper.c_str()));
  EXPECT_EQ(t["task_instance"]["state"], "failed") << t.dump();
  EXPECT_EQ(t["attempts"].size(), 1u) << "a cancelled attempt is not retried";
  EXPECT_EQ(json_of(c.Get(("/api/v1/runs/" + run_id + "/tasks/after").c_str()))["task_instance"]["state"], "skipped");
  EXPECT_EQ(post(c, s, "/api/v1/runs/" + run_id + "/cancel")->status, 409);
}

TEST(ServerApi, ConnectionsAndSyncHistory) {
  ServerHarness h;
  std::filesystem::create_directories(h.file("connections"));
  ASSERT_TRUE(write_file_atomic(h.file("connections/erp.yml"), std::string(R"(
source:
  type: postgres
  host: db.example
  port: 5433
  database: erp
  user: loader
  password: ")") + kSecret + R"("
destination:
  schema: bronze
streams:
  - name: public.orders
    sync_mode: incremental_dedup
    cursor_field: updated_at
    primary_key: [id]
)"));
  Json report1 = {{"status", "success"}, {"streams", {{{"stream", "public.orders"}, {"status", "success"},
                                                       {"rows", 10}, {"bytes", 800}, {"seconds", 0.5},
                                                       {"cursor_after", "2026-01-01"}, {"error", nullptr}}}}};
  Json report2 = {{"status", "failed"}, {"streams", {{{"stream", "public.orders"}, {"status", "failed"},
                                                      {"rows", 0}, {"bytes", 0}, {"seconds", 0.1},
                                                      {"error", std::string("auth failed for ") + kSecret}}}}};
  ASSERT_TRUE(h.store().add_sync_report({"r1", "sync_erp", "erp", report1.dump(), 1'000'000}).ok());
  ASSERT_TRUE(h.store().add_sync_report({"r2", "sync_erp", "erp", report2.dump(), 2'000'000}).ok());
  auto c = h.client();
  auto list = c.Get("/api/v1/connections");
  ASSERT_EQ(list->status, 200) << list->body;
  EXPECT_EQ(list->body.find(kSecret), std::string::npos);
  EXPECT_EQ(list->body.find("loader"), std::string::npos);
  Json j = json_of(list);
  ASSERT_EQ(j["connections"].size(), 1u);
  EXPECT_EQ(j["connections"][0]["source"]["host"], "db.example");
  EXPECT_EQ(j["connections"][0]["streams"][0]["name"], "public.orders");
  EXPECT_EQ(j["connections"][0]["last_sync"]["status"], "failed");
  // The password written in the file is a warning that names where, never what.
  ASSERT_EQ(j["connections"][0]["warnings"].size(), 1u) << j.dump();
  EXPECT_EQ(j["connections"][0]["warnings"][0].get<std::string>().rfind(
                "connections/erp.yml:8:13: warning: the source password is written", 0),
            0u)
      << j.dump();

  auto syncs = c.Get("/api/v1/connections/erp/syncs");
  EXPECT_EQ(syncs->body.find(kSecret), std::string::npos);
  Json sj = json_of(syncs);
  ASSERT_EQ(sj["syncs"].size(), 2u);
  EXPECT_EQ(sj["syncs"][0]["run_id"], "r2");
  EXPECT_EQ(sj["syncs"][1]["streams"][0]["rows"], 10);

  Json hist = json_of(c.Get("/api/v1/connections/erp/streams/public.orders/history"));
  ASSERT_EQ(hist["points"].size(), 2u);
  EXPECT_EQ(hist["points"][0]["rows"], 10);
  EXPECT_EQ(hist["points"][0]["cursor"], "2026-01-01");
  EXPECT_EQ(hist["points"][1]["status"], "failed");
  EXPECT_EQ(c.Get("/api/v1/connections/nope/syncs")->status, 404);
  EXPECT_EQ(c.Get("/api/v1/connections/erp/streams/public.nope/history")->status, 404);
  EXPECT_EQ(j["connections"][0]["all_tables"], false);
  EXPECT_NE(c.Get("/metrics")->body.find("strata_rows_synced_total{connection=\"erp\",stream=\"public.orders\"} 10"),
            std::string::npos);
}

// A connection without `streams:` syncs every table: the API marks it `all_tables` and lists the
// streams its sync history names (latest mode first), without asking the source. Unknown streams
// give 404; /syncs carries the report's sync_id, schema_changes and warnings.
TEST(ServerApi, ConnectionWithoutStreamsListsItsSyncedStreams) {
  ServerHarness h;
  std::filesystem::create_directories(h.file("connections"));
  ASSERT_TRUE(write_file_atomic(h.file("connections/crm.yml"), R"(
source:
  type: postgres
  host: db.example
  port: 5433
  database: crm
  user: loader
  schemas: [public]
destination:
  schema: bronze
)"));
  auto stream = [](const std::string& name, const std::string& mode) {
    return Json{{"stream", name}, {"mode", mode}, {"status", "success"}, {"rows", 5}, {"bytes", 50},
                {"seconds", 0.1}, {"error", nullptr}};
  };
  Json first = {{"sync_id", "s-1"}, {"status", "success"},
                {"streams", {stream("public.accounts", "full_refresh_overwrite"), stream("public.leads", "incremental_append")}}};
  Json second = {{"sync_id", "s-2"}, {"status", "success"}, {"streams", {stream("public.accounts", "incremental_dedup")}}};
  second["streams"][0]["schema_changes"] = {"added column public.accounts.tier (VARCHAR)"};
  second["streams"][0]["warnings"] = {std::string("password ") + kSecret + " rotated"};
  ASSERT_TRUE(h.store().add_sync_report({"", "cli", "crm", first.dump(), 1'000'000}).ok());
  ASSERT_TRUE(h.store().add_sync_report({"", "cli", "crm", second.dump(), 2'000'000}).ok());
  auto c = h.client();
  Json j = json_of(c.Get("/api/v1/connections"));
  ASSERT_EQ(j["connections"].size(), 1u) << j.dump();
  const Json& crm = j["connections"][0];
  EXPECT_EQ(crm["all_tables"], true) << crm.dump();
  ASSERT_EQ(crm["streams"].size(), 2u) << crm.dump();
  EXPECT_EQ(crm["streams"][0]["name"], "public.accounts");
  EXPECT_EQ(crm["streams"][0]["mode"], "incremental_dedup") << "the latest report's mode";
  EXPECT_EQ(crm["streams"][1]["name"], "public.leads");

  Json hist = json_of(c.Get("/api/v1/connections/crm/streams/public.leads/history"));
  ASSERT_EQ(hist["points"].size(), 1u) << hist.dump();
  auto missing = c.Get("/api/v1/connections/crm/streams/public.nope/history");
  EXPECT_EQ(missing->status, 404) << missing->body;
  EXPECT_EQ(json_of(missing)["error"]["code"], "not_found");

  auto syncs = c.Get("/api/v1/connections/crm/syncs");
  EXPECT_EQ(syncs->body.find(kSecret), std::string::npos);
  Json sj = json_of(syncs);
  ASSERT_EQ(sj["syncs"].size(), 2u) << sj.dump();
  EXPECT_EQ(sj["syncs"][0]["sync_id"], "s-2");
  EXPECT_EQ(sj["syncs"][0]["streams"][0]["schema_changes"][0], "added column public.accounts.tier (VARCHAR)");
  ASSERT_EQ(sj["syncs"][0]["streams"][0]["warnings"].size(), 1u);
  EXPECT_EQ(sj["syncs"][1]["streams"][0]["warnings"], Json::array());
}

TEST(ServerApi, DbtGraphNodesAndTests) {
  ServerHarness h;
  auto c = h.client();
  EXPECT_EQ(c.Get("/api/v1/dbt/graph")->status, 404);
  Json manifest = {
      {"nodes",
       {{"model.shop.orders",
         {{"resource_type", "model"}, {"name", "orders"}, {"schema", "silver"}, {"alias", "orders"},
          {"original_file_path", "models/silver/orders.sql"}, {"raw_code", "select * from {{ source('erp','orders') }}"},
          {"compiled_code", "select * from bronze.orders"}, {"config", {{"materialized", "table"}}},
          {"columns", {{"id", {{"name", "id"}, {"description", "key"}, {"data_type", "integer"}}}}},
          {"depends_on", {{"nodes", {"source.shop.erp.orders"}}}}}},
        {"test.shop.not_null_orders_id",
         {{"resource_type", "test"}, {"name", "not_null_orders_id"}, {"attached_node", "model.shop.orders"},
          {"depends_on", {{"nodes", {"model.shop.orders"}}}}}}}},
      {"sources",
       {{"source.shop.erp.orders",
         {{"resource_type", "source"}, {"name", "orders"}, {"schema", "bronze"}, {"identifier", "orders"}}}}}};
  std::filesystem::create_directories(h.file("target"));
  ASSERT_TRUE(write_file_atomic(h.file("target/manifest.json"), manifest.dump()));
  ASSERT_TRUE(h.store().add_test_result({"r1", "test_orders", "test.shop.not_null_orders_id", "pass", "", 0, 1'000'000}).ok());
  ASSERT_TRUE(h.store().add_test_result({"r2", "test_orders", "test.shop.not_null_orders_id", "fail", "3 nulls", 3, 2'000'000}).ok());

  Json g = json_of(c.Get("/api/v1/dbt/graph"));
  ASSERT_EQ(g["nodes"].size(), 3u);
  bool saw_model = false;
  for (const auto& n : g["nodes"])
    if (n["unique_id"] == "model.shop.orders") {
      saw_model = true;
      EXPECT_EQ(n["layer"], "silver");
      EXPECT_EQ(n["test_status"], "fail");
    } else if (n["unique_id"] == "source.shop.erp.orders") {
      EXPECT_EQ(n["layer"], "bronze");
    }
  EXPECT_TRUE(saw_model);
  EXPECT_NE(g["edges"].dump().find("source.shop.erp.orders"), std::string::npos);

  Json node = json_of(c.Get("/api/v1/dbt/nodes/model.shop.orders"));
  EXPECT_EQ(node["compiled_code"], "select * from bronze.orders");
  EXPECT_EQ(node["columns"][0]["name"], "id");
  ASSERT_EQ(node["tests"].size(), 1u);
  EXPECT_EQ(node["tests"][0]["latest"]["status"], "fail");
  EXPECT_EQ(node["tests"][0]["latest"]["failures"], 3);
  EXPECT_EQ(c.Get("/api/v1/dbt/nodes/model.shop.nope")->status, 404);

  Json tests = json_of(c.Get("/api/v1/dbt/tests"));
  ASSERT_EQ(tests["runs"].size(), 2u);
  ASSERT_EQ(tests["tests"].size(), 1u);
  EXPECT_EQ(tests["tests"][0]["model"], "model.shop.orders");
  EXPECT_EQ(tests["tests"][0]["results"][0]["status"], "pass");
  EXPECT_EQ(tests["tests"][0]["results"][1]["status"], "fail");
}

TEST(ServerApi, DataPreviewValidatesIdentifiers) {
  ServerHarness h;
  {
    auto wh = std::move(h.warehouse().connect()).value();
    ASSERT_TRUE(wh->execute("CREATE SCHEMA silver; CREATE TABLE silver.orders AS SELECT range AS id, "
                            "'item ' || range AS name FROM range(150); CREATE TABLE silver.\"odd name\" (x INTEGER);"
                            "INSERT INTO silver.\"odd name\" VALUES (NULL)")
                    .ok());
  }
  auto c = h.client();
  Json rel = json_of(c.Get("/api/v1/relations/silver"));
  ASSERT_EQ(rel["relations"].size(), 2u);
  Json p = json_of(c.Get("/api/v1/relations/silver/orders/preview"));
  EXPECT_EQ(p["row_count"], 100);
  EXPECT_EQ(p["columns"][0]["name"], "id");
  EXPECT_EQ(p["rows"][0][1], "item 0");
  p = json_of(c.Get("/api/v1/relations/silver/orders/preview?limit=5"));
  EXPECT_EQ(p["rows"].size(), 5u);
  p = json_of(c.Get("/api/v1/relations/silver/odd%20name/preview"));
  EXPECT_TRUE(p["rows"][0][0].is_null());
  EXPECT_EQ(c.Get("/api/v1/relations/silver/orders/preview?limit=101")->status, 400);
  EXPECT_EQ(c.Get("/api/v1/relations/silver/nope/preview")->status, 404);
  EXPECT_EQ(c.Get("/api/v1/relations/silver/orders%3B%20DROP%20TABLE%20silver.orders/preview")->status, 404);
  EXPECT_EQ(c.Get("/api/v1/relations/nope")->status, 404);
  EXPECT_EQ(json_of(c.Get("/api/v1/relations/silver/orders/preview?limit=1"))["row_count"], 1);
}

// Run ids are unique per pipeline: /runs/{id} takes ?pipeline=NAME, and without it an id that two
// pipelines share is a 409 naming them, never the wrong run.
TEST(ServerApi, RunIdSharedByTwoPipelinesIsAddressedWithPipeline) {
  ServerHarness h;
  auto c = h.client();
  const std::string id = "backfill__2026-01-01T00:00:00Z";
  for (const char* pipeline : {"demo", "broken"}) {
    orchestrate::RunRecord run;
    run.run_id = id;
    run.pipeline = pipeline;
    run.type = orchestrate::RunType::kBackfill;
    run.logical_date = run.interval_start = 1767225600LL * 1000000;
    run.interval_end = run.interval_start + 3600'000'000LL;
    run.queued_at = 1;
    ASSERT_TRUE(h.store().create_run(run).ok()) << pipeline;
  }
  h.runtime().scheduler().notify();
  ASSERT_TRUE(wait_finished(c, id + "?pipeline=demo"));
  ASSERT_TRUE(wait_finished(c, id + "?pipeline=broken"));
  EXPECT_EQ(run_state(c, id + "?pipeline=demo"), "success");
  EXPECT_EQ(run_state(c, id + "?pipeline=broken"), "failed");

  auto ambiguous = c.Get(("/api/v1/runs/" + id).c_str());
  ASSERT_EQ(ambiguous->status, 409);
  const std::string message = json_of(ambiguous)["error"]["message"];
  EXPECT_NE(message.find("'broken', 'demo'"), std::string::npos) << message;
  EXPECT_EQ(c.Get(("/api/v1/runs/" + id + "/tasks").c_str())->status, 409);
  EXPECT_EQ(c.Get(("/api/v1/runs/" + id + "?pipeline=slow").c_str())->status, 404);

  Json boom = json_of(c.Get(("/api/v1/runs/" + id + "/tasks/boom?pipeline=broken").c_str()));
  EXPECT_EQ(boom["task_instance"]["state"], "failed");
  EXPECT_EQ(c.Get(("/api/v1/runs/" + id + "/tasks/boom?pipeline=demo").c_str())->status, 404);  // demo has no boom
  Json log = json_of(c.Get(("/api/v1/runs/" + id + "/tasks/extract/logs/1?pipeline=demo").c_str()));
  EXPECT_NE(log["content"].get<std::string>().find("extracting"), std::string::npos) << log.dump();
  Json grid = json_of(c.Get("/api/v1/pipelines/demo/grid"));
  EXPECT_EQ(grid["runs"][0]["task_instances"][0]["state"], "success") << grid.dump();

  // Clearing the broken run's task leaves the demo run alone.
  auto session = BrowserSession::open(c);
  auto cleared = post(c, session, "/api/v1/runs/" + id + "/tasks/boom/clear?pipeline=broken");
  ASSERT_EQ(cleared->status, 200) << cleared->body;
  EXPECT_EQ(json_of(cleared)["run"]["pipeline"], "broken");
  EXPECT_EQ(run_state(c, id + "?pipeline=demo"), "success");
  EXPECT_EQ(post(c, session, "/api/v1/runs/" + id + "/cancel")->status, 409);  // ambiguous
}

// Clearing a task whose tries are used up gives it its retries again (Airflow: max_tries =
// try_number + retries): the next failure is retried, and the log counts against the new limit.
TEST(ServerApi, ClearGivesTheTaskItsRetriesAgain) {
  ServerHarness h({}, "127.0.0.1", {{"pipelines/flaky.yml", "tasks:\n  - {id: fail, shell: \"exit 1\", retries: 1, retry_delay: 0}\n"}});
  auto c = h.client();
  auto s = BrowserSession::open(c);
  const std::string run_id = trigger(c, s, "flaky");
  ASSERT_FALSE(run_id.empty());
  ASSERT_TRUE(wait_finished(c, run_id));
  const std::string task = "/api/v1/runs/" + run_id + "/tasks/fail";
  Json before = json_of(c.Get(task.c_str()))["task_instance"];
  EXPECT_EQ(before["try_number"], 2);
  EXPECT_EQ(before["max_tries"], 2);
  auto cleared = post(c, s, task + "/clear");
  ASSERT_EQ(cleared->status, 200) << cleared->body;
  ASSERT_TRUE(wait_finished(c, run_id));
  EXPECT_EQ(run_state(c, run_id), "failed");
  Json after = json_of(c.Get(task.c_str()));
  EXPECT_EQ(after["task_instance"]["try_number"], 4) << after.dump();
  EXPECT_EQ(after["task_instance"]["max_tries"], 4);
  ASSERT_EQ(after["attempts"].size(), 4u);
  EXPECT_EQ(after["attempts"][2]["state"], "failed");
  Json log = json_of(c.Get((task + "/logs/3").c_str()));
  const std::string text = log["content"];
  EXPECT_NE(text.find("try 3 of 4"), std::string::npos) << text;
  EXPECT_NE(text.find("retry at"), std::string::npos) << text;
}

// The connections' passwords are secrets from the start: before any sync task or connections
// request loads a connection file, a shell task echoing one logs it masked and the pipeline API
// shows a command rendered from it masked. Also for a connection file that fails to load.
TEST(ServerApi, ConnectionPasswordsAreMaskedBeforeAnySync) {
  const std::string erp = "erp-Pa55-value-42", broken = "brk-Pa55-value-77";
  ::setenv("STRATA_TEST_ERP_PASS", erp.c_str(), 1);
  ::setenv("STRATA_TEST_BROKEN_PASS", broken.c_str(), 1);
  const std::string source = "source:\n  type: postgres\n  host: 127.0.0.1\n  port: 1\n  user: u\n";
  ServerHarness h({}, "127.0.0.1",
                  {{"connections/erp.yml", source + "  database: erp\n  password: \"{{ env_var('STRATA_TEST_ERP_PASS') }}\"\n"
                                           "destination:\n  schema: bronze\n  duckdb_path: w.duckdb\n"},
                   {"connections/broken.yml", source + "  password: \"{{ env_var('STRATA_TEST_BROKEN_PASS') }}\"\n"},
                   {"pipelines/leak.yml", "tasks:\n"
                                          "  - {id: echo, shell: \"echo pw=$STRATA_TEST_ERP_PASS other=$STRATA_TEST_BROKEN_PASS\"}\n"
                                          "  - {id: rendered, shell: \"echo {{ env_var('STRATA_TEST_ERP_PASS') }}\"}\n"}});
  auto c = h.client();
  auto detail = c.Get("/api/v1/pipelines/leak");
  ASSERT_EQ(detail->status, 200);
  EXPECT_EQ(detail->body.find(erp), std::string::npos) << detail->body;
  EXPECT_NE(detail->body.find("echo ****"), std::string::npos) << detail->body;
  auto s = BrowserSession::open(c);
  const std::string run_id = trigger(c, s, "leak");
  ASSERT_FALSE(run_id.empty());
  ASSERT_TRUE(wait_finished(c, run_id));
  EXPECT_EQ(run_state(c, run_id), "success");
  for (const char* task : {"echo", "rendered"}) {
    auto attempts = h.store().attempts("leak", run_id, task);
    ASSERT_EQ(attempts->size(), 1u) << task;
    std::string on_disk;
    ASSERT_TRUE(read_file((*attempts)[0].log_path, on_disk));
    EXPECT_EQ(on_disk.find(erp), std::string::npos) << on_disk;
    EXPECT_EQ(on_disk.find(broken), std::string::npos) << on_disk;
  }
  std::string echo;
  ASSERT_TRUE(read_file((*h.store().attempts("leak", run_id, "echo"))[0].log_path, echo));
  EXPECT_NE(echo.find("pw=**** other=****"), std::string::npos) << echo;
  ::unsetenv("STRATA_TEST_ERP_PASS");
  ::unsetenv("STRATA_TEST_BROKEN_PASS");
}

TEST(ServerApi, ServesTheUiWithSpaFallback) {
  ServerHarness h;
  auto c = h.client();
  auto root = c.Get("/");
  ASSERT_EQ(root->status, 200);
  EXPECT_NE(root->get_header_value("Content-Type").find("text/html"), std::string::npos);
  auto deep = c.Get("/pipelines/demo/grid");
  ASSERT_EQ(deep->status, 200);
  EXPECT_EQ(deep->body, root->body);
  auto api404 = c.Get("/api/v1/nothing/here");
  ASSERT_EQ(api404->status, 404);
  EXPECT_EQ(json_of(api404)["error"]["code"], "not_found");
}

}  // namespace
}  // namespace strata::server::testing

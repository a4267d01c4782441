// Security of the API (auth off and on, CSRF, origin, traversal, huge bodies) and attempt logs
// (full, tail, download, masked secrets, live SSE streaming) against a real server.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server_harness.h"

namespace strata::server::testing {
namespace {

TEST(ServerSecurity, LoopbackWithoutTokenNeedsSessionAndCsrfForChanges) {
  ServerHarness h;
  auto c = h.client();
  EXPECT_EQ(c.Get("/api/v1/pipelines")->status, 200);
  auto r = c.Post("/api/v1/pipelines/demo/pause", "{}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(json_of(r)["error"]["code"], "unauthorized");
  auto s = BrowserSession::open(c);
  ASSERT_FALSE(s.cookie.empty());
  r = c.Post("/api/v1/pipelines/demo/pause", {{"Cookie", s.cookie}}, "{}", "application/json");
  EXPECT_EQ(r->status, 403);
  r = c.Post("/api/v1/pipelines/demo/pause", {{"Cookie", s.cookie}, {"X-CSRF-Token", "wrong"}}, "{}",
             "application/json");
  EXPECT_EQ(r->status, 403);
  r = c.Post("/api/v1/pipelines/demo/pause",
             {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf}, {"Origin", "http://evil.example"}}, "{}",
             "application/json");
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(json_of(c.Get("/api/v1/pipelines/demo"))["paused"], false);
  r = post(c, s, "/api/v1/pipelines/demo/pause");
  EXPECT_EQ(r->status, 200);
  // A bearer token is refused when the server has none.
  r = c.Get("/api/v1/pipelines", {{"Authorization", "Bearer guess"}});
  EXPECT_EQ(r->status, 401);
  // A forged session cookie is no session.
  r = c.Post("/api/v1/pipelines/demo/pause", {{"Cookie", "strata_session=forged"}, {"X-CSRF-Token", s.csrf}}, "{}",
             "application/json");
  EXPECT_EQ(r->status, 401);
}

// Sends raw HTTP/1.1 text on a new connection and returns the first response (head and body, per
// its Content-Length), or what came before `timeout_ms` passed.
std::string raw_exchange(int port, const std::string& request, int timeout_ms) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)!::write(fd, request.data(), request.size());
  std::string in;
  char buf[4096];
  for (;;) {
    const size_t head_end = in.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      const size_t at = in.find("Content-Length: ");
      const size_t length = at == std::string::npos ? 0 : std::stoul(in.substr(at + 16));
      if (in.size() >= head_end + 4 + length) break;
    }
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return in;
}

// The documented body-less POSTs work as `curl -X POST` sends them: no body and no Content-Length
// (the body length is then zero, RFC 9112), answered at once rather than after a read timeout.
TEST(ServerSecurity, PostWithoutBodyOrContentLength) {
  ServerHarness h;
  auto c = h.client();
  auto s = BrowserSession::open(c);
  ASSERT_FALSE(s.cookie.empty());
  for (const char* action : {"pause", "unpause"}) {
    const std::string request = std::string("POST /api/v1/pipelines/demo/") + action +
                                " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(h.server().port()) +
                                "\r\nCookie: " + s.cookie + "\r\nX-CSRF-Token: " + s.csrf +
                                "\r\nAccept: */*\r\n\r\n";
    const auto start = std::chrono::steady_clock::now();
    const std::string response = raw_exchange(h.server().port(), request, 4000);
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << action << ": " << response;
    EXPECT_LT(ms, 2000) << action;
    EXPECT_EQ(json_of(c.Get("/api/v1/pipelines/demo"))["paused"], std::string(action) == "pause") << action;
  }
}

TEST(ServerSecurity, TokenProtectsReadsAndChanges) {
  AuthConfig auth;
  auth.token = "tok-0123456789abcdef";
  auth.protect_reads = true;  // as off loopback
  ServerHarness h(auth);
  auto c = h.client();
  EXPECT_EQ(c.Get("/api/v1/pipelines")->status, 401);
  EXPECT_EQ(c.Get("/metrics")->status, 401);
  EXPECT_EQ(c.Get("/api/v1/session")->status, 401);
  EXPECT_EQ(c.Get("/healthz")->status, 200);
  EXPECT_EQ(c.Get("/api/v1/pipelines", {{"Authorization", "Bearer wrong-token-000000000"}})->status, 401);
  httplib::Headers bearer = {{"Authorization", "Bearer tok-0123456789abcdef"}};
  EXPECT_EQ(c.Get("/api/v1/pipelines", bearer)->status, 200);
  auto r = c.Post("/api/v1/pipelines/demo/runs", bearer, "{}", "application/json");
  ASSERT_EQ(r->status, 201) << r->body;

  // Browser login: the token once, then the session cookie (+ CSRF for changes).
  EXPECT_EQ(c.Post("/api/v1/session", R"({"token": "nope"})", "application/json")->status, 401);
  auto login = c.Post("/api/v1/session", R"({"token": "tok-0123456789abcdef"})", "application/json");
  ASSERT_EQ(login->status, 200);
  BrowserSession s;
  s.cookie = login->get_header_value("Set-Cookie").substr(0, login->get_header_value("Set-Cookie").find(';'));
  s.csrf = json_of(login)["csrf_token"];
  EXPECT_EQ(c.Get("/api/v1/pipelines", {{"Cookie", s.cookie}})->status, 200);
  EXPECT_EQ(post(c, s, "/api/v1/pipelines/demo/pause")->status, 200);
  // The token never appears in responses.
  EXPECT_EQ(c.Get("/api/v1/pipelines/demo", bearer)->body.find("tok-0123456789abcdef"), std::string::npos);
}

TEST(ServerSecurity, NonLoopbackBindNeedsAToken) {
  ServerContext ctx;
  orchestrate::SystemClock clock;
  strata::testing::TempDir dir;
  auto store = std::move(orchestrate::SqliteStore::open(dir.file("s.db"))).value();
  ctx.store = store.get();
  ctx.store_path = dir.file("s.db");
  ctx.clock = &clock;
  ServerOptions options;
  options.host = "0.0.0.0";
  options.port = 0;
  auto refused = Server::start(ctx, options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kUsage);
  options.auth.token = generate_token();
  EXPECT_EQ(options.auth.token.size(), 32u);
  auto started = Server::start(ctx, options);
  ASSERT_TRUE(started.ok()) << started.error().to_string();
  httplib::Client c("127.0.0.1", (*started)->port());
  EXPECT_EQ(c.Get("/api/v1/pipelines")->status, 401);  // reads are protected off loopback
  EXPECT_EQ(c.Get("/api/v1/pipelines", {{"Authorization", "Bearer " + options.auth.token}})->status, 200);
  (*started)->stop();
}

TEST(ServerSecurity, TraversalHugeBodiesAndUnknownPaths) {
  ServerHarness h;
  auto c = h.client();
  auto s = BrowserSession::open(c);
  for (const char* path : {"/../../etc/passwd", "/assets/..%2f..%2fetc%2fpasswd", "/api/v1/runs/..%2F..%2Fetc/tasks",
                           "/%2e%2e/%2e%2e/etc/passwd", "/api/v1/pipelines/..", "/a%5C..%5Cb"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 400) << path << " " << r->body;
    EXPECT_EQ(r->body.find("root:"), std::string::npos);
  }
  // Logs cannot be reached through a crafted try number or task id.
  EXPECT_EQ(c.Get("/api/v1/runs/x/tasks/y/logs/..%2f..%2f..%2fetc%2fpasswd")->status, 400);
  EXPECT_EQ(c.Get("/api/v1/runs/x/tasks/y/logs/1")->status, 404);

  const std::string huge(2u << 20, 'x');
  auto r = c.Post("/api/v1/pipelines/demo/runs", s.headers(), "{\"params\": \"" + huge + "\"}", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(json_of(r)["error"]["code"], "payload_too_large");
  r = c.Post("/api/v1/nowhere", s.headers(), "{}", "application/json");
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(json_of(r)["error"].is_object());
  r = c.Post("/api/v1/pipelines/demo/runs", s.headers(), "{\"params\": {\"greeting\": \"\\ud800\"", "application/json");
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body.find("what()"), std::string::npos);
}

TEST(ServerLogs, FullTailDownloadAndMaskedSecrets) {
  ServerHarness h;
  auto c = h.client();
  auto s = BrowserSession::open(c);
  const std::string run_id = trigger(c, s, "demo");
  ASSERT_TRUE(wait_finished(c, run_id));
  const std::string base = "/api/v1/runs/" + run_id + "/tasks/extract/logs/1";
  auto full = c.Get(base.c_str());
  ASSERT_EQ(full->status, 200) << full->body;
  Json j = json_of(full);
  const std::string content = j["content"];
  EXPECT_NE(content.find("extracting hello"), std::string::npos) << content;
  EXPECT_NE(content.find("password="), std::string::npos);
  EXPECT_EQ(full->body.find(kSecret), std::string::npos);
  EXPECT_EQ(j["finished"], true);
  EXPECT_GT(j["size"].get<int64_t>(), 0);

  Json tail = json_of(c.Get((base + "?tail=1").c_str()));
  const std::string last = tail["content"];
  EXPECT_EQ(last.find("extracting"), std::string::npos) << last;
  EXPECT_LT(last.size(), content.size());

  auto text = c.Get((base + "?format=text").c_str());
  EXPECT_NE(text->get_header_value("Content-Disposition").find("attachment"), std::string::npos);
  EXPECT_NE(text->body.find("extracting hello"), std::string::npos);
  EXPECT_EQ(text->body.find(kSecret), std::string::npos);

  EXPECT_EQ(c.Get(("/api/v1/runs/" + run_id + "/tasks/extract/logs/2").c_str())->status, 404);
  EXPECT_EQ(c.Get(("/api/v1/runs/" + run_id + "/tasks/extract/logs/abc").c_str())->status, 404);
  EXPECT_EQ(c.Get(("/api/v1/runs/" + run_id + "/tasks/extract/logs/1?tail=-1").c_str())->status, 400);
}

TEST(ServerLogs, LiveStreamOverServerSentEvents) {
  ServerHarness h;
  auto c = h.client();
  auto s = BrowserSession::open(c);
  const std::string run_id = trigger(c, s, "slow");
  ASSERT_FALSE(run_id.empty());
  const std::string detail = "/api/v1/runs/" + run_id + "/tasks/ticker";
  ASSERT_TRUE(eventually([&] {
    Json d = json_of(c.Get(detail.c_str()));
    return d.is_object() && d["attempts"].size() == 1;
  }));
  std::string received;
  int chunks = 0;
  auto r = c.Get((detail + "/logs/1/stream").c_str(), [&](const char* data, size_t n) {
    received.append(data, n);
    ++chunks;
    return true;
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  for (const char* tick : {"tick1", "tick2", "tick3", "tick4"}) EXPECT_NE(received.find(tick), std::string::npos) << received;
  EXPECT_NE(received.find("event: log"), std::string::npos);
  EXPECT_NE(received.find("event: end\ndata: {\"state\":\"success\"}"), std::string::npos) << received;
  EXPECT_GT(chunks, 1);  // delivered while the task ran, not in one piece at the end
  EXPECT_EQ(run_state(c, run_id), "success");

  // Resuming from the id of the event that carried tick1 sends only what follows it.
  const size_t tick_at = received.find("tick1");
  const size_t id_at = received.rfind("id: ", tick_at);
  ASSERT_NE(id_at, std::string::npos) << received;
  const std::string first_id = received.substr(id_at + 4, received.find('\n', id_at) - id_at - 4);
  std::string resumed;
  c.Get((detail + "/logs/1/stream").c_str(), {{"Last-Event-ID", first_id}}, [&](const char* data, size_t n) {
    resumed.append(data, n);
    return true;
  });
  EXPECT_EQ(resumed.find("tick1"), std::string::npos) << first_id << "\n" << resumed;
  EXPECT_NE(resumed.find("event: end"), std::string::npos) << resumed;
  EXPECT_EQ(c.Get((detail + "/logs/1/stream?offset=x").c_str())->status, 400);
}

}  // namespace
}  // namespace strata::server::testing

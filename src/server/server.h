#pragma once
// Server: the HTTP API (docs/api.md), live log streaming (SSE), /healthz, /metrics and the
// embedded web UI, served by cpp-httplib on its own thread pool.
// - Binds 127.0.0.1 by default; any other address needs a token (ServerOptions::auth.token).
// - Mutations need the bearer token or a session cookie + matching X-CSRF-Token (and a same-origin
//   Origin header when one is sent); reads off loopback (auth.protect_reads) need the token or a
//   session too.
// - Errors are JSON {"error": {...}} with secrets masked; request bodies are capped.
// Thread-safety: start() and stop() from one thread; handlers run on the server's threads and use
// only thread-safe dependencies (MetadataStore, Scheduler::notify/trigger, Executor).

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/secrets.h"
#include "orchestrate/clock.h"
#include "orchestrate/executor.h"
#include "orchestrate/metadata_store.h"
#include "orchestrate/pipeline.h"
#include "orchestrate/scheduler.h"
#include "orchestrate/store_factory.h"
#include "warehouse/warehouse.h"

namespace strata::orchestrate {
class Runtime;
}

namespace strata::server {

struct AuthConfig {
  std::string token;           // the API token; empty = none (allowed only on a loopback bind)
  bool protect_reads = false;  // reads need the token or a session (forced on off loopback)
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                       // 0 = any free port (see Server::port())
  AuthConfig auth;
  int threads = 32;                      // request threads (SSE streams hold one each)
  size_t max_body_bytes = 64 * 1024;     // larger bodies get 413
  int64_t sse_poll_ms = 200;             // how often a live log stream looks for new bytes
};

// What the server reads and drives. Pointers are not owned and must outlive the Server.
struct ServerContext {
  orchestrate::MetadataStore* store = nullptr;
  std::string store_path;                        // the store's SQLite file, read by paged queries
  // When set, the store the paged queries read (SQLite file or PostgreSQL) instead of store_path.
  std::optional<orchestrate::MetadataStoreConfig> store_config;
  orchestrate::Scheduler* scheduler = nullptr;   // trigger + notify; nullptr = no triggers
  orchestrate::Executor* executor = nullptr;     // cancel of running runs; may be nullptr
  orchestrate::Clock* clock = nullptr;           // nullptr = the system's time
  std::vector<std::shared_ptr<const orchestrate::PipelineSpec>> pipelines;
  // When set, the pipelines as of now (a serving runtime re-reads its files); else `pipelines`.
  std::function<std::vector<std::shared_ptr<const orchestrate::PipelineSpec>>()> current_pipelines;
  std::string project_dir = ".";
  std::string log_root;                          // default <project_dir>/.strata/logs
  // The warehouse for data previews; empty when there is none.
  std::function<Result<warehouse::Database*>()> warehouse;
  SecretMaskerPtr masker = std::make_shared<SecretMasker>();
};

// The context of a started Runtime (store, scheduler, executor, its current pipelines, the default
// target's DuckDB for previews; system time).
ServerContext context_from_runtime(orchestrate::Runtime& runtime);

// A random token of 32 hex characters from the system's random source.
std::string generate_token();

// True for 127.0.0.1, ::1 and localhost (and the rest of 127.0.0.0/8).
bool is_loopback_host(const std::string& host);

class Server {
 public:
  // Binds and starts serving on a background thread. Errors: kUsage for a non-loopback host
  // without a token, kConnection when the address cannot be bound or the store not opened.
  static Result<std::unique_ptr<Server>> start(ServerContext context, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const;
  // "http://host:port"
  std::string url() const;
  // Stops accepting, ends live streams, joins the threads. Idempotent.
  void stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata::server

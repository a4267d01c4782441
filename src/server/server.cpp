// Server start/stop, the request pipeline (traversal check, auth, JSON errors) and the UI assets.
#include "server/server.h"

#include <thread>

#include "common/strings.h"
#include "orchestrate/runtime.h"
#include "server/api.h"

#ifdef STRATA_HAVE_UI_ASSETS
#include "server/assets/ui_assets.h"
#endif

namespace strata::server {

struct Server::Impl {
  Api api;
  httplib::Server http;
  std::thread thread;
  int port = 0;
  bool stopped = false;
};

namespace {

constexpr const char* kPlaceholderPage =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Strata</title></head><body>"
    "<h1>Strata</h1><p>The web UI is not built into this binary. The API is at <code>/api/v1</code> "
    "(see docs/api.md).</p></body></html>";

bool is_api_path(const std::string& path) {
  return starts_with(path, "/api/") || path == "/api" || path == "/metrics";
}

// A path with a ".." segment or a backslash or NUL: refused before routing.
bool is_traversal(const std::string& path) {
  if (path.find('\\') != std::string::npos || path.find('\0') != std::string::npos) return true;
  for (const std::string& segment : split(path, '/'))
    if (segment == "..") return true;
  return false;
}

void serve_ui(const httplib::Request& req, httplib::Response& res, const Api& api) {
  if (is_api_path(req.path)) {
    write_error(res, 404, "no API endpoint " + req.method + " " + req.path, "see docs/api.md", api);
    return;
  }
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
#ifdef STRATA_HAVE_UI_ASSETS
  const EmbeddedAsset* asset = find_ui_asset(req.path);
  if (!asset) asset = find_ui_asset("/index.html");
  if (asset) {
    res.set_content(reinterpret_cast<const char*>(asset->data), asset->size, std::string(asset->content_type).c_str());
    return;
  }
#endif
  res.set_content(kPlaceholderPage, "text/html; charset=utf-8");
}

void configure(Server::Impl& impl) {
  Api& api = impl.api;
  httplib::Server& http = impl.http;
  const int threads = std::max(4, api.options.threads);
  http.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  http.set_payload_max_length(api.options.max_body_bytes);
  http.set_keep_alive_max_count(1000);
  http.set_keep_alive_timeout(2);
  http.set_pre_routing_handler([&api](const httplib::Request& req, httplib::Response& res) {
    // A request with neither Content-Length nor Transfer-Encoding has no body (RFC 9112 6.3), as
    // `curl -X POST` sends it. cpp-httplib would read a POST's body until the connection closes
    // (its read timeout, then 400); saying "Content-Length: 0" makes it read none. The request is
    // the server's own non-const object, handed to this hook as const.
    if (!req.has_header("Content-Length") && !req.has_header("Transfer-Encoding"))
      const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
    if (is_traversal(req.path)) {
      write_error(res, 400, "path segments '..' and backslashes are not allowed", "", api);
      return httplib::Server::HandlerResponse::Handled;
    }
    if (!is_api_path(req.path)) return httplib::Server::HandlerResponse::Unhandled;
    AuthDecision d = api.auth->check(req, api.now());
    if (d.status == 0) return httplib::Server::HandlerResponse::Unhandled;
    write_error(res, d.status, d.message, d.hint, api);
    if (d.status == 401) res.set_header("WWW-Authenticate", "Bearer");
    return httplib::Server::HandlerResponse::Handled;
  });
  http.set_error_handler(httplib::Server::HandlerWithResponse([&api](const httplib::Request& req,
                                                                      httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    switch (res.status) {
      case 404:
        write_error(res, 404, "no endpoint " + req.method + " " + req.path, "see docs/api.md", api);
        break;
      case 413:
        write_error(res, 413, "the request is too large", "request bodies are limited to " +
                                                              std::to_string(api.options.max_body_bytes) + " bytes",
                    api);
        break;
      default:
        write_error(res, res.status, "the request could not be served", "", api);
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  http.set_exception_handler([&api](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    write_error(res, 500, "internal error while serving the request", "see the server's log", api);
  });
  Routes routes(http, api);
  add_session_routes(routes, api);
  add_health_routes(routes, api);
  add_pipeline_routes(routes, api);
  add_run_routes(routes, api);
  add_dataset_routes(routes, api);
  add_log_routes(routes, api);
  add_connection_routes(routes, api);
  add_dbt_routes(routes, api);
  add_preview_routes(routes, api);
  http.Get(".*", [&api](const httplib::Request& req, httplib::Response& res) { serve_ui(req, res, api); });
}

}  // namespace

ServerContext context_from_runtime(orchestrate::Runtime& runtime) {
  ServerContext ctx;
  ctx.store = &runtime.store();
  ctx.store_config = runtime.store_config();
  ctx.scheduler = &runtime.scheduler();
  ctx.executor = &runtime.executor();
  ctx.pipelines = runtime.pipelines();
  ctx.current_pipelines = [&runtime] { return runtime.pipelines(); };
  ctx.project_dir = runtime.project_dir();
  ctx.log_root = runtime.project_dir() + "/.strata/logs";
  ctx.warehouse = [&runtime]() -> Result<warehouse::Database*> {
    STRATA_ASSIGN(orchestrate::ResolvedTarget target, runtime.databases().target(""));
    if (!target.database)
      return Error(ErrorCode::kConnection, "the data preview needs a DuckDB target", {},
                   "make the default target of profiles.yml a duckdb one");
    return target.database;
  };
  return ctx;
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::start(ServerContext context, ServerOptions options) {
  if (!context.store) return Error(ErrorCode::kInternal, "Server::start needs a metadata store");
  const bool loopback = is_loopback_host(options.host);
  if (!loopback && options.auth.token.empty())
    return Error(ErrorCode::kUsage, "binding " + options.host + " (not loopback) needs an API token", {},
                 "set STRATA_API_TOKEN, or let `strata serve` generate one");
  if (!loopback) options.auth.protect_reads = true;
  if (!options.auth.token.empty() && context.masker) context.masker->add(options.auth.token);
  if (context.store_path.empty()) context.store_path = context.project_dir + "/.strata/strata.db";
  if (context.log_root.empty()) context.log_root = context.project_dir + "/.strata/logs";

  auto impl = std::make_unique<Impl>();
  Api& api = impl->api;
  if (context.store_config) {
    STRATA_ASSIGN(api.history, History::open(*context.store_config, context.masker.get()));
  } else {
    STRATA_ASSIGN(api.history, History::open(context.store_path));
  }
  api.auth = std::make_unique<Auth>(options.auth);
  api.ctx = std::move(context);
  api.options = options;
  configure(*impl);

  if (options.port == 0) {
    impl->port = impl->http.bind_to_any_port(options.host);
  } else {
    impl->port = impl->http.bind_to_port(options.host, options.port) ? options.port : -1;
  }
  if (impl->port <= 0)
    return Error(ErrorCode::kConnection,
                 "cannot listen on " + options.host + ":" + std::to_string(options.port), {},
                 "is another process using the port? choose another with --port");
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->http.listen_after_bind(); });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->port; }

std::string Server::url() const { return "http://" + impl_->api.options.host + ":" + std::to_string(impl_->port); }

void Server::stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->api.stopping = true;
  impl_->http.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace strata::server

#include "server/serve.h"

#include <cstdio>

#include "orchestrate/runtime.h"

namespace strata::server {

Result<std::unique_ptr<Server>> start_for_runtime(orchestrate::Runtime& runtime, const std::string& host, int port,
                                                  const Logger& logger, const EnvLookup& env) {
  ServerOptions options;
  options.host = host;
  options.port = port;
  if (auto token = env ? env("STRATA_API_TOKEN") : std::nullopt; token && !token->empty()) options.auth.token = *token;
  const bool loopback = is_loopback_host(host);
  if (!loopback && options.auth.token.empty()) {
    options.auth.token = generate_token();
    // Printed once, before the masker learns it; never logged.
    std::fprintf(stderr, "strata serve: API token for %s:%d (send it as Authorization: Bearer): %s\n", host.c_str(),
                 port, options.auth.token.c_str());
  }
  ServerContext ctx = context_from_runtime(runtime);
  ctx.masker = logger.masker();
  STRATA_ASSIGN(auto server, Server::start(std::move(ctx), options));
  logger.info("web UI and API on {} ({})", server->url(),
              options.auth.token.empty() ? "loopback only, no token" : "token required");
  return server;
}

}  // namespace strata::server

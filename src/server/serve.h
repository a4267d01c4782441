#pragma once
// The HTTP server of `strata serve`, started next to a running Runtime.

#include <memory>
#include <string>

#include "common/env.h"
#include "common/log.h"
#include "server/server.h"

namespace strata::server {

// Starts the API and UI on host:port for a started Runtime. The token is STRATA_API_TOKEN when
// set; a non-loopback host without it gets a generated token, printed once on stderr (the logger
// masks it everywhere else). Logs where it listens. Errors: as Server::start.
// The Runtime must outlive the returned Server.
Result<std::unique_ptr<Server>> start_for_runtime(orchestrate::Runtime& runtime, const std::string& host, int port,
                                                  const Logger& logger, const EnvLookup& env = process_env());

}  // namespace strata::server

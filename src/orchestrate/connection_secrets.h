#pragma once
// Teaches the secret masker the passwords of a project's connections up front, when a runtime
// opens (strata serve, pipeline run, backfill…), not first when a sync task or the connections
// API loads a file: a shell task echoing $ERP_PG_PASSWORD before any sync, or a pipeline command
// rendered from the same env_var, is masked from the start.
// For every connections/*.yml and *.yaml: the file is loaded (which registers its password); and,
// whether it loads or not, the values of the env vars its env_var(...) calls name are registered
// when the call is in a `password:` line or the name looks secret (is_secret_env_name). Other
// env_var values (host, user, database, port) are not: masking those would garble ordinary logs.
// A file that fails to load is skipped silently; it fails later with its located error.

#include <string>

#include "common/env.h"
#include "common/secrets.h"

namespace strata::orchestrate {

void register_connection_secrets(const std::string& project_dir, SecretMasker& masker,
                                 const EnvLookup& env = process_env());

}  // namespace strata::orchestrate

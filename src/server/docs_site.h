#pragma once
// The documentation site of `strata docs generate` and `strata docs serve` (dbt docs): one HTML
// page holding the docs app (ui/src/docs, embedded in the binary at build time) that shows the
// project's models, sources, seeds, snapshots and exposures with their descriptions, columns
// (typed by catalog.json), tests, code and lineage.
// - index.html reads manifest.json and catalog.json from its own folder, so it needs an HTTP
//   server (`strata docs serve`), as dbt's does;
// - static_index.html (`--static`) holds both documents and opens from the file system.

#include <memory>
#include <string>

#include "common/result.h"

namespace strata::server {

// Writes `target_dir`/index.html, and with `static_site` also static_index.html built from the
// manifest.json and catalog.json already in `target_dir` (catalog.json may be missing). Each file
// is replaced atomically. Errors: kFailed when a file cannot be read or written; kNotFound when a
// static site is asked for and manifest.json is missing; kInternal when this binary was built
// without the web UI.
Status write_docs_site(const std::string& target_dir, bool static_site);

// Serves a target folder's docs over HTTP: "/" and "/index.html", "/static_index.html",
// "/manifest.json" and "/catalog.json", read from disk on every request (a later `docs generate`
// shows on reload); every other path is 404. Bound to a loopback address, it answers only requests
// whose Host is a loopback name (no DNS rebinding from a web page). Thread-safety: serve() blocks on one thread; stop() may be called from
// another, and ends serve().
class DocsServer {
 public:
  // Binds host:port (port 0: any free one). Errors: kNotFound when `target_dir` has no index.html
  // (the hint says to run `strata docs generate`); kConnection when the address cannot be bound.
  static Result<std::unique_ptr<DocsServer>> bind(const std::string& target_dir, const std::string& host, int port);
  ~DocsServer();
  DocsServer(const DocsServer&) = delete;
  DocsServer& operator=(const DocsServer&) = delete;

  int port() const;
  // "http://host:port/"
  std::string url() const;
  // Answers requests until stop().
  void serve();
  // Idempotent.
  void stop();

  struct Impl;

 private:
  explicit DocsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata::server

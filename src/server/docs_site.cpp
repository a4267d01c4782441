#include "server/docs_site.h"

#include <httplib.h>

#include <arpa/inet.h>

#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <thread>

#include "common/strings.h"
#include "server/server.h"

#ifdef STRATA_HAVE_UI_ASSETS
#include "server/assets/ui_assets.h"
#endif

namespace strata::server {
namespace {

constexpr const char* kIndex = "index.html";
constexpr const char* kStaticIndex = "static_index.html";

// `text` with every "</tag" (any case) written "<\/tag", so that it cannot end the HTML element
// it is embedded in. In JavaScript strings and regular expressions "\/" is "/"; in JSON, '<' only
// occurs inside strings, where "\u003c" stands for it.
std::string escape_closing_tag(std::string_view text, std::string_view tag) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    if (text[i] != '<' || i + 1 >= text.size() || text[i + 1] != '/') continue;
    if (text.size() - i - 2 < tag.size()) continue;
    if (to_lower(text.substr(i + 2, tag.size())) == tag) out += '\\';
  }
  return out;
}

std::string json_for_html(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  for (char c : json) {
    if (c == '<') {
      out += "\\u003c";
    } else {
      out += c;
    }
  }
  return out;
}

#ifdef STRATA_HAVE_UI_ASSETS
Result<std::string_view> asset(std::string_view path) {
  const EmbeddedAsset* a = find_ui_asset(path);
  if (!a) {
    return Error(ErrorCode::kInternal, "the docs app (" + std::string(path) + ") is missing from this binary", {},
                 "rebuild Strata (the web UI build writes it)");
  }
  return std::string_view(reinterpret_cast<const char*>(a->data), a->size);
}
#endif

// The page: the UI's and the docs' styles, the data (static sites), the docs app.
Result<std::string> page(const std::string* data) {
#ifdef STRATA_HAVE_UI_ASSETS
  STRATA_ASSIGN(std::string_view app_css, asset("/app.css"));
  STRATA_ASSIGN(std::string_view docs_css, asset("/docs/docs.css"));
  STRATA_ASSIGN(std::string_view docs_js, asset("/docs/docs.js"));
  std::string html =
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<link rel=\"icon\" href=\"data:,\">\n<title>dbt docs</title>\n<style>\n";
  html += escape_closing_tag(app_css, "style");
  html += escape_closing_tag(docs_css, "style");
  html += "</style>\n</head>\n<body>\n<div id=\"docs\"><p class=\"muted\">Loading…</p></div>\n";
  if (data) html += "<script type=\"application/json\" id=\"strata-docs-data\">" + json_for_html(*data) + "</script>\n";
  html += "<script>\n" + escape_closing_tag(docs_js, "script") + "\n</script>\n</body>\n</html>\n";
  return html;
#else
  (void)data;
  return Error(ErrorCode::kInternal, "this Strata binary was built without the web UI, which holds the docs app", {},
               "build Strata with Node.js and npm installed (scripts/setup)");
#endif
}

// The host name of a Host header: "127.0.0.1:8080" → "127.0.0.1", "[::1]:8080" → "[::1]".
std::string host_name(const std::string& header) {
  if (!header.empty() && header.front() == '[') return header.substr(0, header.find(']') + 1);
  return header.substr(0, header.find(':'));
}

// A Host name that only this machine answers to: "localhost", "[::1]", or an IPv4 literal in
// 127.0.0.0/8 (not a DNS name that merely starts with "127.").
bool loopback_name(const std::string& name) {
  if (name == "localhost" || name == "[::1]") return true;
  in_addr address{};
  return ::inet_pton(AF_INET, name.c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

Status write_page(const std::string& path, const std::string& html) {
  if (!write_file_atomic(path, html)) {
    return Error(ErrorCode::kFailed, "cannot write " + path, {}, "check that the target folder is writable");
  }
  return ok_status();
}

}  // namespace

Status write_docs_site(const std::string& target_dir, bool static_site) {
  std::error_code ec;
  std::filesystem::create_directories(target_dir, ec);
  STRATA_ASSIGN(std::string index, page(nullptr));
  STRATA_TRY(write_page(target_dir + "/" + kIndex, index));
  if (!static_site) return ok_status();
  std::string manifest, catalog;
  if (!read_file(target_dir + "/manifest.json", manifest)) {
    return Error(ErrorCode::kNotFound, "cannot read " + target_dir + "/manifest.json for the static docs page", {},
                 "run `strata docs generate --static` (it writes manifest.json first)");
  }
  const bool has_catalog = read_file(target_dir + "/catalog.json", catalog);
  const std::string data = "{\"manifest\":" + manifest + ",\"catalog\":" + (has_catalog ? catalog : "null") + "}";
  STRATA_ASSIGN(std::string static_page, page(&data));
  return write_page(target_dir + "/" + kStaticIndex, static_page);
}

struct DocsServer::Impl {
  httplib::Server http;
  std::string host;
  int port = -1;
  std::atomic<bool> serving{false};
  std::atomic<bool> stopped{false};
};

DocsServer::DocsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DocsServer::~DocsServer() { stop(); }

Result<std::unique_ptr<DocsServer>> DocsServer::bind(const std::string& target_dir, const std::string& host, int port) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(target_dir + "/" + kIndex, ec)) {
    return Error(ErrorCode::kNotFound, "no docs to serve: " + target_dir + "/" + kIndex + " does not exist", {},
                 "run `strata docs generate` first");
  }
  auto impl = std::make_unique<Impl>();
  impl->host = host;
  // The files the docs page reads, and nothing else of the target folder.
  static constexpr std::array<std::pair<const char*, const char*>, 5> kFiles{{
      {"/", "index.html"},
      {"/index.html", "index.html"},
      {"/static_index.html", "static_index.html"},
      {"/manifest.json", "manifest.json"},
      {"/catalog.json", "catalog.json"},
  }};
  for (const auto& [route, file] : kFiles) {
    const std::string path = target_dir + "/" + file;
    const char* type = ends_with(file, ".json") ? "application/json" : "text/html; charset=utf-8";
    impl->http.Get(route, [path, type](const httplib::Request&, httplib::Response& res) {
      std::string body;
      if (!read_file(path, body)) {
        res.status = 404;
        res.set_content("not found: run `strata docs generate`\n", "text/plain; charset=utf-8");
        return;
      }
      res.set_header("Cache-Control", "no-store");
      res.set_content(std::move(body), type);
    });
  }
  if (is_loopback_host(host)) {
    impl->http.set_pre_routing_handler([host](const httplib::Request& req, httplib::Response& res) {
      const std::string name = host_name(req.get_header_value("Host"));
      if (loopback_name(name) || name == host) return httplib::Server::HandlerResponse::Unhandled;
      res.status = 403;
      res.set_content("this docs server answers loopback names only\n", "text/plain; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    });
  }
  // An idle browser connection holds a thread of the server until it times out: kept short, so a
  // stop ends serve() within a second.
  impl->http.set_keep_alive_timeout(1);
  impl->port = port == 0 ? impl->http.bind_to_any_port(host) : (impl->http.bind_to_port(host, port) ? port : -1);
  if (impl->port <= 0) {
    return Error(ErrorCode::kConnection, "cannot listen on " + host + ":" + std::to_string(port), {},
                 "is another process using the port? choose another with --port");
  }
  return std::unique_ptr<DocsServer>(new DocsServer(std::move(impl)));
}

int DocsServer::port() const { return impl_->port; }

std::string DocsServer::url() const { return "http://" + impl_->host + ":" + std::to_string(impl_->port) + "/"; }

void DocsServer::serve() {
  impl_->serving = true;
  if (!impl_->stopped) impl_->http.listen_after_bind();
}

void DocsServer::stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  // A stop that comes as serve() starts waits for the listening to begin (httplib's stop() does
  // nothing before), so that serve() cannot go on listening after it.
  for (int i = 0; i < 1000 && impl_->serving && !impl_->http.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl_->http.stop();
}

}  // namespace strata::server

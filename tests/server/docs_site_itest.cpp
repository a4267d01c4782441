// The docs site of `strata docs generate` (index.html, static_index.html) and `strata docs serve`
// (DocsServer) on a real loopback HTTP server.
#include "server/docs_site.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/temp_dir.h"

namespace strata::server {
namespace {

using Json = nlohmann::json;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void spit(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// A manifest whose description tries to close the page's script element.
const Json kManifest = {
    {"metadata", {{"project_name", "lab"}}},
    {"nodes",
     {{"model.lab.a",
       {{"unique_id", "model.lab.a"}, {"name", "a"}, {"resource_type", "model"},
        {"description", "ends </script><script>alert(1)</script> and </SCRIPT >"}}}}},
    {"sources", Json::object()}};
const Json kCatalog = {{"nodes", {{"model.lab.a", {{"metadata", {{"type", "VIEW"}}}, {"columns", Json::object()}}}}}};

// The JSON of a static page's data element.
Json embedded_data(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"strata-docs-data\">";
  const size_t begin = html.find(open);
  if (begin == std::string::npos) return nullptr;
  const size_t end = html.find("</script>", begin + open.size());
  return Json::parse(html.substr(begin + open.size(), end - begin - open.size()));
}

TEST(DocsSite, IndexHoldsTheAppAndReadsTheDocumentsBesideIt) {
  testing::TempDir dir;
  ASSERT_TRUE(write_docs_site(dir.path(), false).ok());
  const std::string html = slurp(dir.file("index.html"));
  EXPECT_NE(html.find("<div id=\"docs\">"), std::string::npos);
  EXPECT_NE(html.find("manifest.json"), std::string::npos);  // the app fetches it
  EXPECT_TRUE(embedded_data(html).is_null());                   // no data element
  EXPECT_FALSE(std::ifstream(dir.file("static_index.html")));  // not asked for
  // Exactly one script element and one style element: the embedded code never closes its own.
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = html.find(needle); at != std::string::npos; at = html.find(needle, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("</script"), 1u);
  EXPECT_EQ(count("</style"), 1u);
}

TEST(DocsSite, AStaticPageHoldsManifestAndCatalogSafely) {
  testing::TempDir dir;
  spit(dir.file("manifest.json"), kManifest.dump(2));
  spit(dir.file("catalog.json"), kCatalog.dump());
  ASSERT_TRUE(write_docs_site(dir.path(), true).ok());
  const std::string html = slurp(dir.file("static_index.html"));
  EXPECT_EQ(html.find("</script><script>alert"), std::string::npos);
  EXPECT_EQ(html.find("</SCRIPT"), std::string::npos);
  const Json data = embedded_data(html);
  EXPECT_EQ(data["manifest"], kManifest);  // the description survives, byte for byte
  EXPECT_EQ(data["catalog"], kCatalog);
  EXPECT_TRUE(std::ifstream(dir.file("index.html")).good());

  std::remove(dir.file("catalog.json").c_str());  // a catalog is optional
  ASSERT_TRUE(write_docs_site(dir.path(), true).ok());
  EXPECT_TRUE(embedded_data(slurp(dir.file("static_index.html")))["catalog"].is_null());

  testing::TempDir empty;
  Status no_manifest = write_docs_site(empty.path(), true);
  ASSERT_FALSE(no_manifest.ok());
  EXPECT_EQ(no_manifest.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(no_manifest.error().message().find("manifest.json"), std::string::npos);
}

TEST(DocsSite, TheServerServesTheDocsFilesAndNothingElse) {
  testing::TempDir dir;
  spit(dir.file("manifest.json"), kManifest.dump());
  spit(dir.file("run_results.json"), "{}");
  ASSERT_TRUE(write_docs_site(dir.path(), false).ok());
  auto server = DocsServer::bind(dir.path(), "127.0.0.1", 0);
  ASSERT_TRUE(server.ok()) << server.error().message();
  std::thread serving([&] { (*server)->serve(); });
  EXPECT_EQ((*server)->url(), "http://127.0.0.1:" + std::to_string((*server)->port()) + "/");

  httplib::Client c("127.0.0.1", (*server)->port());
  auto index = c.Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->body, slurp(dir.file("index.html")));
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html; charset=utf-8");
  auto manifest = c.Get("/manifest.json");
  ASSERT_TRUE(manifest);
  EXPECT_EQ(manifest->status, 200);
  EXPECT_EQ(Json::parse(manifest->body), kManifest);
  EXPECT_EQ(c.Get("/catalog.json")->status, 404);  // not generated (yet)
  spit(dir.file("catalog.json"), kCatalog.dump());
  EXPECT_EQ(c.Get("/catalog.json")->status, 200);  // read on each request
  EXPECT_EQ(c.Get("/run_results.json")->status, 404);
  EXPECT_EQ(c.Get("/../manifest.json")->status, 404);
  EXPECT_EQ(c.Get("/%2e%2e/etc/passwd")->status, 404);
  // A page of another site that resolves its name to 127.0.0.1 (DNS rebinding) is refused.
  EXPECT_EQ(c.Get("/manifest.json", {{"Host", "attacker.example:" + std::to_string((*server)->port())}})->status, 403);
  EXPECT_EQ(c.Get("/manifest.json", {{"Host", "localhost:" + std::to_string((*server)->port())}})->status, 200);
  EXPECT_EQ(c.Get("/manifest.json", {{"Host", "127.rebind.example"}})->status, 403);
  EXPECT_EQ(c.Get("/manifest.json", {{"Host", "127.0.0.2"}})->status, 200);

  (*server)->stop();
  serving.join();
}

TEST(DocsSite, ServingNeedsAGeneratedSite) {
  testing::TempDir dir;
  auto server = DocsServer::bind(dir.path(), "127.0.0.1", 0);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(server.error().hint().find("strata docs generate"), std::string::npos);
}

TEST(DocsSite, AStopBeforeServingEndsIt) {
  testing::TempDir dir;
  ASSERT_TRUE(write_docs_site(dir.path(), false).ok());
  auto server = DocsServer::bind(dir.path(), "127.0.0.1", 0);
  ASSERT_TRUE(server.ok());
  (*server)->stop();
  (*server)->serve();  // returns at once
}

}  // namespace
}  // namespace strata::server

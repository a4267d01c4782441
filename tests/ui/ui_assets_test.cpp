// The embedded UI table: the files the server serves exist, with the right types, and lookups
// never reach outside the table.
#include <gtest/gtest.h>

#include <string>

#include "server/assets/ui_assets.h"

namespace strata::server {
namespace {

TEST(UiAssets, IndexIsTheRootAndHasTheAppShell) {
  const EmbeddedAsset* root = find_ui_asset("/");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root, find_ui_asset("/index.html"));
  EXPECT_EQ(root, find_ui_asset(""));
  EXPECT_EQ(root->content_type, "text/html; charset=utf-8");
  const std::string html(reinterpret_cast<const char*>(root->data), root->size);
  EXPECT_NE(html.find("<script src=\"/app.js\">"), std::string::npos);
  EXPECT_NE(html.find("/app.css"), std::string::npos);
}

TEST(UiAssets, ScriptAndStyleAreBuiltAndTyped) {
  const EmbeddedAsset* js = find_ui_asset("/app.js");
  ASSERT_NE(js, nullptr);
  EXPECT_EQ(js->content_type, "text/javascript; charset=utf-8");
  EXPECT_GT(js->size, 1000u);  // the bundled app, not a placeholder
  const EmbeddedAsset* css = find_ui_asset("app.css");
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
}

TEST(UiAssets, UnknownAndTraversalPathsFindNothing) {
  EXPECT_EQ(find_ui_asset("/nope.js"), nullptr);
  EXPECT_EQ(find_ui_asset("/../index.html"), nullptr);
  EXPECT_EQ(find_ui_asset("/./app.js"), nullptr);
  EXPECT_EQ(find_ui_asset("/app.js/"), nullptr);
  EXPECT_EQ(find_ui_asset("/API/v1/pipelines"), nullptr);
}

TEST(UiAssets, TableListsEveryAssetOnce) {
  std::size_t count = 0;
  const EmbeddedAsset* all = ui_assets(&count);
  ASSERT_GE(count, 3u);
  for (std::size_t i = 0; i < count; ++i) {
    EXPECT_EQ(find_ui_asset(all[i].path), &all[i]) << all[i].path;
    EXPECT_EQ(all[i].path.front(), '/');
  }
}

}  // namespace
}  // namespace strata::server

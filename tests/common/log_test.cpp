#include "common/log.h"

#include <gtest/gtest.h>

#include <thread>

namespace strata {
namespace {

TEST(SecretMasker, MasksEveryOccurrenceLongestFirst) {
  SecretMasker m;
  m.add("s3cr3t");
  m.add("s3cr3t-extended");
  m.add("ab");  // too short to register
  EXPECT_EQ(m.mask("a s3cr3t-extended and s3cr3t, s3cr3ts3cr3t ab"), "a **** and ****, ******** ab");
}

TEST(Logger, MasksSecretsInEverySinkAndScope) {
  auto masker = std::make_shared<SecretMasker>();
  Logger logger(masker, LogLevel::kDebug);
  std::vector<std::string> lines;
  logger.add_sink([&](LogLevel, std::string_view line) { lines.emplace_back(line); });
  masker->add("pa55word");
  logger.child("sync").info("connecting with password={}", "pa55word");
  logger.debug("dsn postgresql://u:pa55word@h/db");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "[sync] connecting with password=****");
  EXPECT_EQ(lines[1], "dsn postgresql://u:****@h/db");
}

TEST(Logger, RespectsLevelAndIsThreadSafe) {
  Logger logger(std::make_shared<SecretMasker>(), LogLevel::kWarn);
  std::atomic<int> count{0};
  logger.add_sink([&](LogLevel, std::string_view) { ++count; });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        logger.info("dropped {}", i);
        logger.warn("kept {}", i);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(count.load(), 2000);
}

}  // namespace
}  // namespace strata

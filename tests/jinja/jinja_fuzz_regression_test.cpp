// Replays the inputs the fuzzer (tests/jinja/fuzz/run) found crashing before their fixes, plus the
// seed corpus: each must parse/render to a result or a clean error, without crashing.
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "fuzz/fuzz_one.h"

namespace strata::jinja {
namespace {

TEST(JinjaFuzzRegression, SavedInputsRunWithoutCrashing) {
  std::size_t count = 0;
  for (const char* folder : {"regressions", "seeds"}) {
    std::filesystem::path dir = std::filesystem::path(STRATA_SOURCE_DIR) / "tests/jinja/fuzz" / folder;
    if (!std::filesystem::exists(dir)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      fuzz::run_one(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
      ++count;
    }
  }
  EXPECT_GE(count, 5u);
}

TEST(JinjaFuzzRegression, SeedsRenderSuccessfully) {
  std::filesystem::path dir = std::filesystem::path(STRATA_SOURCE_DIR) / "tests/jinja/fuzz/seeds";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_TRUE(fuzz::run_one(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()))
        << entry.path();
  }
}

}  // namespace
}  // namespace strata::jinja

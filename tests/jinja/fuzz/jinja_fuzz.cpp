// libFuzzer target for the jinja lexer, parser and evaluator. Built only by tests/jinja/fuzz/run
// (clang -fsanitize=fuzzer,address,undefined), never by the default build.
#include "fuzz_one.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  strata::jinja::fuzz::run_one(data, size);
  return 0;
}

// Renders a typical dbt model (config call, a loop over 20 columns, 5 refs, an if block) N times
// and prints templates/s. Usage: jinja_bench MODEL_FILE [N]. Compared with jinja2_bench.py by `run`.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "jinja/environment.h"
#include "jinja/template.h"

using namespace strata::jinja;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: jinja_bench MODEL_FILE [N]\n");
    return 2;
  }
  std::ifstream in(argv[1]);
  std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  long n = argc > 2 ? std::atol(argv[2]) : 100000;
  Environment env;
  env.add_function("config", [](CallArgs&, CallContext&) -> strata::Result<Value> { return Value(std::string()); });
  env.add_function("ref", [](CallArgs& args, CallContext&) -> strata::Result<Value> {
    return Value("\"main\".\"" + args.positional.at(0).as_string() + "\"");
  });
  env.add_function("is_incremental", [](CallArgs&, CallContext&) -> strata::Result<Value> { return Value(true); });
  auto tmpl = env.parse(source, "model.sql");
  if (!tmpl.ok()) {
    std::fprintf(stderr, "%s\n", tmpl.error().to_string().c_str());
    return 1;
  }
  Context ctx;
  ValueList columns;
  for (int i = 0; i < 20; ++i) {
    Dict col;
    col.set("name", Value("column_" + std::to_string(i)));
    if (i % 3 == 0) col.set("alias", Value("alias_" + std::to_string(i)));
    columns.emplace_back(std::move(col));
  }
  ctx.set("columns", Value(std::move(columns)));
  ctx.set("this", Value("\"main\".\"orders\""));
  std::size_t bytes = 0;
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    auto out = (*tmpl)->render(ctx);
    if (!out.ok()) {
      std::fprintf(stderr, "%s\n", out.error().to_string().c_str());
      return 1;
    }
    bytes += out->size();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("strata jinja:  %ld renders in %.3f s = %.0f templates/s (%zu bytes each)\n", n, seconds, n / seconds,
              bytes / static_cast<std::size_t>(n));
  return 0;
}

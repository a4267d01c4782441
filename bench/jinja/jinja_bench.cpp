// Renders a typical dbt model (config call, a loop over 20 columns, 5 refs, an if block) N times
// and prints templates/s. Usage: jinja_bench MODEL_FILE [N] (N = 0: print one rendering). Compared with jinja2_bench.py by `run`.
// Throughput is per second of this process's CPU time (the machine is shared: wall time depends on
// the load from others); wall time is printed too.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "jinja/environment.h"
#include "jinja/template.h"

using namespace strata::jinja;

namespace {
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

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
    const std::string& name = args.positional.at(0).as_string();
    std::string relation;
    relation.reserve(name.size() + 10);
    relation += "\"main\".\"";
    relation += name;
    relation += '"';
    return Value(std::move(relation));
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
  if (n == 0) {  // prints one rendering (bench/jinja/run compares it with jinja2's)
    auto out = (*tmpl)->render(ctx);
    if (!out.ok()) {
      std::fprintf(stderr, "%s\n", out.error().to_string().c_str());
      return 1;
    }
    std::fwrite(out->data(), 1, out->size(), stdout);
    return 0;
  }
  std::size_t bytes = 0;
  auto start = std::chrono::steady_clock::now();
  double cpu_start = cpu_seconds();
  for (long i = 0; i < n; ++i) {
    auto out = (*tmpl)->render(ctx);
    if (!out.ok()) {
      std::fprintf(stderr, "%s\n", out.error().to_string().c_str());
      return 1;
    }
    bytes += out->size();
  }
  double cpu = cpu_seconds() - cpu_start;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("strata jinja:  %ld renders in %.3f s CPU (%.3f s wall) = %.0f templates/s (%zu bytes each)\n", n, cpu,
              seconds, n / cpu, bytes / static_cast<std::size_t>(n));
  return 0;
}

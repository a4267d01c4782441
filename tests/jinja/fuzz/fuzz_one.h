#pragma once
// One fuzz iteration, shared by the libFuzzer target (jinja_fuzz.cpp) and the regression test
// that replays the saved crash inputs: the first byte picks options, the rest is a template that
// is parsed and rendered (also through include/import of itself) with a small context.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "jinja/environment.h"
#include "jinja/template.h"

namespace strata::jinja::fuzz {

// Returns true when the template rendered, false when it produced an error. Never crashes.
inline bool run_one(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return false;
  Options options;
  options.trim_blocks = data[0] & 1;
  options.lstrip_blocks = data[0] & 2;
  options.keep_trailing_newline = data[0] & 4;
  if (data[0] & 8) options.undefined = UndefinedMode::kStrict;
  std::string source(reinterpret_cast<const char*>(data + 1), size - 1);
  Environment env(options);
  CustomTag test;
  test.name = "test";
  test.macro_prefix = "test_";
  env.add_tag(test);
  CustomTag docs;
  docs.name = "docs";
  docs.kind = CustomTag::Kind::kRawBody;
  env.add_tag(docs);
  CustomTag snapshot;
  snapshot.name = "snapshot";
  snapshot.kind = CustomTag::Kind::kBody;
  env.add_tag(snapshot);
  env.set_loader(std::make_shared<MapLoader>(std::unordered_map<std::string, std::string>{
      {"self", source}, {"lib", "{% macro m(x) %}{{ x }}{% endmacro %}{% set v = [1, 'a'] %}"}}));
  env.add_function("fn", [](CallArgs& args, CallContext&) -> Result<Value> {
    return Value(static_cast<std::int64_t>(args.positional.size() + args.keyword.size()));
  });
  Context ctx;
  ctx.set("s", Value("text"));
  ctx.set("n", Value(3));
  ctx.set("f", Value(2.5));
  ctx.set("l", Value(ValueList{Value(1), Value("b"), Value::none()}));
  Dict d;
  d.set("k", Value("v"));
  d.set("n", Value(ValueList{Value(1), Value(2)}));
  ctx.set("d", Value(std::move(d)));
  auto tmpl = env.parse(source, "fuzz");
  if (!tmpl.ok()) return false;
  auto out = (*tmpl)->render(ctx);
  for (const auto& name : (*tmpl)->macro_names()) {
    auto macro = (*tmpl)->macro(name);
    if (macro) (void)call_function(env, ctx, *macro, CallArgs{{Value(1)}, {}});
  }
  for (const auto& block : (*tmpl)->custom_blocks())
    if (block.body) (void)block.body->render(ctx);
  return out.ok();
}

}  // namespace strata::jinja::fuzz

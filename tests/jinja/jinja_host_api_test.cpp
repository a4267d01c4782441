// Unit tests for the host API the dbt layer uses: C++ functions with keyword arguments, host
// objects, custom block tags, return(), macros as values, loaders, modules and concurrent renders.
#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "jinja_test_util.h"

namespace strata::jinja {
namespace {

using testing::render;

// A relation-like host object: attributes, a method, item access and str().
class Relation final : public Object {
 public:
  Relation(std::string schema, std::string name) : schema_(std::move(schema)), name_(std::move(name)) {}
  std::string type_name() const override { return "Relation"; }
  std::optional<Value> get_attr(std::string_view attr) const override {
    if (attr == "schema") return Value(schema_);
    if (attr == "identifier") return Value(name_);
    return std::nullopt;
  }
  Result<Value> call_method(std::string_view method, CallArgs& args, CallContext& context) const override {
    if (method == "include") {
      bool schema = args.get_or(0, "schema", Value(true)).truthy();
      return Value(schema ? to_string() : "\"" + name_ + "\"");
    }
    return Object::call_method(method, args, context);
  }
  std::string to_string() const override { return "\"" + schema_ + "\".\"" + name_ + "\""; }

 private:
  std::string schema_, name_;
};

TEST(JinjaHostApi, NativeFunctionsGetPositionalAndKeywordArguments) {
  Environment env;
  env.add_function("ref", [](CallArgs& args, CallContext&) -> Result<Value> {
    return Value::object(std::make_shared<Relation>("main", args.get_or(0, "name", Value("")).to_string()));
  });
  env.add_function("config", [](CallArgs& args, CallContext&) -> Result<Value> {
    std::string out;
    for (const auto& [k, v] : args.keyword) out += k + "=" + v.to_string() + ";";
    return Value(out);
  });
  EXPECT_EQ(render(env, "{{ config(materialized='table', unique_key='id') }} {{ ref('orders') }} "
                        "{{ ref(name='x').identifier }} {{ ref('y').include(schema=false) }}"),
            "materialized=table;unique_key=id; \"main\".\"orders\" x \"y\"");
  EXPECT_NE(render(env, "{{ ref('a').nope() }}").find("'Relation object' has no attribute 'nope'"), std::string::npos);
}

TEST(JinjaHostApi, FunctionErrorsBecomeLocatedTemplateErrors) {
  Environment env;
  env.add_function("fail", [](CallArgs&, CallContext& ctx) -> Result<Value> { return ctx.error("boom from C++"); });
  env.add_function("plain_fail", [](CallArgs&, CallContext&) -> Result<Value> {
    return Error(ErrorCode::kFailed, "no location");
  });
  EXPECT_EQ(render(env, "x\n  {{ fail() }}"), "ERROR: t.sql:2:6: error: boom from C++");
  EXPECT_EQ(render(env, "{{ plain_fail() }}"), "ERROR: t.sql:1:4: error: no location");
}

TEST(JinjaHostApi, FiltersAndTestsRegisteredInCpp) {
  Environment env;
  env.add_filter("quote", [](const Value& v, CallArgs& args, CallContext&) -> Result<Value> {
    std::string q = args.get_or(0, "char", Value("\"")).to_string();
    return Value(q + v.to_string() + q);
  });
  env.add_test("positive", [](const Value& v, CallArgs&, CallContext&) -> Result<bool> {
    return v.is_number() && v.as_float() > 0;
  });
  EXPECT_EQ(render(env, "{{ 'id'|quote }} {{ 'id'|quote(char='`') }} {{ 3 is positive }} {{ -1 is positive }}"),
            "\"id\" `id` True False");
}

TEST(JinjaHostApi, ReturnGivesTheMacroCallAValue) {
  EXPECT_EQ(render("{% macro cols() %}ignored text{{ return(['a', 'b']) }}more{% endmacro %}"
                   "{% set c = cols() %}{{ c | length }} {{ c[1] }}"),
            "2 b");
  EXPECT_EQ(render("{% macro pick(x) %}{% if x %}{% do return({'k': x}) %}{% endif %}{% do return(none) %}"
                   "{% endmacro %}{{ pick(1).k }} {{ pick(0) }}"),
            "1 None");
  EXPECT_EQ(render("{% macro early() %}{% for i in range(5) %}{% if i == 2 %}{{ return(i) }}{% endif %}{% endfor %}"
                   "{% endmacro %}{{ early() + 40 }}"),
            "42");
}

TEST(JinjaHostApi, MacrosFromOneTemplateCallOthersByNameAtCallTime) {
  Environment env;
  auto a = env.parse("{% macro outer(x) %}[{{ inner(x) }}]{% endmacro %}", "macros/a.sql");
  auto b = env.parse("{% macro inner(x) %}{{ x * 2 }}{% endmacro %}{% macro unused() %}{% endmacro %}", "macros/b.sql");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*b)->macro_names(), (std::vector<std::string>{"inner", "unused"}));
  auto shared = std::make_shared<Context>();
  shared->set("outer", *(*a)->macro("outer"));
  shared->set("inner", *(*b)->macro("inner"));
  Context model(shared);
  EXPECT_EQ(render(env, "{{ outer(21) }}", model), "[42]");
  auto direct = call_function(env, model, *(*a)->macro("outer"), CallArgs{{Value(1)}, {}});
  ASSERT_TRUE(direct.ok()) << direct.error().to_string();
  EXPECT_EQ(direct->to_string(), "[2]");
  EXPECT_FALSE((*a)->macro("missing").has_value());
}

TEST(JinjaHostApi, CustomMacroTagsForMaterializationsAndTests) {
  Environment env;
  CustomTag materialization;
  materialization.name = "materialization";
  materialization.macro_name = [](const TagHeader& h) -> Result<std::string> {
    std::string adapter = "default";
    for (const auto& a : h.args) adapter = a.to_string();
    for (const auto& [k, v] : h.kwargs)
      if (k == "adapter") adapter = v.to_string();
    return "materialization_" + h.name + "_" + adapter;
  };
  env.add_tag(materialization);
  CustomTag test;
  test.name = "test";
  test.macro_prefix = "test_";
  env.add_tag(test);
  auto t = env.parse(
      "{% materialization table, adapter='duckdb' %}create {{ this }}{{ return({'relations': [1]}) }}"
      "{% endmaterialization %}"
      "{% materialization view, default %}v{% endmaterialization %}"
      "{% test not_null(model, column_name) %}select * from {{ model }} where {{ column_name }} is null{% endtest %}"
      "{{ test_not_null('t', 'id') }}",
      "m.sql");
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ((*t)->macro_names(), (std::vector<std::string>{"materialization_table_duckdb",
                                                           "materialization_view_default", "test_not_null"}));
  ASSERT_EQ((*t)->custom_blocks().size(), 3u);
  EXPECT_EQ((*t)->custom_blocks()[2].header.params, (std::vector<std::string>{"model", "column_name"}));
  EXPECT_EQ(*(*t)->render({}), "select * from t where id is null");
  Context ctx;
  ctx.set("this", Value("x"));
  auto result = call_function(env, ctx, *(*t)->macro("materialization_table_duckdb"), {});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->repr(), "{'relations': [1]}");
}

TEST(JinjaHostApi, CustomBodyTagsForDocsAndSnapshots) {
  Environment env;
  CustomTag docs;
  docs.name = "docs";
  docs.kind = CustomTag::Kind::kRawBody;
  env.add_tag(docs);
  CustomTag snapshot;
  snapshot.name = "snapshot";
  snapshot.kind = CustomTag::Kind::kBody;
  env.add_tag(snapshot);
  auto t = env.parse("a{% docs orders %}The {{ raw }} {% if %} docs{% enddocs %}b"
                     "{% snapshot orders_snap %}select * from {{ src }}{% endsnapshot %}c",
                     "s.sql");
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ(*(*t)->render({}), "abc");
  const auto& blocks = (*t)->custom_blocks();
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].header.name, "orders");
  EXPECT_EQ(blocks[0].raw_body, "The {{ raw }} {% if %} docs");
  EXPECT_EQ(blocks[1].header.name, "orders_snap");
  ASSERT_TRUE(blocks[1].body);
  Context ctx;
  ctx.set("src", Value("raw.orders"));
  EXPECT_EQ(*blocks[1].body->render(ctx), "select * from raw.orders");
  EXPECT_NE(render(env, "{% docs x %}never closed").find("enddocs"), std::string::npos);
}

TEST(JinjaHostApi, LoaderIncludeImportAndModules) {
  Environment env;
  env.set_loader(std::make_shared<MapLoader>(std::unordered_map<std::string, std::string>{
      {"helpers.sql", "{% macro hi(n) %}hi {{ n }}{% endmacro %}{% set version = 3 %}"},
      {"part.sql", "<{{ who }}>"}}));
  Context ctx;
  ctx.set("who", Value("me"));
  EXPECT_EQ(render(env, "{% include 'part.sql' %}{% import 'helpers.sql' as h %}{{ h.hi(1) }} {{ h.version }}", ctx),
            "<me>hi 1 3");
  EXPECT_EQ(render(env, "{% from 'helpers.sql' import hi as greet %}{{ greet(2) }}"), "hi 2");
  EXPECT_NE(render(env, "{% include 'missing.sql' %}").find("not found"), std::string::npos);
  auto helpers = env.get_template("helpers.sql");
  ASSERT_TRUE(helpers.ok());
  auto module = (*helpers)->make_module({});
  ASSERT_TRUE(module.ok());
  EXPECT_EQ(module->exports.find("version")->as_int(), 3);
  EXPECT_TRUE(module->exports.find("hi")->is_callable());
}

TEST(JinjaHostApi, ImportedMacrosKeepTheirModuleAndCallSiblings) {
  Environment env;
  env.set_loader(std::make_shared<MapLoader>(std::unordered_map<std::string, std::string>{
      {"m.sql", "{% set suffix = '!' %}{% macro inner(x) %}<{{ x }}{{ suffix }}>{% endmacro %}"
                "{% macro outer(x) %}{{ inner(x) }}{% endmacro %}"}}));
  auto m = env.get_template("m.sql");
  ASSERT_TRUE(m.ok());
  auto module = (*m)->make_module({});
  ASSERT_TRUE(module.ok());
  Context ctx;
  ctx.set("m", module->as_value());
  m->reset();  // the module alone keeps what its macros need
  EXPECT_EQ(render(env, "{{ m.outer(1) }}", ctx), "<1!>");
  EXPECT_EQ(render(env, "{% from 'm.sql' import outer %}{{ outer(2) }}"), "<2!>");
}

TEST(JinjaHostApi, AnEnvironmentWithMacroGlobalsIsFreedWhenDestroyed) {
  std::weak_ptr<EnvironmentState> state;
  {
    Environment env;
    state = env.state();
    auto t = env.parse("{% macro hi() %}hi{% endmacro %}", "macros.sql");
    ASSERT_TRUE(t.ok());
    auto hi = (*t)->macro("hi");
    ASSERT_TRUE(hi.has_value());
    env.add_global("hi", *hi);
    EXPECT_EQ(render(env, "{{ hi() }}"), "hi");
  }  // the owning environment drops its globals: macro -> template -> state no longer holds
  EXPECT_TRUE(state.expired());
}

TEST(JinjaHostApi, ValuesConvertFromJsonAndKeepDictOrder) {
  auto ctx = Context::from_json(nlohmann::ordered_json::parse(R"({"z": 1, "a": [true, null, 2.5, "s"], "m": {"b": 1, "a": 2}})"));
  ASSERT_TRUE(ctx.ok());
  EXPECT_EQ(render("{{ a }} {{ m }} {{ m|list }}", *ctx), "[True, None, 2.5, 's'] {'b': 1, 'a': 2} ['b', 'a']");
  EXPECT_FALSE(Context::from_json(nlohmann::json::array()).ok());
  Dict d;
  d.set(Value(1), Value("int key"));
  d.set(Value::tuple({Value(1), Value(2)}), Value("tuple key"));
  EXPECT_EQ(d.find(Value(1.0))->as_string(), "int key");
  EXPECT_EQ(d.find(Value::tuple({Value(1), Value(2)}))->as_string(), "tuple key");
}

TEST(JinjaHostApi, OneTemplateRendersConcurrentlyOnManyThreads) {
  Environment env;
  env.add_function("double", [](CallArgs& args, CallContext&) -> Result<Value> {
    return Value(args.positional.at(0).as_int() * 2);
  });
  auto t = env.parse("{% macro m(x) %}{{ double(x) }}{% endmacro %}{% for i in range(n) %}{{ m(i) }},{% endfor %}");
  ASSERT_TRUE(t.ok());
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int k = 0; k < 8; ++k) {
    threads.emplace_back([&, k] {
      for (int round = 0; round < 200; ++round) {
        Context ctx;
        int n = (k + round) % 7;
        ctx.set("n", Value(n));
        std::string want;
        for (int i = 0; i < n; ++i) want += std::to_string(i * 2) + ",";
        auto out = (*t)->render(ctx);
        if (!out.ok() || *out != want) ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches.load(), 0);
}

}  // namespace
}  // namespace strata::jinja

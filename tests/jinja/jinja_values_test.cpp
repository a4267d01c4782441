// Unit tests for value semantics the evaluator's fast paths rely on: dict lookups (small and
// indexed), methods versus keys, loop counters, the inline default filter, Unicode case mapping.
#include "jinja/value.h"
#include "jinja_test_util.h"

namespace strata::jinja {
namespace {

using testing::render;

TEST(JinjaValues, DictFindsKeysOfEveryKindSmallAndLarge) {
  for (int n : {3, 8, 9, 100}) {
    Dict d;
    for (int i = 0; i < n; ++i) d.set(Value("k" + std::to_string(i)), Value(i));
    d.set(Value(std::int64_t{7}), Value("seven"));
    d.set(Value::none(), Value("none"));
    ASSERT_EQ(d.size(), static_cast<std::size_t>(n + 2));
    for (int i = 0; i < n; ++i) {
      const Value* v = d.find("k" + std::to_string(i));
      ASSERT_NE(v, nullptr) << n << " " << i;
      EXPECT_EQ(v->as_int(), i);
    }
    EXPECT_EQ(d.find("missing"), nullptr);
    EXPECT_EQ(d.find(Value(7.0))->as_string(), "seven");  // 7 == 7.0, same hash
    EXPECT_EQ(d.find(Value::none())->as_string(), "none");
    EXPECT_EQ(d.find(Value(ValueList{})), nullptr);  // unhashable: never a key
    EXPECT_TRUE(d.erase(Value("k0")));
    EXPECT_FALSE(d.erase(Value("k0")));
    EXPECT_EQ(d.find("k0"), nullptr);
    if (n > 1) {
      EXPECT_EQ(d.find("k1")->as_int(), 1);  // still found after the index is rebuilt
    }
    d.set(Value("k1"), Value("replaced"));
    EXPECT_EQ(d.entries().front().first.as_string(), n > 1 ? "k1" : "k0");  // keeps its position
  }
}

TEST(JinjaValues, EmptyStringsNeedNoStorage) {
  Value a{std::string()};
  Value b("");
  EXPECT_TRUE(a.is_string());
  EXPECT_EQ(a.as_string(), "");
  EXPECT_TRUE(a.equals(b));
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_FALSE(a.truthy());
  EXPECT_EQ(render("[{{ '' }}{{ '' ~ 'a' }}{{ {'': 1}[''] }}]"), "[a1]");
}

TEST(JinjaValues, DictMethodsWinOverKeysForAttributes) {
  EXPECT_EQ(render("{% set d = {'items': 1, 'x': 2} %}{{ d['items'] }} {{ d.x }} {{ d.items() | list }}"),
            "1 2 [('items', 1), ('x', 2)]");
  EXPECT_EQ(render("{% set d = {'get': 5} %}{{ d.get('get') }}"), "5");
}

TEST(JinjaValues, LoopCountersInNestedAndCapturedLoops) {
  EXPECT_EQ(render("{% for a in [1, 2] %}{% set outer = loop %}{% for b in 'xyz' %}"
                   "{{ outer.index }}{{ loop.index }}{{ loop.revindex0 }}{{ loop.last }} {% endfor %}"
                   "{{ loop.last }}|{% endfor %}"),
            "112False 121False 130True False|212False 221False 230True True|");
  EXPECT_EQ(render("{% for x in range(5) if x is odd %}{{ loop.index }}/{{ loop.length }} {% endfor %}"), "1/2 2/2 ");
}

TEST(JinjaValues, AssigningLoopInsideAForIsAnError) {
  EXPECT_NE(render("{% for x in [1] %}{% set loop = 2 %}{% endfor %}").find("special loop variable"),
            std::string::npos);
  EXPECT_NE(render("{% for loop in [1] %}{% endfor %}").find("special loop variable"), std::string::npos);
  EXPECT_EQ(render("{% set loop = 3 %}{{ loop }}"), "3");
}

TEST(JinjaValues, DefaultFilterInlineAndThroughTheCall) {
  Context ctx;
  Dict col;
  col.set("name", Value("id"));
  ctx.set("col", Value(std::move(col)));
  EXPECT_EQ(render("{{ col.alias | default(col.name) }} {{ col.name | d('x') }} [{{ col.nope | default }}]", ctx),
            "id id []");
  EXPECT_EQ(render("{{ '' | default('e', true) }} {{ '' | default('e') }}|{{ none | default(1, boolean=true) }}"),
            "e |1");
  // An argument that fails fails even when the input is defined (as Jinja2 evaluates it).
  EXPECT_NE(render("{{ 1 | default(nothing.attr) }}").find("ERROR"), std::string::npos);
  Environment strict({.undefined = UndefinedMode::kStrict});
  EXPECT_EQ(render(strict, "{{ missing | default('ok') }}"), "ok");
}

TEST(JinjaValues, UnicodeCaseMappingLikePython) {
  EXPECT_EQ(render("{{ 'Élan Straße'.lower() }}|{{ 'élan straße'.upper() }}|{{ 'ÀbÇ'.swapcase() }}"),
            "élan straße|ÉLAN STRASSE|àBç");
  EXPECT_EQ(render("{{ 'привет мир' | title }}|{{ 'ÉCOLE' | capitalize }}|{{ 'straße' .title() }}"),
            "Привет Мир|École|Straße");
  EXPECT_EQ(render("{{ 'é' is lower }} {{ 'É' is upper }} {{ 'ß'.islower() }} {{ '日本' is lower }}"),
            "True True True False");
  // Bytes that are not UTF-8 pass through unchanged.
  Context ctx;
  ctx.set("raw", Value(std::string("A\xff" "b")));
  EXPECT_EQ(render("{{ raw | lower }}", ctx), std::string("a\xff" "b"));
}

}  // namespace
}  // namespace strata::jinja

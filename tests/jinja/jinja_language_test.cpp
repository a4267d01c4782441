// Unit tests for the template language: literals, operators, statements, whitespace, scoping.
#include "jinja_test_util.h"

namespace strata::jinja {
namespace {

using testing::render;

TEST(JinjaLanguage, PrintsLiteralsLikePython) {
  EXPECT_EQ(render("{{ 'a' }}{{ \"b\" }}{{ 1 }}{{ 2.5 }}{{ true }}{{ none }}"), "ab12.5TrueNone");
  EXPECT_EQ(render("{{ [1, 'x', none] }} {{ (1,) }} {{ {'k': [1]} }}"), "[1, 'x', None] (1,) {'k': [1]}");
  EXPECT_EQ(render("{{ 1e20 }} {{ 0.1 + 0.2 }} {{ 4 / 2 }}"), "1e+20 0.30000000000000004 2.0");
}

TEST(JinjaLanguage, ArithmeticFollowsPython) {
  EXPECT_EQ(render("{{ -7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 'ab' * 2 }} {{ [1] + [2] }} {{ 1 ~ 'x' }}"),
            "-4 2 1024 abab [1, 2] 1x");
  EXPECT_NE(render("{{ 1 / 0 }}").find("ERROR"), std::string::npos);
  EXPECT_NE(render("{{ 9223372036854775807 + 1 }}").find("integer overflow"), std::string::npos);
}

TEST(JinjaLanguage, ComparisonsAndLogic) {
  EXPECT_EQ(render("{{ 1 < 2 < 3 }} {{ 1 == 1.0 }} {{ 'a' in 'cat' }} {{ 3 not in [1] }} {{ 0 or 'x' }}"),
            "True True True True x");
  EXPECT_EQ(render("{{ 'y' if 0 else 'n' }}[{{ 'z' if false }}]"), "n[]");
}

TEST(JinjaLanguage, ForLoopVariablesAndElse) {
  EXPECT_EQ(render("{% for x in 'ab' %}{{ loop.index }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{% endfor %}"),
            "1TrueFalse22FalseTrue2");
  EXPECT_EQ(render("{% for x in [] %}x{% else %}none{% endfor %}"), "none");
  EXPECT_EQ(render("{% for k, v in {'a': 1}.items() %}{{ k }}{{ v }}{% endfor %}"), "a1");
  EXPECT_EQ(render("{% for x in range(9) %}{% if x > 2 %}{% break %}{% endif %}{{ x }}{% endfor %}"), "012");
  EXPECT_EQ(render("{% for x in range(3) %}{{ loop.cycle('a', 'b') }}{% endfor %}"), "aba");
}

TEST(JinjaLanguage, LoopBodyScopeDoesNotLeak) {
  EXPECT_EQ(render("{% set c = 0 %}{% for i in [1, 2] %}{% set c = c + i %}{{ c }}{% endfor %}{{ c }}"), "120");
  EXPECT_EQ(render("{% set ns = namespace(c=0) %}{% for i in [1, 2] %}{% set ns.c = ns.c + i %}{% endfor %}{{ ns.c }}"),
            "3");
}

TEST(JinjaLanguage, SetBlockFilterAndWith) {
  EXPECT_EQ(render("{% set x | upper %}hi {{ 1 }}{% endset %}{{ x }}"), "HI 1");
  EXPECT_EQ(render("{% filter upper %}ab{% endfilter %}"), "AB");
  EXPECT_EQ(render("{% with a = 2 %}{{ a * 2 }}{% endwith %}[{{ a }}]"), "4[]");
  EXPECT_EQ(render("{% set l = [] %}{% do l.append(1) %}{{ l }}"), "[1]");
}

TEST(JinjaLanguage, MacrosWithDefaultsVarargsKwargsAndCaller) {
  EXPECT_EQ(render("{% macro m(a, b=2) %}{{ a }}{{ b }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1) }}|{{ m(1, 3, 4, k=5) }}"),
            "12(){}|13(4,){'k': 5}");
  EXPECT_EQ(render("{% macro w() %}<{{ caller() }}>{% endmacro %}{% call w() %}in{% endcall %}"), "<in>");
  EXPECT_EQ(render("{% macro e(l) %}{% for i in l %}{{ caller(i) }}{% endfor %}{% endmacro %}"
                   "{% call(x) e([1, 2]) %}[{{ x }}]{% endcall %}"),
            "[1][2]");
  EXPECT_NE(render("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}").find("takes not more than 1 argument"),
            std::string::npos);
}

TEST(JinjaLanguage, WhitespaceControl) {
  EXPECT_EQ(render("a  {{- 'b' -}}  c"), "abc");
  EXPECT_EQ(render("{% if true %}\nx\n{% endif %}\n"), "\nx\n");
  Options trim;
  trim.trim_blocks = true;
  trim.lstrip_blocks = true;
  Environment env(trim);
  EXPECT_EQ(render(env, "<a>\n  {% if true %}\n  x\n  {% endif %}\n</a>"), "<a>\n  x\n</a>");
  EXPECT_EQ(render("{% raw %}{{ keep }}{% endraw %}"), "{{ keep }}");
}

TEST(JinjaLanguage, UndefinedLenientAndStrict) {
  EXPECT_EQ(render("[{{ nope }}][{{ nope is defined }}][{{ nope | default('d') }}]"), "[][False][d]");
  Options strict;
  strict.undefined = UndefinedMode::kStrict;
  Environment env(strict);
  EXPECT_EQ(render(env, "{{ nope }}"), "ERROR: t.sql:1:4: error: 'nope' is undefined");
  EXPECT_EQ(render(env, "{{ nope is defined }}{{ nope | default(1) }}"), "False1");
  EXPECT_NE(render("{{ nope.attr }}").find("'nope' is undefined"), std::string::npos);
}

TEST(JinjaLanguage, SyntaxErrorsCarryNameLineAndColumn) {
  EXPECT_EQ(render("line1\n{% if x %}\nnever closed"),
            "ERROR: t.sql:3:13: error: Unexpected end of template. Jinja was looking for the following tags: 'elif', "
            "'else' or 'endif'. The innermost block that needs to be closed is 'if'.");
  EXPECT_EQ(render("{% frob %}"), "ERROR: t.sql:1:4: error: Encountered unknown tag 'frob'.");
  EXPECT_EQ(render("{{ 1 + }}"), "ERROR: t.sql:1:8: error: unexpected 'end of print statement'");
  EXPECT_EQ(render("ab\n  {{ x.y() }}"), "ERROR: t.sql:2:6: error: 'x' is undefined");
}

TEST(JinjaLanguage, DeepNestingIsAnErrorNotACrash) {
  std::string deep = std::string(5000, '(') + "1" + std::string(5000, ')');
  EXPECT_NE(render("{{ " + deep + " }}").find("nesting too deep"), std::string::npos);
  EXPECT_NE(render("{{ " + std::string(5000, '[') + " }}").find("ERROR"), std::string::npos);
  std::string ifs;
  for (int i = 0; i < 2000; ++i) ifs += "{% if true %}";
  EXPECT_NE(render(ifs).find("ERROR"), std::string::npos);
  // Endless recursion stops at the depth limit, or first at the stack budget where frames are
  // larger (a sanitizer build).
  std::string endless = render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}");
  EXPECT_TRUE(endless.find("maximum recursion depth") != std::string::npos ||
              endless.find("stack limit reached") != std::string::npos)
      << endless;
}

TEST(JinjaLanguage, PythonStringListDictMethods) {
  EXPECT_EQ(render("{{ 'a,b'.split(',') }} {{ ' x '.strip() }} {{ '{}-{name}'.format(1, name='n') }} {{ '7'.zfill(3) }}"),
            "['a', 'b'] x 1-n 007");
  EXPECT_EQ(render("{% set l = [3, 1] %}{% do l.extend([2]) %}{% do l.sort() %}{{ l }} {{ l.pop() }} {{ l.index(1) }}"),
            "[1, 2, 3] 3 0");
  EXPECT_EQ(render("{% set d = {'a': 1} %}{% do d.update({'b': 2}) %}{{ d.get('b') }}{{ d.get('z', 0) }}"
                   "{{ d.setdefault('c', 3) }}{{ d.pop('a') }}{{ d.keys()|list }}"),
            "2031['b', 'c']");
}

TEST(JinjaLanguage, FiltersAndTests) {
  EXPECT_EQ(render("{{ [3, 1, 2]|sort|join(',') }} {{ 'ab'|upper }} {{ [1, 2]|map('string')|join }} {{ 2.567|round(2) }}"),
            "1,2,3 AB 12 2.57");
  EXPECT_EQ(render("{{ {'b': 1, 'a': [1, 'x<']}|tojson }}"), "{\"a\": [1, \"x\\u003c\"], \"b\": 1}");
  EXPECT_EQ(render("{{ 4 is even }}{{ 3 is divisibleby 3 }}{{ 'a' is string }}{{ none is none }}"), "TrueTrueTrueTrue");
  EXPECT_EQ(render("{{ 1|nope }}"), "ERROR: t.sql:1:6: error: No filter named 'nope'.");
}

TEST(JinjaLanguage, HugeExpressionsAndDeepRecursionAreErrors) {
  std::string chain = "1";
  for (int i = 0; i < 5000; ++i) chain += " + 1";
  EXPECT_NE(render("{{ " + chain + " }}").find("too deeply nested"), std::string::npos);
  std::string attrs = "x";
  for (int i = 0; i < 3000; ++i) attrs += ".a";
  EXPECT_NE(render("{{ " + attrs + " }}").find("too deeply nested"), std::string::npos);
  std::string nested_ifs, closes;
  for (int i = 0; i < 200; ++i) {
    nested_ifs += "{% if true %}";
    closes += "{% endif %}";
  }
  EXPECT_NE(render("{% macro f(n) %}" + nested_ifs + "{{ f(n + 1) }}" + closes + "{% endmacro %}{{ f(0) }}").find("ERROR"),
            std::string::npos);
}

}  // namespace
}  // namespace strata::jinja

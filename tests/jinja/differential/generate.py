"""Generated differential cases: operators over many value kinds, filters and tests over many
inputs, str/list/dict methods, loops and whitespace control. Deterministic (fixed seed)."""
import random

VALUES = ["0", "1", "-3", "7", "2.5", "-0.5", "true", "false", "none", "'ab'", "''", "'x y'",
          "[1, 2]", "[]", "(3,)", "{'k': 1}", "10", "3.0", "'7'", "[1, 'a']"]
BINOPS = ["+", "-", "*", "/", "//", "%", "**", "~", "==", "!=", "<", "<=", ">", ">=", "in", "not in",
          "and", "or"]

FILTER_INPUTS = ["'Hello World'", "'  padded  '", "'a-b c(d'", "[3, 1, 2]", "['b', 'A', 'c', 'a']",
                 "[1.5, 2, -3]", "{'b': 2, 'a': 1, 'C': 3}", "''", "[]", "42", "-7.25", "'<b>x</b> &amp; y'",
                 "[{'n': 'x', 'v': 2}, {'n': 'y', 'v': 1}, {'n': 'x', 'v': 3}]", "'one two  three'",
                 "'3.75'", "'12'", "'abc'", "none", "true"]
FILTERS = ["abs", "capitalize", "center(12)", "default('d')", "dictsort", "dictsort(by='value')",
           "dictsort(reverse=true)", "escape", "first", "float", "format", "int", "join(',')", "join",
           "last", "length", "count", "list", "lower", "upper", "max", "min", "replace('o', '0')",
           "reverse|list", "round", "round(1)", "round(1, 'floor')", "round(0, 'ceil')", "safe", "sort",
           "sort(reverse=true)", "sort(case_sensitive=true)", "string", "striptags", "sum", "title", "tojson",
           "trim", "truncate(9)", "truncate(9, true)", "unique|list", "urlencode", "wordcount", "batch(2)|list",
           "slice(2)|list", "items|list", "map('string')|list", "select|list", "reject|list",
           "select('odd')|list", "reject('string')|list", "indent(2)", "indent(2, true)", "attr('x')",
           "map(attribute='n')|list", "selectattr('v', 'gt', 1)|list", "rejectattr('v', 'even')|list",
           "groupby('n')|list", "sort(attribute='v')", "sum(attribute='v')", "max(attribute='v')",
           "unique(attribute='n')|list", "tojson(2)", "first|upper", "d('none')", "default(1, true)"]

TESTS = ["defined", "undefined", "none", "number", "string", "mapping", "iterable", "sequence", "boolean",
         "integer", "float", "even", "odd", "divisibleby(3)", "divisibleby 2", "eq(1)", "ne 1", "lt(5)",
         "le 2", "gt(0)", "ge(7)", "in([1, 2, 3])", "lower", "upper", "callable", "sameas(none)", "true",
         "false"]
TEST_INPUTS = ["0", "1", "7", "2.5", "-4", "'ab'", "'AB'", "''", "[1]", "{'a': 1}", "none", "true", "false",
               "undefined_name", "range", "6"]

STR_METHODS = ["split()", "split(',')", "split(',', 1)", "rsplit(',', 1)", "strip()", "strip('x')", "lstrip()",
               "rstrip()", "replace('a', 'b')", "replace('a', 'b', 1)", "lower()", "upper()", "title()",
               "capitalize()", "startswith('a')", "endswith('c')", "startswith(('x', 'a'))", "find('b')",
               "rfind('a')", "count('a')", "isdigit()", "isalpha()", "zfill(8)", "center(9, '*')",
               "ljust(7, '.')", "rjust(7)", "splitlines()", "partition(',')", "swapcase()", "islower()",
               "isupper()", "isspace()", "isalnum()", "join(['1', '2'])", "format(1, 2)"]
STR_INPUTS = ["'a,b,c'", "'  abc  '", "'xxaxx'", "'Hello world'", "'123'", "'abc'", "'a\\nb'",
              "'{} and {}'", "'ABC'", "''"]

LIST_SNIPPETS = [
    "{% set l = [3, 1, 2] %}{% do l.append(4) %}{{ l }}",
    "{% set l = [3, 1, 2] %}{% do l.extend([5, 6]) %}{{ l }}",
    "{% set l = [3, 1, 2] %}{% do l.insert(1, 'x') %}{{ l }}",
    "{% set l = [3, 1, 2] %}{{ l.pop() }}{{ l }}",
    "{% set l = [3, 1, 2] %}{{ l.pop(0) }}{{ l }}",
    "{% set l = [3, 1, 2, 1] %}{{ l.index(1) }} {{ l.count(1) }}",
    "{% set l = [3, 1, 2] %}{% do l.sort() %}{{ l }}",
    "{% set l = [3, 1, 2] %}{% do l.reverse() %}{{ l }}",
    "{% set l = [3, 1, 2] %}{% do l.remove(1) %}{{ l }}",
    "{% set d = {'a': 1} %}{{ d.get('a') }} {{ d.get('b') }} {{ d.get('b', 5) }}",
    "{% set d = {'a': 1, 'b': 2} %}{{ d.items()|list }} {{ d.keys()|list }} {{ d.values()|list }}",
    "{% set d = {'a': 1} %}{% do d.update({'b': 2}) %}{{ d }}",
    "{% set d = {'a': 1} %}{% do d.update(c=3) %}{{ d }}",
    "{% set d = {'a': 1, 'b': 2} %}{{ d.pop('a') }}{{ d }}",
    "{% set d = {'a': 1} %}{{ d.pop('z', 9) }}{{ d }}",
    "{% set d = {'a': 1} %}{{ d.setdefault('a', 5) }}{{ d.setdefault('b', 7) }}{{ d }}",
    "{% set d = {'a': 1} %}{% for k, v in d.items() %}{{ k }}={{ v }}{% endfor %}",
    "{% set t = (1, 2, 2) %}{{ t.count(2) }}{{ t.index(2) }}",
]

FRAGMENTS = ["{% if x %}", "{%- if x %}", "{% if x -%}", "{%- if not x -%}", "{{ x }}", "{{- x }}",
             "{{ x -}}", "{# c #}", "{#- c -#}", "{% for i in l %}", "{%- for i in l -%}", "{{ i }}",
             "{% raw %}{{ r }}{% endraw %}", "{% set y = 2 %}", "{{ y }}"]
TEXTS = ["", " ", "\n", "  \n", "a", " b \n", "\n  ", "\t", "c\n\n", "  d  "]


def literal_cases(rng):
    out = []
    pairs = [(a, op, b) for a in VALUES for op in BINOPS for b in VALUES]
    rng.shuffle(pairs)
    for i, (a, op, b) in enumerate(pairs[:320]):
        out.append({"name": f"gen-op-{i}", "template": "{{ " + f"{a} {op} {b}" + " }}"})
    for i, v in enumerate(VALUES):
        out.append({"name": f"gen-print-{i}", "template": "{{ " + v + " }}|{{ -" + v + " if " + v +
                    " is number else 'n' }}|{{ not " + v + " }}|{{ " + v + " ~ '' }}"})
    return out


def filter_cases(rng):
    pairs = [(i, f) for i in FILTER_INPUTS for f in FILTERS]
    rng.shuffle(pairs)
    return [{"name": f"gen-filter-{n}", "template": "{{ (" + i + ")|" + f + " }}"} for n, (i, f) in enumerate(pairs[:330])]


def test_cases(rng):
    pairs = [(i, t) for i in TEST_INPUTS for t in TESTS]
    rng.shuffle(pairs)
    out = []
    for n, (i, t) in enumerate(pairs[:160]):
        out.append({"name": f"gen-test-{n}", "template": "{{ " + i + " is " + t + " }}/{{ " + i + " is not " + t + " }}"})
    return out


def method_cases():
    out = []
    n = 0
    for s in STR_INPUTS:
        for m in STR_METHODS:
            out.append({"name": f"gen-str-{n}", "template": "{{ " + s + "." + m + " }}"})
            n += 1
    for i, snippet in enumerate(LIST_SNIPPETS):
        out.append({"name": f"gen-coll-{i}", "template": snippet})
    return out


def whitespace_cases(rng):
    out = []
    for n in range(160):
        parts = []
        opens = []
        for _ in range(rng.randint(2, 7)):
            parts.append(rng.choice(TEXTS))
            frag = rng.choice(FRAGMENTS)
            if "if" in frag:
                opens.append(rng.choice(["{% endif %}", "{%- endif %}", "{% endif -%}"]))
            if "for" in frag:
                opens.append(rng.choice(["{% endfor %}", "{%- endfor -%}", "{% endfor %}"]))
            parts.append(frag)
            parts.append(rng.choice(TEXTS))
        while opens:
            parts.append(rng.choice(TEXTS))
            parts.append(opens.pop())
        parts.append(rng.choice(TEXTS))
        options = rng.choice([[], ["trim_blocks"], ["lstrip_blocks"], ["trim_blocks", "lstrip_blocks"],
                              ["keep_trailing_newline"]])
        ctx = {"x": rng.choice([True, False, "v", 0]), "l": rng.choice([[1, 2], [], ["a"]])}
        out.append({"name": f"gen-ws-{n}", "template": "".join(parts), "context": ctx, "options": options})
    return out


UNICODE_INPUTS = ["'Élan ça VA'", "'straße ÄÖÜ'", "'Привет, МИР'", "'ελληνικά Γράμματα'", "'mIxEd ñandú-éclair'",
                  "'日本語 abc'", "'İstanbul ǅ'"]
CASE_OPS = [".lower()", ".upper()", ".title()", ".capitalize()", ".swapcase()", ".islower()", ".isupper()",
            "|lower", "|upper", "|title", "|capitalize", " is lower", " is upper"]
ACCESS_SNIPPETS = [
    "{% set d = {'items': 1, 'get': 2, 'n': 3} %}{{ d['items'] }} {{ d.n }} {{ d.get('n') }} {{ d.items()|list }}",
    "{% set d = {'values': [1], 'keys': 'k'} %}{{ d.values()|list }} {{ d['keys'] }} {{ d|length }}",
    "{% set d = {'update': 1} %}{% do d.update({'x': 2}) %}{{ d }}",
]


def unicode_and_access_cases():
    out = []
    for n, (s, op) in enumerate((s, op) for s in UNICODE_INPUTS for op in CASE_OPS):
        out.append({"name": f"gen-case-{n}", "template": "{{ " + s + op + " }}"})
    for n, snippet in enumerate(ACCESS_SNIPPETS):
        out.append({"name": f"gen-access-{n}", "template": snippet})
    # loop counters over lengths 0..3, nested, with a filter and with `else`
    for length in range(4):
        out.append({"name": f"gen-loop-{length}", "template":
                    "{% for x in range(" + str(length) + ") %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}"
                    "{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}"
                    "{% for y in range(2) if y >= x %}<{{ loop.index }}/{{ loop.length }}>{% else %}-{% endfor %}"
                    "{% if not loop.last %},{% endif %}{% else %}empty{% endfor %}"})
    return out


def cases():
    rng = random.Random(20261128)
    generated = literal_cases(rng) + filter_cases(rng) + test_cases(rng) + method_cases() + whitespace_cases(rng)
    generated += unicode_and_access_cases()
    for c in generated:
        c.setdefault("context", {})
        c.setdefault("options", [])
        c.setdefault("loader", {})
    return generated

#!/usr/bin/python3
"""Reference renderings by python3-jinja2 for the differential corpus.

Reads the hand-written cases (cases.txt) and the generated ones (generate.py), renders each with
Jinja2 and prints one JSON object per line: name, template, context, options, loader and either
"out" (the rendering) or "error" (the exception class). Cases whose Jinja2 output is not
deterministic (object addresses) are dropped. Run with /usr/bin/python3 (Debian's jinja2).
"""
import json
import os
import sys

import jinja2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_cases(path):
    """cases.txt: a case starts with '### name | context-json | options | loader-json'."""
    cases = []
    current = None
    with open(path, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            if line.startswith("### "):
                if current:
                    cases.append(current)
                fields = [p.strip() for p in line[4:].split(" | ")]
                current = {
                    "name": fields[0],
                    "context": json.loads(fields[1]) if len(fields) > 1 and fields[1] else {},
                    "options": [o for o in fields[2].split(",") if o] if len(fields) > 2 else [],
                    "loader": json.loads(fields[3]) if len(fields) > 3 and fields[3] else {},
                    "lines": [],
                }
            elif current is not None:
                current["lines"].append(line)
    if current:
        cases.append(current)
    for c in cases:
        lines = c.pop("lines")
        while lines and lines[-1] == "":
            lines.pop()
        c["template"] = "\n".join(lines)
    return cases


def render(case):
    opts = case["options"]
    env = jinja2.Environment(
        extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
        trim_blocks="trim_blocks" in opts,
        lstrip_blocks="lstrip_blocks" in opts,
        keep_trailing_newline="keep_trailing_newline" in opts,
        undefined=jinja2.StrictUndefined if "strict" in opts else jinja2.Undefined,
        loader=jinja2.DictLoader(case.get("loader") or {}),
    )
    try:
        out = env.from_string(case["template"]).render(**case["context"])
        return {"out": out}
    except Exception as e:  # the class is what the C++ side is compared against
        return {"error": type(e).__name__, "message": str(e)}


def main():
    cases = parse_cases(os.path.join(HERE, "cases.txt")) + generate.cases()
    for case in cases:
        result = render(case)
        if "out" in result and " at 0x" in result["out"]:
            continue
        case.update(result)
        print(json.dumps(case, ensure_ascii=False))


if __name__ == "__main__":
    main()

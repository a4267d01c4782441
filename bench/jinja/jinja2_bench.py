"""The same benchmark with python3-jinja2: MODEL_FILE N -> prints templates/s."""
import sys
import time

import jinja2


def main():
    source = open(sys.argv[1]).read()
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    env = jinja2.Environment()
    env.globals.update(config=lambda **kw: "", ref=lambda name: '"main"."%s"' % name, is_incremental=lambda: True)
    tmpl = env.from_string(source)
    columns = [dict(name="column_%d" % i, **({"alias": "alias_%d" % i} if i % 3 == 0 else {})) for i in range(20)]
    ctx = {"columns": columns, "this": '"main"."orders"'}
    size = len(tmpl.render(**ctx))
    start = time.perf_counter()
    for _ in range(n):
        tmpl.render(**ctx)
    seconds = time.perf_counter() - start
    print("python jinja2: %d renders in %.3f s = %.0f templates/s (%d bytes each)" % (n, seconds, n / seconds, size))


if __name__ == "__main__":
    main()

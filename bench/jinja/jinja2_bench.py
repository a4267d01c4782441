"""The same benchmark with python3-jinja2: MODEL_FILE N -> prints templates/s (per CPU second)."""
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
    if n == 0:  # prints one rendering (bench/jinja/run compares it with Strata's)
        sys.stdout.write(tmpl.render(**ctx))
        return
    size = len(tmpl.render(**ctx))
    start = time.perf_counter()
    cpu_start = time.process_time()
    for _ in range(n):
        tmpl.render(**ctx)
    cpu = time.process_time() - cpu_start
    seconds = time.perf_counter() - start
    print("python jinja2: %d renders in %.3f s CPU (%.3f s wall) = %.0f templates/s (%d bytes each)"
          % (n, cpu, seconds, n / cpu, size))


if __name__ == "__main__":
    main()

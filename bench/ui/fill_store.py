#!/usr/bin/env python3
"""Fills a Strata SQLite metadata store (already created and migrated by the strata CLI) with RUNS
finished scheduled runs of PIPELINE, one task instance per task id, plus one attempt each.
Usage: fill_store.py DB PIPELINE RUNS TASKS_JSON
TASKS_JSON: [["task_id", "group"], ...]. One transaction; deterministic (seeded)."""
import json
import random
import sqlite3
import sys
from datetime import datetime, timezone


def main() -> None:
    db, pipeline, runs, tasks = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
    rng = random.Random(7)
    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous = OFF")
    hour = 3_600_000_000
    start = int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp()) * 1_000_000
    run_rows, ti_rows, attempt_rows = [], [], []
    for i in range(runs):
        logical = start + i * hour
        run_id = "scheduled__" + datetime.fromtimestamp(logical / 1e6, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        failed_at = rng.randrange(len(tasks)) if rng.random() < 0.05 else None
        t = logical + hour + 5_000_000
        run_start = t
        for j, (task_id, group) in enumerate(tasks):
            if failed_at is not None and j > failed_at:
                ti_rows.append((pipeline, run_id, task_id, group, "shell", "upstream_failed", 0, 1, 0, 0, 0, "default_pool", 1))
                continue
            state = "failed" if j == failed_at else "success"
            dur = rng.randrange(200_000, 20_000_000)
            ti_rows.append((pipeline, run_id, task_id, group, "shell", state, 1, 1, t, t + dur, 0, "default_pool", 1))
            attempt_rows.append((pipeline, run_id, task_id, 1, state, t, t + dur, "", 1 if state == "failed" else 0,
                                 "exit code 1" if state == "failed" else "", "bench"))
            t += dur
        run_rows.append((run_id, pipeline, "scheduled", "failed" if failed_at is not None else "success", logical,
                         logical, logical + hour, "{}", logical + hour, run_start, t, "bench"))
    with con:
        con.executemany("INSERT INTO runs (run_id, pipeline, run_type, state, logical_date, interval_start, interval_end, "
                        "params, queued_at, start_at, end_at, owner) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", run_rows)
        con.executemany("INSERT INTO task_instances (pipeline, run_id, task_id, task_group, kind, state, try_number, "
                        "max_tries, start_at, end_at, next_retry_at, pool, priority) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        ti_rows)
        con.executemany("INSERT INTO attempts (pipeline, run_id, task_id, try_number, state, start_at, end_at, log_path, "
                        "exit_code, error, owner) VALUES (?,?,?,?,?,?,?,?,?,?,?)", attempt_rows)
    con.close()
    print(f"filled {len(run_rows)} runs, {len(ti_rows)} task instances, {len(attempt_rows)} attempts")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Reference oracle for cron_dtest.cpp: runs python3-croniter on a batch of cases.

Usage: cron_oracle.py CASES.json RESULTS.json

Each case is {"expr", "tz", "start" (Unix seconds, may be fractional), "n", "prev" (bool)}, or
{"validate": expr}, answered with {"valid": croniter.is_valid(expr)}. For each
case croniter iterates from the aware start time (zoneinfo) and this script records the fire times
as Unix seconds, plus what the caller needs to skip croniter's known bugs (see cron_dtest.cpp):
  "lag_steps": steps at which croniter applied its DST "lag" adjustment,
  "stop": "backwards" when croniter returned a time not after (next) / not before (prev) the
          previous one, "nodate" when it found none within its 50-year window,
  "error": croniter rejected the expression.
"""
import datetime
import json
import sys
from zoneinfo import ZoneInfo

from croniter import croniter, CroniterBadDateError


def run_case(case):
    if "validate" in case:
        # is_valid itself can crash: croniter re-raises some ValueErrors through exec() in the
        # caller's frame, which ends in a NameError. Any exception means "rejected".
        try:
            croniter.expand(case["validate"])
            return {"valid": True}
        except Exception:  # pylint: disable=broad-except
            return {"valid": False}
    zone = ZoneInfo(case["tz"])
    start = datetime.datetime.fromtimestamp(case["start"], zone)
    result = {"times": [], "lag_steps": [], "stop": None}
    try:
        it = croniter(case["expr"], start)
    except Exception as exc:  # croniter's parse errors are several unrelated classes
        result["error"] = "%s: %s" % (type(exc).__name__, exc)
        return result
    last = case["start"]
    try:
        for step in range(case["n"]):
            before = it.dst_start_time
            fired = it.get_prev(datetime.datetime) if case["prev"] else it.get_next(datetime.datetime)
            stamp = fired.timestamp()
            if it.dst_start_time != before:
                result["lag_steps"].append(step)
            if (stamp >= last) if case["prev"] else (stamp <= last):
                result["stop"] = "backwards"
                break
            result["times"].append(int(stamp))
            last = stamp
    except CroniterBadDateError:
        result["stop"] = "nodate"
    return result


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cases = json.load(f)
    results = [run_case(case) for case in cases]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()

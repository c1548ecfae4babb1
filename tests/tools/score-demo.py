#!/usr/bin/env python3
"""Scores demo calls with the example inbound-order rubric so that reports have
something to show: each operator has a habit (one keeps quoting wrong prices,
one skips the read-back, ...), drawn from a seeded random generator.

usage: score-demo.py EARSHOT [--seed N]
"""
import json
import random
import subprocess
import sys
import tempfile

HABITS = {  # operator -> item they tend to fail, and how often
    "101": ("price-correct", 0.1),
    "102": ("price-correct", 0.7),
    "103": ("read-back", 0.6),
    "104": ("customer-type", 0.5),
}


def run(earshot, *args):
    return subprocess.run([earshot, *args], check=True, capture_output=True, text=True).stdout


def answers_for(op, rng):
    a = {"greeting": "yes", "customer-type": "yes", "needs-questions": rng.randint(3, 5),
         "price-correct": "yes", "specs-correct": rng.choice(["yes", "na"]),
         "stock-delivery": "yes", "read-back": "yes", "no-rudeness": "yes",
         "polite-close": rng.choice(["yes", "yes", "no"])}
    item, rate = HABITS.get(op, ("stock-delivery", 0.2))
    if rng.random() < rate:
        a[item] = "no"
    if rng.random() < 0.03:
        a["no-rudeness"] = "no"
    return a


def main():
    earshot = sys.argv[1]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 7
    rng = random.Random(seed)
    calls = [json.loads(l) for l in run(earshot, "ls", "--json").splitlines() if l.strip()]
    calls.sort(key=lambda c: c["id"])
    acked = set()
    n = 0
    for c in calls:
        if c.get("disposition", "answered") != "answered" or not c.get("operator"):
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            a = answers_for(c["operator"], rng)
            if "b2b" in c.get("tags", []):  # business calls have one more question
                a["b2b-terms"] = rng.choice(["yes", "yes", "no"])
            json.dump(a, f)
            f.flush()
            ev = run(earshot, "eval", "add", c["id"], "--rubric", "inbound-order",
                     "--reviewer", "supervisor", f.name).strip()
        n += 1
        if c["operator"] not in acked:  # the operator read their first feedback
            run(earshot, "eval", "ack", ev, "--by", c["operator"])
            acked.add(c["operator"])
    print(f"score-demo: {n} calls scored with inbound-order", file=sys.stderr)


if __name__ == "__main__":
    main()

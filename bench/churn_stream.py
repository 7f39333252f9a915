#!/usr/bin/env python3
"""A stream with customer turnover, for memory with eviction (bench/embedding.sh):
CUSTOMERS customers arrive evenly over DAYS days; each loads a profile, then
views, carts and orders within a day and is never seen again. Lines are in
time order."""
import json
import random
import sys

customers, days, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = random.Random(1)
start = 1717171200
lines = []
for c in range(customers):
    t = start + c * days * 86400 // customers
    lines.append((t, {"ts": t, "customer": f"u{c}", "type": "profile_load", "gender": "女", "age": 20 + c % 30,
                      "city": "杭州", "stage": "未购", "in_private": c % 3 == 0}))
    for k in range(4):
        t2 = t + rng.randrange(1, 86400)
        kind = ("view", "add_cart", "view", "order")[k]
        e = {"ts": t2, "customer": f"u{c}", "type": kind, "product": f"p{rng.randrange(50)}", "category": "护肤",
             "channel": "小程序", "city": "杭州"}
        if kind == "order":
            e.update(amount=f"{rng.randrange(50, 900)}.00", qty=1)
        lines.append((t2, e))
lines.sort(key=lambda x: x[0])
with open(out, "w", encoding="utf-8") as f:
    for _, e in lines:
        f.write(json.dumps(e, ensure_ascii=False) + "\n")

#!/usr/bin/env bash
# What identity costs in memory (D11, D12, issue 14): N persons who each order
# once on 有赞, run three ways on the same rules: orders without a phone (no
# keys), with a phone (one key each), and with a WeCom friend line that
# carries the same phone (one merge each: an alias, its index entry and the
# absorbed state's leftovers). Prints the peak resident memory of each and
# the bytes per key and per merged id.
#   bench/identity.sh [PERSONS] [ENGINE]     default 100000 jit
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
persons=${1:-100000}
engine=${2:-jit}
work=${QM_BENCH_DIR:-/tmp/qm-bench}/identity
qm=$root/build/cli/qm
mkdir -p "$work"
cat > "$work/rules.qm" <<'EOF2'
zone +08:00
event 有赞订单 { phone: text, amount: money }
event 加好友 { phone: text }
identity phone
profile { 积分: int = 0 merge sum }
rule 下单: when 有赞订单 then add 积分 10
rule 合并: when merged then tag 已合并
tag 已合并 "多个渠道的同一个人"
EOF2
python3 - "$persons" "$work" <<'PY'
import sys
n, work = int(sys.argv[1]), sys.argv[2]
start = 1704067200
with open(work + "/plain.jsonl", "w") as plain, open(work + "/keys.jsonl", "w") as keys, \
     open(work + "/merged.jsonl", "w") as merged:
    for i in range(n):
        ts = start + i
        plain.write('{"type":"有赞订单","customer":"yz_%d","ts":%d,"amount":10}\n' % (i, ts))
        order = '{"type":"有赞订单","customer":"yz_%d","ts":%d,"phone":"139%08d","amount":10}\n' % (i, ts, i)
        keys.write(order)
        merged.write(order)
    for i in range(n):
        ts = start + n + i
        line = '{"type":"加好友","customer":"wx_%d","ts":%d,"phone":"139%08d"}\n' % (i, ts, i)
        merged.write(line)
        keys.write('{"type":"加好友","customer":"yz_%d","ts":%d,"phone":"139%08d"}\n' % (i, ts, i))
        plain.write('{"type":"加好友","customer":"yz_%d","ts":%d}\n' % (i, ts))
PY
peak() { /usr/bin/time -f %M "$qm" run "$work/rules.qm" --events "$work/$1.jsonl" --engine "$engine" --out /dev/null \
  --rejects /dev/null 2>&1 >/dev/null | tail -1; }
plain=$(peak plain) keys=$(peak keys) merged=$(peak merged)
echo "$persons persons ($engine): peak $((plain / 1024)) MB without keys, $((keys / 1024)) MB with a key each," \
  "$((merged / 1024)) MB with a merged id each;" \
  "$(( (keys - plain) * 1024 / persons )) bytes per key, $(( (merged - keys) * 1024 / persons )) bytes per merged id"

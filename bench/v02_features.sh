#!/usr/bin/env bash
# What each v0.2 feature costs on the reference workload (issue 11): peers20.qm
# alone against peers20.qm plus one rule file using the feature, run
# alternately ROUNDS times so that the machine's noise hits both alike; prints
# the median events/s of each and the ratio. Then, with every feature at once,
# the resident memory and the state directory per customer against peers20
# alone.
#   bench/v02_features.sh [EVENTS] [ROUNDS] [ENGINE]     default 1000000 3 jit
# ROUNDS=0 measures only the memory and the state directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
events=${1:-1000000}
rounds=${2:-3}
engine=${3:-jit}
. "$root/bench/lib.sh"
features=$work/v02
mkdir -p "$features"

# One file per feature, over peers20's events; names stay clear of its own.
cat > "$features/clock.qm" <<'EOF'
zone +08:00
rule 夜间浏览: when view and hour(ts) >= 22 and weekday(ts) in (6, 7) then push 周末夜间推荐
EOF
cat > "$features/calendar.qm" <<'EOF'
rule 本月三单: when order and count(order within this month) >= 3 then push 本月三单礼
EOF
cat > "$features/distinct.qm" <<'EOF'
rule 多品类: when view and count(distinct view.category within 7d) >= 3 then push 多品类推荐
EOF
cat > "$features/caps_quiet.qm" <<'EOF'
cap push 2 per 7d
cap push 1 per 1d for (唤醒券, 复购提醒)
quiet push 22:00-08:00
quiet notify 00:00-06:00 drop
EOF
cat > "$features/placeholders.qm" <<'EOF'
rule 浏览推荐: when view then push "推荐-{category}" every 7d
EOF
cat > "$features/unless_where.qm" <<'EOF'
rule 加购提醒: when add_cart then after 1d push "加购提醒-{product}" unless order where amount >= 100
EOF
cat "$features/clock.qm" "$features/calendar.qm" "$features/distinct.qm" "$features/caps_quiet.qm" \
  "$features/placeholders.qm" "$features/unless_where.qm" > "$features/all.qm"

rate() { sed -n 's/.*(\([0-9]*\) events\/s).*/\1/p'; }
run() {  # run NAME [FLAGS...]: events/s of peers20 (+ NAME.qm unless NAME is "-")
  local name=$1; shift
  local files=("$shared/peers20.qm")
  [ "$name" != - ] && files+=("$features/$name.qm")
  "$qm" run "${files[@]}" --events "$stream" --engine "$engine" --out /dev/null --rejects /dev/null "$@" 2>&1 | rate
}

[ "$rounds" -gt 0 ] && printf '%-14s %12s %12s %7s\n' feature "peers20 ev/s" "+feature" ratio
for variant in clock calendar distinct caps_quiet placeholders unless_where lateness all; do
  [ "$rounds" -gt 0 ] || break
  base=() with=()
  for ((r = 0; r < rounds; r++)); do
    base+=("$(run -)")
    case $variant in
      lateness) with+=("$(run - --lateness 1h)") ;;
      all) with+=("$(run all --lateness 1h)") ;;
      *) with+=("$(run "$variant")") ;;
    esac
  done
  b=$(median "${base[@]}")
  w=$(median "${with[@]}")
  printf '%-14s %12s %12s %7s\n' "$variant" "$b" "$w" "$(awk "BEGIN{printf \"%.2f\", $w/$b}")"
done

# Memory: resident set over an empty run's, per customer; state: the
# directory after a durable run, per customer.
: > "$work/empty.jsonl"
customers=$(grep -c '"type":"profile_load"' "$stream")
for variant in - all; do
  files=("$shared/peers20.qm")
  flags=()
  [ "$variant" = all ] && files+=("$features/all.qm") && flags=(--lateness 1h)
  base_kb=$(/usr/bin/time -f %M "$qm" run "${files[@]}" --events "$work/empty.jsonl" --engine "$engine" \
    --out /dev/null 2>&1 >/dev/null | tail -1)
  rss_kb=$( { /usr/bin/time -f "%M" "$qm" run "${files[@]}" --events "$stream" --engine "$engine" \
    --out /dev/null --rejects /dev/null "${flags[@]}" > /dev/null; } 2>&1 | tail -1)
  rm -rf "$work/v02-state"
  "$qm" run "${files[@]}" --events "$stream" --engine "$engine" --out "$work/v02-a.jsonl" \
    --rejects "$work/v02-r.jsonl" --state "$work/v02-state" "${flags[@]}" > /dev/null 2>&1
  state_bytes=$(du -sb "$work/v02-state" | cut -f1)
  label=$([ "$variant" = - ] && echo "peers20" || echo "peers20 + all v0.2")
  echo "$label: memory $(( (rss_kb - base_kb) * 1024 / customers )) bytes/customer," \
    "state directory $(( state_bytes / customers )) bytes/customer ($customers customers)"
done

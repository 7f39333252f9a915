# Sourced by the benchmarks: makes the reference stream of ../shared/bench
# (EVENTS events plus a profile_load per customer) once, in $work, and sets
# $stream to its path. Needs $root, $shared, $work and $events.
stream=$work/stream-$events.jsonl
if [ ! -f "$stream" ]; then
  python3 "$shared/gen_events.py" --events "$events" --out-dir "$work/gen-$events" > /dev/null
  python3 "$shared/to_qm_stream.py" "$work/gen-$events/customers.jsonl" "$work/gen-$events/events.jsonl" "$stream"
fi

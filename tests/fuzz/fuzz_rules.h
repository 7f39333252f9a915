// The rule file the engine fuzz targets run: every value type, windowed and
// whole-history aggregates (avg of money among them), `no` and `after`
// timers with values, once-only and `every` pushes; v0.2: a rule zone, clock
// functions, calendar windows, distinct values, caps, quiet hours (deferred
// and dropped), placeholders, `unless … where`.
#ifndef QM_TESTS_FUZZ_FUZZ_RULES_H_
#define QM_TESTS_FUZZ_FUZZ_RULES_H_

#include <memory>

#include "compiler/program/program.h"

namespace qm::fuzz {

inline constexpr const char* kRules = R"(
enum 等级 { S, A, B }
event e { i: int, m: money, n: number, b: bool, t: text, g: 等级, at: time, d: duration }
profile {
  total: money
  n: number
  seen: time
  level: 等级
}
tag 高 "high"
rule 一: when e and m > 100 and count(e within 1h) >= 2 then add total e.m, tag 高, push 券 every 1h
rule 二: when e and t contains "x" or g in (S, A) then add profile.n e.n, set seen at
rule 三: when no e for 1h and has 高 then untag 高, after 1h notify 客服 "回访" unless e
rule 四: when tagged 高 and avg(e.m within 1d) > 99.995 then set total 1
rule 五: when e and avg(e.m) > 50 and sum(e.i) < 10 and since(e) > 1m then after 2h set level e.g, after 3h add total e.m
rule 六: when e and max(e.n within 7d) > min(e.n) and since(seen) < 1d then invite 群 every 1d
zone +09:00
cap push 2 per 1d
cap invite 1 per 7d for (群)
quiet push 22:00-08:00
quiet notify 01:00-05:00 drop
rule 七: when e and hour(ts) >= 20 and count(distinct e.t within this week) >= 2 and weekday(at) in (6, 7)
  then push "券-{t}-{g}" every 1h, notify "{level}" "{customer} {m} {at} {d} {{x}}"
rule 八: when e and count(distinct e.g where day(ts) < 15 within this month) > 1
  then after 1d12h push "晚-{total}" unless e where m > 10 or hour(ts) < 6
)";

// The compiled rules.
struct Rules {
  Compiled compiled = CompileText("fuzz.qm", kRules);
  const ir::Program* program = &compiled.program->ir();
};

}  // namespace qm::fuzz

#endif  // QM_TESTS_FUZZ_FUZZ_RULES_H_

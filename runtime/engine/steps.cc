// Steps: an accepted event, its aggregates, and the cascade of net changes (A27, A29, A30, A34-A36).
#include "runtime/engine/internal/impl.h"

#include "compiler/diag/diag.h"

#include <algorithm>

namespace qm::engine {

void Engine::Impl::Begin(CustomerState& s, const event::Event* e, int64_t now) {
  store_.Touch(s);
  step_.state = &s;
  step_.customer = s.id;
  step_.event = e;
  step_.now = now;
  prefix_customer_ = nullptr;  // the line prefix is cached per step only
}

void Engine::Impl::RunEvent(CustomerState& s, const event::Event& e, bool merged) {
  Save(s);
  int32_t type = e.type;
  if (observer_ != nullptr && !merged) [[unlikely]]  // a merge announced the survivor's step (Link)
    observer_->OnStep({Observer::StepKind::kEvent, *s.id, e.ts, line_number_, type});
  if (!s.seen) {
    s.seen = true;
    for (size_t q = 0; q < program_.quiet_rules.size(); ++q)  // A35: armed at the first event
      ArmQuiet(s, static_cast<int32_t>(q),
               e.ts + p_.rules[program_.quiet_rules[q]].trigger.duration_ms);
  }
  Begin(s, &e, e.ts);
  // E11: `customer` inside `where` is the id as written on the line.
  step_.customer = &e.customer;
  // A27: an accepted E before the due time cancels `after ... unless E`;
  // D7: with `where`, only when the event passes it.
  for (int32_t unless : {int32_t{check::kAnyEvent}, type}) {
    if (s.afters.empty()) break;
    state::PendingAfters& afters = s.afters.Make();
    auto it = afters.lower_bound(AfterOrder::Key{unless, 0});
    auto last = afters.lower_bound(AfterOrder::Key{unless + 1, 0});
    while (it != last) {
      int32_t filter = program_.unless_filter[it->rule][it->action];
      if (filter >= 0 && !evaluator_.Filter(filter, step_)) {
        ++it;
        continue;
      }
      Unqueue(TimerKey{it->due, s.id, &s, 1, it->seq});
      if (observer_ != nullptr) [[unlikely]] observer_->OnCancelled(it->rule, it->action, it->due);
      auto cancelled = it++;
      spare_afters_.push_back(afters.extract(cancelled));
    }
  }
  for (int32_t q : program_.rearmed_by_event[type])
    ArmQuiet(s, q, e.ts + p_.rules[program_.quiet_rules[q]].trigger.duration_ms);
  s.clock = std::max(s.clock, e.ts);
  AddToAggregates(s, e);
  step_.customer = s.id;
  std::vector<int32_t>& matched = matched_;
  matched.clear();
  evaluator_.MatchEvent(type, step_, matched);
  if (observer_ != nullptr) [[unlikely]] observer_->OnEvaluated(program_.rules_by_event[type], matched, step_);
  if (merged && !program_.merged_rules.empty()) {  // D12, E9: one set with the event's rules, in file order
    std::vector<int32_t> also;
    evaluator_.MatchRules(program_.merged_rules, step_, also);
    if (observer_ != nullptr) [[unlikely]] observer_->OnEvaluated(program_.merged_rules, also, step_);
    matched.insert(matched.end(), also.begin(), also.end());
    std::sort(matched.begin(), matched.end());
  }
  ChangeLog& log = log_;
  log.clear();
  for (int32_t r : matched) ApplyRule(r, log);
  Cascade(log);
  // A20: `since` excludes the current event for its whole step and cascade.
  s.last_event[type] = e.ts;
  s.last_any = e.ts;
}

void Engine::Impl::AddToAggregates(CustomerState& s, const event::Event& e) {
  for (int32_t a : program_.aggregates_by_event[e.type]) {
    const check::AggregateInfo& info = p_.aggregates[a];
    int32_t filter = program_.aggregate_filter[a];
    if (filter >= 0 && !evaluator_.Filter(filter, step_)) continue;
    int64_t i = 0;
    double d = 0;
    std::optional<std::string> value;
    if (info.field >= 0) {
      const Value& v = e.fields[info.field];
      if (v.unset()) continue;  // A19, D10: events without the value are skipped
      i = v.i;
      d = v.d;
      if (info.distinct) value = state::DistinctKey(v);
    }
    AggregateState& st = s.aggregates[a];
    if (info.Windowed()) {
      st.Push({e.ts, i, d}, info.WindowFrom(e.ts, p_.zone_minutes), std::move(value));  // nothing earlier is read again
    } else if (value) {
      st.AddSeen(std::move(*value));
    } else {
      // A count keeps only its count; every other aggregate all of A19's
      // fold (`qm state` shows a sum's min and max too).
      st.Add(i, d, info.func != check::AggFunc::kCount);
    }
  }
}

void Engine::Impl::Cascade(ChangeLog& log) {
  for (int depth = 1;; ++depth) {
    std::vector<int32_t>& triggered = triggered_;
    triggered.clear();
    for (auto& [t, before] : log.tags) {
      uint8_t now = step_.state->tags[t];
      if (now && !before) triggered.insert(triggered.end(), program_.tagged_rules[t].begin(), program_.tagged_rules[t].end());
      if (!now && before) triggered.insert(triggered.end(), program_.untagged_rules[t].begin(), program_.untagged_rules[t].end());
    }
    for (auto& [f, before] : log.fields) {
      Value now = step_.state->profile[f].view();
      if (ValuesEqual(now, before.view())) continue;
      for (int32_t r : program_.becomes_rules[f]) {
        if (ValuesEqual(now, ConstantValue(p_.rules[r].trigger.value))) triggered.push_back(r);
      }
    }
    if (triggered.empty()) return;
    std::sort(triggered.begin(), triggered.end());
    triggered.erase(std::unique(triggered.begin(), triggered.end()), triggered.end());
    if (observer_ != nullptr) [[unlikely]]
      observer_->OnStep({Observer::StepKind::kCascade, *step_.customer, step_.now, 0, -1, depth});
    if (depth > options_.cascade_limit) {
      for (int32_t r : triggered) {
        Observe(r, -1, Observer::Outcome::kCascadeLimit);
        StartLine(Head(p_.rules[r].name, "cascade_limit"));
        line_ += ",\"limit\":" + std::to_string(options_.cascade_limit) + "}\n";
        Emit("cascade_limit");
        const std::string limit = std::to_string(options_.cascade_limit), rule = p_.rules[r].name;
        out_.Warning(Bilingual("cascade limit " + limit + " reached for customer " + *step_.customer + ": rule `" + rule +
                                   "` not run",
                               "客户 " + *step_.customer + " 的级联达到上限 " + limit + " 层：规则 `" + rule + "` 未运行"));
      }
      return;
    }
    ChangeLog& next = next_log_;
    next.clear();
    std::vector<int32_t>& matched = matched_;
    matched.clear();
    step_.event = nullptr;  // cascade steps have no triggering event (A13)
    evaluator_.MatchRules(triggered, step_, matched);
    if (observer_ != nullptr) [[unlikely]] observer_->OnEvaluated(triggered, matched, step_);
    for (int32_t r : matched) ApplyRule(r, next);
    std::swap(log, next);
  }
}

}  // namespace qm::engine

// Timers: `no ... for` and `after` in (due, customer) order, one step per customer and due time (A32, A33, A35).
#include "runtime/engine/internal/impl.h"

#include <algorithm>

namespace qm::engine {

void Engine::Impl::ArmQuiet(CustomerState& s, int32_t q, int64_t due) {
  if (s.quiet_due[q] != kNever) timers_.erase(TimerKey{s.quiet_due[q], s.id, &s, 0, static_cast<uint64_t>(q)});
  s.quiet_due[q] = due;
  if (observer_ != nullptr) [[unlikely]] observer_->OnArmed(program_.quiet_rules[q], due);
  timers_.insert(TimerKey{due, s.id, &s, 0, static_cast<uint64_t>(q)});
}

void Engine::Impl::FireDue(int64_t t) {
  while (!timers_.empty() && timers_.begin()->due <= t) {
    if (timers_.begin()->state == nullptr) {  // an evicted customer's: read them back first
      Lookup(std::string(*timers_.begin()->customer));
      continue;
    }
    int64_t due = timers_.begin()->due;
    CustomerState* state = timers_.begin()->state;
    std::vector<TimerKey> group;
    while (!timers_.empty() && timers_.begin()->due == due && timers_.begin()->state == state) {
      group.push_back(*timers_.begin());
      timers_.erase(timers_.begin());
    }
    FireGroup(*state, due, group);
  }
}

void Engine::Impl::FireGroup(CustomerState& s, int64_t due, const std::vector<TimerKey>& group) {
  Save(s);
  ++stats_.timer_steps;
  s.clock = std::max(s.clock, due);  // A34
  std::vector<int32_t> quiet_candidates;
  std::vector<PendingAfter> afters;
  for (const TimerKey& k : group) {
    if (k.kind == 0) {
      s.quiet_due[k.id] = kNever;  // fired: disarmed until re-armed (A33)
      quiet_candidates.push_back(program_.quiet_rules[k.id]);
    } else {
      afters.push_back(std::move(s.afters.extract(s.afters.find(AfterOrder::Key{k.unless, k.id})).value()));
    }
  }
  std::sort(quiet_candidates.begin(), quiet_candidates.end());
  Begin(s, nullptr, due);
  if (observer_ != nullptr) [[unlikely]] observer_->OnStep({Observer::StepKind::kTimer, *s.id, due});
  std::vector<int32_t> matched;
  evaluator_.MatchRules(quiet_candidates, step_, matched);
  if (observer_ != nullptr) [[unlikely]] observer_->OnEvaluated(quiet_candidates, matched, step_);
  // The `no` rules' actions and the delayed actions, in rule file order, then scheduling order.
  struct Work { int32_t rule; int kind; uint64_t seq; size_t index; };
  std::vector<Work> work;
  for (int32_t r : matched) work.push_back({r, 0, 0, 0});
  for (size_t i = 0; i < afters.size(); ++i) work.push_back({afters[i].rule, 1, afters[i].seq, i});
  std::sort(work.begin(), work.end(), [](const Work& a, const Work& b) {
    if (a.rule != b.rule) return a.rule < b.rule;
    if (a.kind != b.kind) return a.kind < b.kind;
    return a.seq < b.seq;
  });
  ChangeLog log;
  for (const Work& w : work) {
    if (w.kind == 0) {
      ApplyRule(w.rule, log);
    } else {
      const PendingAfter& a = afters[w.index];
      const check::Action& action = p_.rules[a.rule].actions[a.action];
      // Targets and messages were resolved when scheduled (D6); a record
      // from before v0.2 has only fixed ones.
      Resolved resolved;
      resolved.value = a.value.view();
      resolved.target = a.target ? std::string_view(*a.target) : Text(action.target, resolved.rendered_target);
      resolved.message = a.message ? std::string_view(*a.message) : Text(action.body, resolved.rendered_message);
      if (observer_ != nullptr) [[unlikely]] observer_->OnFired(a.rule, a.action);
      Apply(a.rule, a.action, resolved, log);
    }
  }
  Cascade(log);
}

}  // namespace qm::engine

// Timers: `no ... for` and `after` in (due, customer) order, one step per
// customer and due time (A32, A33, A35); segment refreshes before them (D13).
#include "runtime/engine/internal/impl.h"

#include <algorithm>

namespace qm::engine {

void Engine::Impl::ArmQuiet(CustomerState& s, int32_t q, int64_t due) {
  s.quiet_due[q] = due;
  if (observer_ != nullptr) [[unlikely]] observer_->OnArmed(program_.quiet_rules[q], due);
  int64_t& queued = s.quiet_due.queued(q);
  // Re-armed later (most events of a customer): the queued entry stays where
  // it is and moves when it comes up (Requeue).
  if (queued != kNever && queued <= due) return;
  const TimerKey key{due, s.id, &s, 0, static_cast<uint64_t>(q)};
  if (queued != kNever) {  // earlier than queued (an out-of-order event): the node moves now
    auto node = timers_.extract(TimerKey{queued, s.id, &s, 0, static_cast<uint64_t>(q)});
    node.value() = key;
    timers_.insert(std::move(node));
  } else {
    Queue(key);
  }
  queued = due;
}

void Engine::Impl::Queue(const TimerKey& key) {
  if (spare_timers_.empty()) {
    timers_.insert(key);
    return;
  }
  auto node = std::move(spare_timers_.back());
  spare_timers_.pop_back();
  node.value() = key;
  timers_.insert(std::move(node));
}

void Engine::Impl::Unqueue(const TimerKey& key) {
  if (auto node = timers_.extract(key)) spare_timers_.push_back(std::move(node));
}

bool Engine::Impl::Requeue(std::set<TimerKey>::iterator it) {
  if (it->kind != 0) return false;
  CustomerState& s = *it->state;
  const size_t q = it->id;
  const int64_t due = s.quiet_due[q];
  if (due == it->due) return false;
  auto node = timers_.extract(it);
  if (due == kNever) {
    spare_timers_.push_back(std::move(node));
  } else {
    node.value().due = due;
    timers_.insert(std::move(node));
  }
  s.quiet_due.queued(q) = due;
  return true;
}

void Engine::Impl::Enqueue(CustomerState& s) {
  for (size_t q = 0; q < s.quiet_due.size(); ++q) s.quiet_due.queued(q) = s.quiet_due[q];
  for (const TimerKey& k : TimersOf(s)) Queue(k);
}

void Engine::Impl::Dequeue(CustomerState& s) {
  for (size_t q = 0; q < s.quiet_due.size(); ++q) {
    int64_t& queued = s.quiet_due.queued(q);
    if (queued != kNever) Unqueue(TimerKey{queued, s.id, &s, 0, q});
    queued = kNever;
  }
  for (const PendingAfter& a : s.afters) Unqueue(TimerKey{a.due, s.id, &s, 1, a.seq});
}

void Engine::Impl::FireDue(int64_t t) {
  for (;;) {
    // D13: a refresh at R comes before the customers' own timers due at R.
    int64_t refresh = NextRefresh();
    bool timer = !timers_.empty() && timers_.begin()->due <= t;
    if (refresh != kNever && refresh <= t && (!timer || refresh <= timers_.begin()->due)) {
      Refresh(refresh);
      continue;
    }
    if (!timer) break;
    if (timers_.begin()->state == nullptr) {  // an evicted customer's: read them back first
      Lookup(std::string(*timers_.begin()->customer));
      continue;
    }
    if (Requeue(timers_.begin())) continue;
    int64_t due = timers_.begin()->due;
    CustomerState* state = timers_.begin()->state;
    group_.clear();
    while (!timers_.empty() && timers_.begin()->due == due && timers_.begin()->state == state) {
      if (Requeue(timers_.begin())) continue;
      auto node = timers_.extract(timers_.begin());
      group_.push_back(node.value());
      spare_timers_.push_back(std::move(node));
    }
    FireGroup(*state, due, group_);
  }
}

void Engine::Impl::FireGroup(CustomerState& s, int64_t due, const std::vector<TimerKey>& group) {
  Save(s);
  MarkStep(/*timer=*/true, due, s.id);
  ++stats_.timer_steps;
  s.clock = std::max(s.clock, due);  // A34
  std::vector<int32_t>& quiet_candidates = quiet_candidates_;
  std::vector<PendingAfter>& afters = fired_afters_;
  quiet_candidates.clear();
  afters.clear();
  for (const TimerKey& k : group) {
    if (k.kind == 0) {
      s.quiet_due[k.id] = kNever;  // fired: disarmed until re-armed (A33)
      s.quiet_due.queued(k.id) = kNever;
      quiet_candidates.push_back(program_.quiet_rules[k.id]);
    } else {
      state::PendingAfters& pending = s.afters.Make();
      auto node = pending.extract(pending.find(AfterOrder::Key{k.unless, k.id}));
      afters.push_back(std::move(node.value()));
      spare_afters_.push_back(std::move(node));
    }
  }
  std::sort(quiet_candidates.begin(), quiet_candidates.end());
  Begin(s, nullptr, due);
  if (observer_ != nullptr) [[unlikely]] observer_->OnStep({Observer::StepKind::kTimer, *s.id, due});
  std::vector<int32_t>& matched = timer_matched_;
  matched.clear();
  evaluator_.MatchRules(quiet_candidates, step_, matched);
  if (observer_ != nullptr) [[unlikely]] observer_->OnEvaluated(quiet_candidates, matched, step_);
  // The `no` rules' actions and the delayed actions, in rule file order, then scheduling order.
  using Work = TimerWork;
  std::vector<Work>& work = work_;
  work.clear();
  for (int32_t r : matched) work.push_back({r, 0, 0, 0});
  for (size_t i = 0; i < afters.size(); ++i) work.push_back({afters[i].rule, 1, afters[i].seq, i});
  std::sort(work.begin(), work.end(), [](const Work& a, const Work& b) {
    if (a.rule != b.rule) return a.rule < b.rule;
    if (a.kind != b.kind) return a.kind < b.kind;
    return a.seq < b.seq;
  });
  ChangeLog& log = log_;
  log.clear();
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

// ------------------------------------------------------------- segments

namespace {

// 2024-01-01T00:00Z: refresh instants are A + k·D from this day's start in
// the rule zone plus `at` (D13).
constexpr int64_t kSegmentEpochUtc = 1704067200000;

// The first instant A + k·D after `after`.
int64_t NextInstant(const check::Segment& g, int zone_minutes, int64_t after) {
  int64_t anchor = kSegmentEpochUtc - zone_minutes * 60000LL + g.at_ms;
  int64_t k = (after - anchor) / g.every_ms;
  if ((after - anchor) % g.every_ms != 0 && after < anchor) --k;  // floor
  return anchor + (k + 1) * g.every_ms;
}

}  // namespace

void Engine::Impl::ScheduleSegments(int64_t ts) {
  for (size_t i = 0; i < segments_.size(); ++i)
    if (segments_[i].next == kNever) segments_[i].next = NextInstant(p_.segments[i], p_.zone_minutes, ts);
}

// A segment new to the state starts at the next accepted event. One whose
// `every` or `at` changed keeps its last refresh and moves to the new
// instants: the first after the last refresh, or, never refreshed yet, the
// first at or after the instant it was waiting for.
void Engine::Impl::RestoreSegments(const std::vector<state::SegmentStatus>& saved) {
  auto saved_name = [&](const std::string& name) {
    for (const check::Rename& r : p_.renames)
      if (r.kind == check::Rename::Kind::kTag && r.to == name &&
          std::none_of(saved.begin(), saved.end(), [&](const state::SegmentStatus& s) { return s.name == name; }))
        return r.from;
    return name;
  };
  for (size_t i = 0; i < segments_.size(); ++i) {
    std::string name = saved_name(segments_[i].name);
    for (const state::SegmentStatus& s : saved) {
      if (s.name != name) continue;
      state::SegmentStatus& g = segments_[i];
      g.last = s.last, g.ranked = s.ranked, g.members = s.members, g.threshold = s.threshold;
      if (s.last != kNever) g.next = NextInstant(p_.segments[i], p_.zone_minutes, s.last);
      else if (s.next != kNever) g.next = NextInstant(p_.segments[i], p_.zone_minutes, s.next - 1);
    }
  }
}

int64_t Engine::Impl::NextRefresh() const {
  int64_t next = kNever;
  for (const state::SegmentStatus& g : segments_)
    if (g.next != kNever && (next == kNever || g.next < next)) next = g.next;
  return next;
}

void Engine::Impl::Refresh(int64_t at) {
  WakeAll();  // every known customer is ranked, evicted ones too
  std::vector<CustomerState*> known;
  store_.ForEach([&](CustomerState& s) {
    if (s.seen) known.push_back(&s);
  });
  std::vector<int32_t> due;
  for (size_t i = 0; i < segments_.size(); ++i)
    if (segments_[i].next == at) due.push_back(static_cast<int32_t>(i));
  // Rank every due segment on the same snapshot, read as a timer step at
  // `at` reads (nothing excluded); `member[j][c]` is customer c's new membership.
  std::vector<std::vector<uint8_t>> member(due.size(), std::vector<uint8_t>(known.size()));
  // What ranks needs of a Value (what X's types hold: no text, no decimal
  // literal), half its size: 1M customers rank in 32 MB.
  struct Ranked {
    int64_t i, j;
    double d;
    uint32_t customer;
    ValueKind kind;
    Value value() const {
      Value v{kind, i, j};
      v.d = d;
      return v;
    }
  };
  std::vector<Ranked> ranked;
  ranked.reserve(known.size());
  for (size_t j = 0; j < due.size(); ++j) {
    const check::Segment& g = p_.segments[due[j]];
    const check::Node& x = p_.nodes[g.by];
    ranked.clear();
    for (size_t c = 0; c < known.size(); ++c) {
      step_.state = known[c];
      step_.customer = known[c]->id;
      step_.event = nullptr;
      step_.now = at;
      Value v;
      switch (x.kind) {
        case check::NodeKind::kProfileField: v = step_.ProfileField(x.field); break;
        case check::NodeKind::kAggregate: v = step_.Aggregate(x.aggregate); break;
        case check::NodeKind::kSince: v = step_.Since(x.event); break;
        default: v = step_.SinceField(x.field); break;
      }
      if (!v.unset() && CompareValues(v, v))  // unset and NaN are not ranked
        ranked.push_back({v.i, v.j, v.d, static_cast<uint32_t>(c), v.kind});
    }
    state::SegmentStatus& status = segments_[due[j]];
    status.last = at;
    status.ranked = static_cast<int64_t>(ranked.size());
    status.members = 0;
    status.threshold.clear();
    // k = ceil(N·P/100), P in millionths of a percent.
    const int64_t share = 100 * 1000000LL;
    int64_t k = (status.ranked * g.share_micro + share - 1) / share;
    if (k == 0) continue;
    auto before = [&](const Ranked& a, const Ranked& b) {
      int order = *CompareValues(a.value(), b.value());
      return g.top ? order > 0 : order < 0;
    };
    std::nth_element(ranked.begin(), ranked.begin() + (k - 1), ranked.end(), before);
    const Value threshold = ranked[k - 1].value();
    for (const Ranked& r : ranked) {
      int order = *CompareValues(r.value(), threshold);
      if (g.top ? order >= 0 : order <= 0) member[j][r.customer] = 1, ++status.members;
    }
    const check::Type& type = p_.nodes[g.by].type;
    status.threshold = FormatJsonValue(threshold, p_.MembersOf(type), options_.tz_minutes);
  }
  for (size_t j = 0; j < due.size(); ++j) segments_[due[j]].next = at + p_.segments[due[j]].every_ms;
  // One step at `at` per customer whose membership changed, in A32 order.
  std::vector<size_t> changed;
  for (size_t c = 0; c < known.size(); ++c)
    for (size_t j = 0; j < due.size(); ++j)
      if (known[c]->tags[p_.segments[due[j]].tag] != member[j][c]) {
        changed.push_back(c);
        break;
      }
  std::sort(changed.begin(), changed.end(), [&](size_t a, size_t b) { return *known[a]->id < *known[b]->id; });
  for (size_t c : changed) {
    CustomerState& s = *known[c];
    Save(s);
    ++stats_.timer_steps;
    s.clock = std::max(s.clock, at);  // E19
    Begin(s, nullptr, at);
    if (observer_ != nullptr) [[unlikely]] observer_->OnStep({Observer::StepKind::kTimer, *s.id, at});
    ChangeLog& log = log_;
    log.clear();
    for (size_t j = 0; j < due.size(); ++j) {  // declaration order
      const check::Segment& g = p_.segments[due[j]];
      uint8_t want = member[j][c];
      if (s.tags[g.tag] == want) continue;
      log.Tag(g.tag, s.tags[g.tag]);
      s.tags.Set(g.tag, want);
      std::string_view kind = check::Spelling(want ? check::ActionKind::kTag : check::ActionKind::kUntag);
      StartLine(Head("segment " + p_.tags[g.tag].name, kind));
      line_ += ",\"tag\":";
      AppendJsonString(line_, p_.tags[g.tag].name);
      line_ += "}\n";
      Emit(kind);
    }
    Cascade(log);
  }
}

}  // namespace qm::engine

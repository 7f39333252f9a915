#include "runtime/engine/engine.h"

#include <algorithm>
#include <limits>

#include "compiler/diag/diag.h"
#include "runtime/engine/internal/impl.h"

namespace qm::engine {

void Stats::AddCounts(const Stats& other) {
  lines += other.lines;
  events += other.events;
  timer_steps += other.timer_steps;
  for (auto [to, from] : {std::pair{&actions, &other.actions}, {&rejects, &other.rejects}, {&suppressed, &other.suppressed}})
    for (const auto& [key, n] : *from) (*to)[key] += n;
  if (fired.size() < other.fired.size()) fired.resize(other.fired.size());
  for (size_t r = 0; r < other.fired.size(); ++r) fired[r] += other.fired[r];
}

Engine::Engine(const ir::Program& program, ir::Evaluator& evaluator, state::Store& store, Output& output,
               Options options)
    : impl_(std::make_unique<Impl>(program, evaluator, store, output, options, stats_)) {
  stats_.fired.assign(program.checked.rules.size(), 0);  // here: stats_ is constructed after impl_
}

Engine::~Engine() = default;

bool StepOrder::operator<(const StepOrder& o) const {
  if (input_line != o.input_line) return input_line < o.input_line;
  if (release_ts != o.release_ts) return release_ts < o.release_ts;
  if (release_line != o.release_line) return release_line < o.release_line;
  if (timer != o.timer) return timer;  // a released line's timers come before its step
  if (!timer || due != o.due) return due < o.due;
  return *customer < *o.customer;  // A32: code point order = byte order
}

LineOutcome Engine::ProcessLine(std::string_view line, int64_t line_number) {
  return impl_->ProcessLine(line, line_number);
}
void Engine::Ahead(std::string_view line, int64_t line_number) { impl_->Ahead(line, line_number); }
size_t Engine::AheadRoom() const { return impl_->AheadRoom(); }
void Engine::Prefetch(const Decoded& line, int stage) const { impl_->Prefetch(line, stage); }
void Engine::Decode(std::string_view line, int64_t line_number, Decoded& out) { impl_->Decode(line, line_number, out); }
LineOutcome Engine::Process(Decoded& line, int64_t line_number) { return impl_->Process(line, line_number); }
void Engine::Foreign(int64_t ts, int64_t line_number, const std::function<bool()>& accepted) {
  impl_->Foreign(ts, line_number, accepted);
}
void Engine::BoundClocks(int64_t ts) { impl_->BoundClocks(ts); }
void Engine::Mark() { impl_->Mark(); }
void Engine::Undo() { impl_->Undo(); }
bool Engine::Forget(const std::string& customer) { return impl_->Forget(customer); }
int64_t Engine::Evict(int64_t idle_before) { return impl_->Evict(idle_before); }
void Engine::WakeAll() { impl_->WakeAll(); }
state::CustomerState* Engine::Find(const std::string& customer) { return impl_->Lookup(customer); }
void Engine::FireUntil(int64_t until) { impl_->FireUntil(until); }
void Engine::Resume() {
  impl_->IndexPersons();
  impl_->Resume();
}
void Engine::ReleaseAll() { impl_->ReleaseAll(); }
std::vector<state::HeldLine> Engine::held() const { return impl_->Held(); }
int64_t Engine::high_mark() const { return impl_->high_mark(); }
void Engine::Restore(std::vector<state::HeldLine> held, int64_t high_mark,
                     const std::function<bool(const std::string&)>& mine) {
  impl_->Restore(std::move(held), high_mark, mine);
}
std::vector<state::SegmentStatus> Engine::segments() const { return impl_->Segments(); }
void Engine::RestoreSegments(const std::vector<state::SegmentStatus>& saved) { impl_->RestoreSegments(saved); }

const Stats& Engine::stats() const {
  impl_->CountPending(stats_);
  return stats_;
}


void Engine::Impl::Decode(std::string_view line, int64_t line_number, Decoded& d) {
  event::Reject why;
  switch (event::DecodeLine(decoder_, line, line_number, d.text, d.event, why)) {
    case event::LineKind::kBlank: d.kind = LineOutcome::kBlank; return;
    case event::LineKind::kEvent: d.kind = LineOutcome::kAccepted; return;
    case event::LineKind::kRejected:
      d.kind = LineOutcome::kRejected;
      d.reason = why.reason;
      d.field = why.field;
      d.customer = why.customer;
      return;
  }
}

LineOutcome Engine::Impl::Process(Decoded& d, int64_t line_number) {
  ++stats_.lines;
  order_line_ = line_number;
  release_ts_ = release_line_ = kNever;
  LineOutcome outcome;
  outcome.kind = d.kind;
  if (d.kind == LineOutcome::kBlank) return outcome;
  if (d.kind == LineOutcome::kRejected) {
    Reject(line_number, d.reason, d.field, d.customer);
    outcome.reason = d.reason;
    outcome.field = d.field;
    outcome.customer = d.customer;
    return outcome;
  }
  outcome.ts = d.event.ts;
  if (options_.lateness_ms == 0) {  // D9 with D = 0: exactly v0.1
    if (!Release(d.event, line_number)) {
      outcome.kind = LineOutcome::kRejected;
      outcome.reason = "late";
      outcome.field = "ts";
      outcome.customer = d.event.customer;
    }
    return outcome;
  }
  outcome.kind = LineOutcome::kHeld;
  Hold(std::move(d.event), std::string(d.text), line_number);
  ReleaseThrough(high_mark_ - options_.lateness_ms);
  return outcome;
}

LineOutcome Engine::Impl::ProcessLine(std::string_view line, int64_t line_number) {
  if (ahead_count_ > 0) {
    AheadLine& next = ahead_[ahead_first_];
    if (next.line.data() == line.data() && next.line.size() == line.size() && next.number == line_number) {
      ahead_first_ = (ahead_first_ + 1) % kAhead;
      --ahead_count_;
      return Process(next.decoded, line_number);  // its slot is reused only by a later Ahead
    }
    ahead_count_ = 0;
  }
  Decode(line, line_number, decoded_);
  return Process(decoded_, line_number);
}

void Engine::Impl::Ahead(std::string_view line, int64_t line_number) {
  if (ahead_count_ == kAhead) return;
  AheadLine& a = ahead_[(ahead_first_ + ahead_count_++) % kAhead];
  a.line = line;
  a.number = line_number;
  Decode(line, line_number, a.decoded);
  // Each line ahead moves one stage on: the newest's table slot, the state
  // of the one before it, that state's parts for the one before that.
  for (size_t stage = 0; stage < 3 && stage < ahead_count_; ++stage)
    Prefetch(ahead_[(ahead_first_ + ahead_count_ - 1 - stage) % kAhead].decoded, static_cast<int>(stage));
}

// D9: the decoded line waits until the watermark M - D passes its ts.
void Engine::Impl::Hold(event::Event&& e, std::string line, int64_t line_number) {
  e.Own();  // it outlives the line it views
  high_mark_ = std::max(high_mark_, e.ts);
  std::pair key{e.ts, line_number};
  held_.emplace(key, HeldEvent{std::move(e), std::move(line)});
  if (undo_ != nullptr) [[unlikely]] undo_->held_added.push_back(key);
}

void Engine::Impl::ReleaseThrough(int64_t watermark, const std::function<bool()>* accepted) {
  while (!held_.empty() && held_.begin()->first.first <= watermark) {
    auto node = held_.extract(held_.begin());
    const auto [ts, line] = node.key();
    if (node.mapped().foreign) {
      // Only the line being read can be released at a ts before one already
      // released (a line held is released in ts order), so only it may need
      // asking.
      ReleaseForeign(ts, line, line == order_line_ ? accepted : nullptr);
    } else {
      Release(node.mapped().event, line);
    }
    if (undo_ != nullptr) [[unlikely]] undo_->released.push_back(std::move(node));
  }
}

void Engine::Impl::Foreign(int64_t ts, int64_t line_number, const std::function<bool()>& accepted) {
  order_line_ = line_number;
  if (options_.lateness_ms == 0) return ReleaseForeign(ts, line_number, &accepted);
  high_mark_ = std::max(high_mark_, ts);
  held_.emplace(std::pair{ts, line_number}, HeldEvent{.foreign = true});
  ReleaseThrough(high_mark_ - options_.lateness_ms, &accepted);
}

// Another engine's event, released: in one engine it would fire every timer
// due by its ts when accepted. At or after every ts released so far it is
// (no clock is later); before, it matters only when a timer is due by then.
void Engine::Impl::ReleaseForeign(int64_t ts, int64_t line_number, const std::function<bool()>* accepted) {
  bool fire = ts >= released_max_ || (NextDue() <= ts && accepted != nullptr && (*accepted)());
  released_max_ = std::max(released_max_, ts);
  if (!fire) return;
  release_ts_ = ts;
  release_line_ = line_number;
  FireDue(ts);
}

bool Engine::Impl::Release(const event::Event& e, int64_t line_number) {
  // D11: an alias is resolved to its survivor before A34 is checked.
  release_ts_ = e.ts;
  release_line_ = line_number;
  released_max_ = std::max(released_max_, e.ts);
  CustomerState* s = Lookup(PersonOf(e.customer));
  if (s != nullptr && e.ts < s->clock) {  // A34, A38 check 10; E8: before any timer fires
    if (options_.order_steps) [[unlikely]] out_.Released(line_number, false);
    Reject(line_number, "late", "ts", e.customer);
    return false;
  }
  if (options_.order_steps) [[unlikely]] out_.Released(line_number, true);
  FireDue(e.ts);
  MarkStep(/*timer=*/false);
  if (s == nullptr) {
    s = &store_.Create(e.customer);
    s->first_seq = next_person_++;
    if (undo_ != nullptr) [[unlikely]] {
      undo_->created.push_back(e.customer);
      s->undo_mark = undo_->mark;  // Undo erases it: nothing to save
    }
  }
  ++stats_.events;
  line_number_ = line_number;
  ScheduleSegments(e.ts);
  bool merged = !p_.identity.empty() && Link(s, e);
  RunEvent(*s, e, merged);
  return true;
}

std::vector<state::HeldLine> Engine::Impl::Held() const {
  std::vector<state::HeldLine> out;
  for (const auto& [key, held] : held_)
    if (!held.foreign) out.push_back({key.first, key.second, held.line});
  return out;
}

void Engine::Impl::Restore(std::vector<state::HeldLine> held, int64_t high_mark,
                           const std::function<bool(const std::string&)>& mine) {
  held_.clear();
  for (state::HeldLine& h : held) {
    event::Reject reject;
    event::Event e;
    if (!decoder_.Decode(h.text, e, reject)) continue;  // it passed once
    e.Own();  // its texts view h.text, which is moved below
    if (mine && !mine(e.customer)) {
      held_.emplace(std::pair{h.ts, h.line_number}, HeldEvent{.foreign = true});
      continue;
    }
    Hold(std::move(e), std::move(h.text), h.line_number);
  }
  high_mark_ = high_mark;
}

void Engine::Impl::Resume() {
  next_seq_ = 1;
  std::vector<TimerKey> sleeping;  // evicted customers' timers: not derivable from memory
  for (const TimerKey& k : timers_)
    if (k.state == nullptr) sleeping.push_back(k);
  timers_.clear();
  timers_.insert(sleeping.begin(), sleeping.end());
  store_.ForEach([&](CustomerState& s) {
    Enqueue(s);
    for (const PendingAfter& a : s.afters) next_seq_ = std::max(next_seq_, a.seq + 1);
  });
}

void Engine::Impl::Reject(int64_t line_number, std::string_view reason, const std::string& field, std::string_view customer) {
  MarkStep(/*timer=*/false);
  line_.clear();
  event::AppendRejectLine(line_, line_number, reason, field, customer);
  if (observer_ != nullptr) [[unlikely]] observer_->OnReject(line_, customer);
  out_.Reject(line_);
  Count(stats_.rejects, reason);
}

void Engine::Impl::Mark() {
  if (undo_ == nullptr) undo_ = std::make_unique<UndoLog>();
  UndoLog& u = *undo_;
  u.stats.lines = stats_.lines;
  u.stats.events = stats_.events;
  u.stats.timer_steps = stats_.timer_steps;
  std::copy(std::begin(suppressed_), std::end(suppressed_), std::begin(u.suppressed));
  u.high_mark = high_mark_;
  u.segments = segments_;
  u.next_person = next_person_;
  u.absorbed.clear();
  u.index.clear();
  ++u.mark;
  if (u.saved.size() > UndoLog::kKeptCopies) u.saved.resize(UndoLog::kKeptCopies);  // after a FireUntil that touched many
  u.saved_count = 0;
  u.created.clear();
  u.counted.clear();
  u.fired.clear();
  u.held_added.clear();
  u.released.clear();
}

void Engine::Impl::Undo() {
  UndoLog& u = *undo_;
  for (size_t i = 0; i < u.saved_count; ++i) {
    auto& [state, before] = u.saved[i];
    if (state == nullptr) continue;  // absorbed by a merge: recreated below
    bool dirty = state->dirty;  // the store's own bookkeeping
    std::swap(*state, before);  // the copy's slot keeps the memory for the next one
    state->dirty = dirty;
  }
  for (const std::string& id : u.created) store_.Erase(id);
  for (auto& [id, before] : u.absorbed) {  // D12: as they were before their merge
    CustomerState& back = store_.Create(id);
    const std::string* stable = back.id;
    back = std::move(before);
    back.id = stable;
    store_.Touch(back);
  }
  for (auto it = u.index.rbegin(); it != u.index.rend(); ++it) {
    auto& [index, key, previous] = *it;
    if (previous) (*index)[key] = std::move(*previous);
    else index->erase(key);
  }
  next_person_ = u.next_person;
  std::vector<std::string> woken = std::move(u.woken);
  counters_.clear();  // the loop below may erase a node they point at
  for (auto& [counts, key] : u.counted) {
    auto it = counts->find(key);
    if (--it->second == 0) counts->erase(it);
  }
  for (int32_t r : u.fired) --stats_.fired[r];
  for (const auto& key : u.held_added) held_.erase(key);
  for (auto& node : u.released) held_.insert(std::move(node));
  stats_.lines = u.stats.lines;
  stats_.events = u.stats.events;
  stats_.timer_steps = u.stats.timer_steps;
  std::copy(std::begin(u.suppressed), std::end(u.suppressed), std::begin(suppressed_));
  high_mark_ = u.high_mark;
  segments_ = u.segments;
  Resume();
  for (const std::string& id : woken)  // as they were: as committed
    if (CustomerState* s = store_.Find(id)) EvictState(*s);
  Mark();
}

}  // namespace qm::engine

namespace qm::engine {

bool Engine::Impl::Forget(const std::string& customer) {
  // D12: a person is forgotten whole, whichever of its ids is named; its ids
  // and keys name nobody afterwards.
  const std::string person = PersonOf(customer);
  CustomerState* s = Lookup(person);
  std::vector<std::string> ids{person};
  if (s != nullptr) ids.insert(ids.end(), s->aliases.begin(), s->aliases.end());
  for (const std::string& id : ids) alias_.erase(id);
  if (s != nullptr)
    for (const auto& [key, value] : s->keys) owner_.erase(key + '\0' + value);
  bool held = false;
  for (auto it = held_.begin(); it != held_.end();) {
    if (std::find(ids.begin(), ids.end(), it->second.event.customer) != ids.end()) {
      it = held_.erase(it);
      held = true;
    } else {
      ++it;
    }
  }
  if (s == nullptr) return held;
  Dequeue(*s);
  store_.Erase(person);
  if (undo_ != nullptr) {  // its copies go too, kept ones included: nothing of theirs stays in memory
    undo_->saved.clear();
    Mark();
  }
  return true;
}

CustomerState* Engine::Impl::Lookup(const std::string& customer) {
  CustomerState* s = store_.Find(customer);
  if (s != nullptr) [[likely]]
    return s;
  s = store_.Wake(customer);
  auto sleeping = sleeping_ids_.find(customer);
  if (sleeping != sleeping_ids_.end()) {
    // Its timers were queued by the sleeping id: requeued on its state, found
    // by value from the state as it was evicted.
    if (s != nullptr) {
      for (TimerKey k : TimersOf(*s)) {
        k.Rebind(&*sleeping);
        k.state = nullptr;
        Unqueue(k);
      }
      Enqueue(*s);
    } else {  // unreadable (the store reports it at the next commit): its timers go
      for (auto it = timers_.begin(); it != timers_.end();)
        it = it->customer == &*sleeping ? timers_.erase(it) : std::next(it);
    }
    sleeping_ids_.erase(sleeping);
  }
  if (s != nullptr && undo_ != nullptr) [[unlikely]] {
    undo_->woken.push_back(customer);
    Save(*s);
  }
  return s;
}

bool Engine::Impl::EvictState(CustomerState& s) {
  const std::string id = *s.id;
  std::vector<TimerKey> mine = TimersOf(s);
  Dequeue(s);  // while its id is alive
  if (!store_.Evict(id)) {
    Enqueue(s);
    return false;
  }
  if (!mine.empty()) {
    const std::string* sleeping = &*sleeping_ids_.insert(id).first;
    for (TimerKey k : mine) {
      k.Rebind(sleeping);
      k.state = nullptr;
      Queue(k);
    }
  }
  return true;
}

int64_t Engine::Impl::Evict(int64_t idle_before) {
  std::vector<std::string> idle;
  store_.ForEach([&](CustomerState& s) {
    if (s.seen && !s.dirty && s.clock < idle_before) idle.push_back(*s.id);
  });
  int64_t evicted = 0;
  for (const std::string& id : idle)
    if (CustomerState* s = store_.Find(id); s != nullptr && EvictState(*s)) ++evicted;
  if (undo_ != nullptr) {  // its copies may point at evicted states
    undo_->saved.clear();
    Mark();
  }
  return evicted;
}

void Engine::Impl::WakeAll() {
  for (const std::string& id : store_.Evicted()) Lookup(id);
}

}  // namespace qm::engine

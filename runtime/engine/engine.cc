#include "runtime/engine/engine.h"

#include <limits>

#include "compiler/diag/diag.h"
#include "runtime/engine/internal/impl.h"

namespace qm::engine {

Engine::Engine(const ir::Program& program, ir::Evaluator& evaluator, state::Store& store, Output& output,
               Options options)
    : impl_(std::make_unique<Impl>(program, evaluator, store, output, options, stats_)) {}

Engine::~Engine() = default;

LineOutcome Engine::ProcessLine(std::string_view line, int64_t line_number) {
  return impl_->ProcessLine(line, line_number);
}
void Engine::Mark() { impl_->Mark(); }
void Engine::Undo() { impl_->Undo(); }
bool Engine::Forget(const std::string& customer) { return impl_->Forget(customer); }
void Engine::FireUntil(int64_t until) { impl_->FireUntil(until); }
void Engine::Resume() { impl_->Resume(); }
void Engine::ReleaseAll() { impl_->ReleaseThrough(std::numeric_limits<int64_t>::max()); }
std::vector<state::HeldLine> Engine::held() const { return impl_->Held(); }
int64_t Engine::high_mark() const { return impl_->high_mark(); }
void Engine::Restore(std::vector<state::HeldLine> held, int64_t high_mark) { impl_->Restore(std::move(held), high_mark); }

const Stats& Engine::stats() const {
  impl_->CountPending(stats_);
  return stats_;
}


LineOutcome Engine::Impl::ProcessLine(std::string_view line, int64_t line_number) {
  ++stats_.lines;
  LineOutcome outcome;
  if (line.size() > event::kMaxLineBytes) {  // before A40's trimming: nothing of it is read
    Reject(line_number, "line_too_long", {}, {});
    outcome.kind = LineOutcome::kRejected;
    outcome.reason = "line_too_long";
    return outcome;
  }
  if (line_number == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // A40
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return outcome;
  event::Reject reject;
  if (!decoder_.Decode(line, event_buf_, reject)) {
    Reject(line_number, reject.reason, reject.field, reject.customer);
    outcome.kind = LineOutcome::kRejected;
    outcome.reason = reject.reason;
    outcome.field = reject.field;
    outcome.customer = reject.customer;
    return outcome;
  }
  if (options_.lateness_ms == 0) {  // D9 with D = 0: exactly v0.1
    if (Release(event_buf_, line_number)) {
      outcome.kind = LineOutcome::kAccepted;
    } else {
      outcome.kind = LineOutcome::kRejected;
      outcome.reason = "late";
      outcome.field = "ts";
      outcome.customer = event_buf_.customer;
    }
    return outcome;
  }
  outcome.kind = LineOutcome::kHeld;
  Hold(std::string(line), line_number);
  ReleaseThrough(high_mark_ - options_.lateness_ms);
  return outcome;
}

// D9: the decoded line (event_buf_) waits until the watermark M - D passes
// its ts. An Event owns its texts, so it moves into the buffer intact.
void Engine::Impl::Hold(std::string line, int64_t line_number) {
  high_mark_ = std::max(high_mark_, event_buf_.ts);
  std::pair key{event_buf_.ts, line_number};
  held_.emplace(key, HeldEvent{std::move(event_buf_), std::move(line)});
  if (undo_ != nullptr) [[unlikely]] undo_->held_added.push_back(key);
}

void Engine::Impl::ReleaseThrough(int64_t watermark) {
  while (!held_.empty() && held_.begin()->first.first <= watermark) {
    auto node = held_.extract(held_.begin());
    Release(node.mapped().event, node.key().second);
    if (undo_ != nullptr) [[unlikely]] undo_->released.push_back(std::move(node));
  }
}

bool Engine::Impl::Release(const event::Event& e, int64_t line_number) {
  CustomerState* s = store_.Find(e.customer);
  if (s != nullptr && e.ts < s->clock) {  // A34, A38 check 10; E8: before any timer fires
    Reject(line_number, "late", "ts", e.customer);
    return false;
  }
  FireDue(e.ts);
  if (s == nullptr) {
    s = &store_.Create(e.customer);
    if (undo_ != nullptr) [[unlikely]] {
      undo_->created.push_back(e.customer);
      undo_->saved_set.insert(s);  // Undo erases it: nothing to save
    }
  }
  ++stats_.events;
  line_number_ = line_number;
  RunEvent(*s, e);
  return true;
}

std::vector<state::HeldLine> Engine::Impl::Held() const {
  std::vector<state::HeldLine> out;
  for (const auto& [key, held] : held_) out.push_back({key.first, key.second, held.line});
  return out;
}

void Engine::Impl::Restore(std::vector<state::HeldLine> held, int64_t high_mark) {
  held_.clear();
  for (state::HeldLine& h : held) {
    event::Reject reject;
    if (decoder_.Decode(h.text, event_buf_, reject)) Hold(std::move(h.text), h.line_number);  // it passed once
  }
  high_mark_ = high_mark;
}

void Engine::Impl::Resume() {
  next_seq_ = 1;
  timers_.clear();
  store_.ForEach([&](CustomerState& s) {
    for (size_t q = 0; q < s.quiet_due.size(); ++q)
      if (s.quiet_due[q] != kNever) timers_.insert(TimerKey{s.quiet_due[q], s.id, &s, 0, q});
    for (const PendingAfter& a : s.afters) {
      timers_.insert(TimerKey{a.due, s.id, &s, 1, a.seq, a.unless, a.deferred});
      next_seq_ = std::max(next_seq_, a.seq + 1);
    }
  });
}

void Engine::Impl::Reject(int64_t line_number, std::string_view reason, const std::string& field, std::string_view customer) {
  std::string line = "{\"line\":" + std::to_string(line_number);
  if (!customer.empty()) {
    line += ",\"customer\":";
    AppendJsonString(line, customer);
  }
  line += ",\"reason\":\"" + std::string(reason) + "\"";
  if (!field.empty()) {
    line += ",\"field\":";
    AppendJsonString(line, field);
  }
  line += "}\n";
  if (observer_ != nullptr) [[unlikely]] observer_->OnReject(line, customer);
  out_.Reject(line);
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
  u.saved.clear();
  u.saved_set.clear();
  u.created.clear();
  u.counted.clear();
  u.held_added.clear();
  u.released.clear();
}

void Engine::Impl::Undo() {
  UndoLog& u = *undo_;
  for (auto& [state, before] : u.saved) {
    bool dirty = state->dirty;  // the store's own bookkeeping
    *state = std::move(before);
    state->dirty = dirty;
  }
  for (const std::string& id : u.created) store_.Erase(id);
  for (auto& [counts, key] : u.counted) {
    auto it = counts->find(key);
    if (--it->second == 0) counts->erase(it);
  }
  for (const auto& key : u.held_added) held_.erase(key);
  for (auto& node : u.released) held_.insert(std::move(node));
  stats_.lines = u.stats.lines;
  stats_.events = u.stats.events;
  stats_.timer_steps = u.stats.timer_steps;
  std::copy(std::begin(u.suppressed), std::end(u.suppressed), std::begin(suppressed_));
  high_mark_ = u.high_mark;
  Resume();
  Mark();
}

}  // namespace qm::engine

namespace qm::engine {

bool Engine::Impl::Forget(const std::string& customer) {
  CustomerState* s = store_.Find(customer);
  bool held = false;
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->second.event.customer == customer) {
      it = held_.erase(it);
      held = true;
    } else {
      ++it;
    }
  }
  if (s == nullptr) return held;
  for (size_t q = 0; q < s->quiet_due.size(); ++q)
    if (s->quiet_due[q] != kNever) timers_.erase(TimerKey{s->quiet_due[q], s->id, s, 0, q});
  for (const PendingAfter& a : s->afters) timers_.erase(TimerKey{a.due, s->id, s, 1, a.seq});
  store_.Erase(customer);
  if (undo_ != nullptr) Mark();  // its copies go too
  return true;
}

}  // namespace qm::engine

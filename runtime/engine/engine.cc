#include "runtime/engine/engine.h"

#include <limits>

#include "compiler/diag/diag.h"
#include "runtime/engine/internal/impl.h"

namespace qm::engine {

Engine::Engine(const ir::Program& program, ir::Evaluator& evaluator, state::Store& store, Output& output,
               Options options)
    : impl_(std::make_unique<Impl>(program, evaluator, store, output, options, stats_)) {}

Engine::~Engine() = default;

void Engine::ProcessLine(std::string_view line, int64_t line_number) { impl_->ProcessLine(line, line_number); }
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


void Engine::Impl::ProcessLine(std::string_view line, int64_t line_number) {
  ++stats_.lines;
  if (line.size() > event::kMaxLineBytes) {  // before A40's trimming: nothing of it is read
    Reject(line_number, "line_too_long", {}, {});
    return;
  }
  if (line_number == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // A40
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return;
  event::Reject reject;
  if (!decoder_.Decode(line, event_buf_, reject)) {
    Reject(line_number, reject.reason, reject.field, reject.customer);
    return;
  }
  if (options_.lateness_ms == 0) {  // D9 with D = 0: exactly v0.1
    Release(event_buf_, line_number);
    return;
  }
  Hold(std::string(line), line_number);
  ReleaseThrough(high_mark_ - options_.lateness_ms);
}

// D9: the decoded line (event_buf_) waits until the watermark M - D passes
// its ts. An Event owns its texts, so it moves into the buffer intact.
void Engine::Impl::Hold(std::string line, int64_t line_number) {
  high_mark_ = std::max(high_mark_, event_buf_.ts);
  held_.emplace(std::pair{event_buf_.ts, line_number}, HeldEvent{std::move(event_buf_), std::move(line)});
}

void Engine::Impl::ReleaseThrough(int64_t watermark) {
  while (!held_.empty() && held_.begin()->first.first <= watermark) {
    auto node = held_.extract(held_.begin());
    Release(node.mapped().event, node.key().second);
  }
}

void Engine::Impl::Release(const event::Event& e, int64_t line_number) {
  CustomerState* s = store_.Find(e.customer);
  if (s != nullptr && e.ts < s->clock) {  // A34, A38 check 10; E8: before any timer fires
    Reject(line_number, "late", "ts", e.customer);
    return;
  }
  FireDue(e.ts);
  if (s == nullptr) s = &store_.Create(e.customer);
  ++stats_.events;
  line_number_ = line_number;
  RunEvent(*s, e);
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
  ++stats_.rejects[std::string(reason)];
}

}  // namespace qm::engine

#include "runtime/engine/engine.h"

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

const Stats& Engine::stats() const {
  impl_->CountPending(stats_.pending_timers, stats_.pending_deferred);
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
  CustomerState* s = store_.Find(event_buf_.customer);
  if (s != nullptr && event_buf_.ts < s->clock) {  // A34, A38 check 10
    Reject(line_number, "late", "ts", event_buf_.customer);
    return;
  }
  FireDue(event_buf_.ts);
  if (s == nullptr) s = &store_.Create(event_buf_.customer);
  ++stats_.events;
  RunEvent(*s, event_buf_);
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
  out_.Reject(line);
  ++stats_.rejects[std::string(reason)];
}

}  // namespace qm::engine

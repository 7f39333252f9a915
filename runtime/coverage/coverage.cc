#include "runtime/coverage/coverage.h"

namespace qm::coverage {
namespace {

std::string SourceText(const Source* source, Span span) {
  std::string text = source->text().substr(span.begin, span.end - span.begin);
  for (char& c : text)
    if (c == '\n') c = ' ';
  return text;
}

// The condition nodes of `root` a test should see both ways: every node
// that is a condition (comparisons, `in`, `contains`, `has`, `not`, `and`,
// `or`, a bool field alone), parents before children.
void ConditionNodes(const check::Program& p, check::NodeId root, std::vector<check::NodeId>& out) {
  const check::Node& n = p.nodes[root];
  out.push_back(root);
  switch (n.kind) {
    case check::NodeKind::kNot: case check::NodeKind::kAnd: case check::NodeKind::kOr:
      for (check::NodeId o : n.operands) ConditionNodes(p, o, out);
      break;
    default: break;
  }
}

}  // namespace

Coverage::Coverage(const ir::Program& program, const interp::Interpreter& tracer)
    : program_(program), p_(program.checked), tracer_(tracer), matched_(p_.rules.size()),
      seen_true_(p_.nodes.size()), seen_false_(p_.nodes.size()), quiet_fired_(p_.rules.size()),
      quiet_rearmed_(p_.rules.size()), after_fired_(p_.rules.size()), after_cancelled_(p_.rules.size()),
      cap_full_(p_.caps.size()), quiet_held_(p_.quiets.size()), activity_(p_.rules.size()) {
  for (size_t r = 0; r < p_.rules.size(); ++r) {
    activity_[r].applied.resize(p_.rules[r].actions.size());
    after_fired_[r].resize(p_.rules[r].actions.size());
    after_cancelled_[r].resize(p_.rules[r].actions.size());
  }
}

void Coverage::OnStep(const StepInfo& step) {
  step_kind_ = step.kind;
  now_ = step.now;
  customer_ = step.customer;
}

void Coverage::OnEvaluated(const std::vector<int32_t>& candidates, const std::vector<int32_t>& matched,
                           const ir::StepView& view) {
  for (int32_t r : matched) {
    matched_[r] = 1;
    ++activity_[r].matched;
  }
  std::vector<interp::Evaluated> trace;
  for (int32_t r : candidates) {
    if (step_kind_ == StepKind::kTimer && p_.rules[r].trigger.kind == check::TriggerKind::kQuiet) {
      quiet_fired_[r] = 1;
      armed_.erase({customer_, r});
    }
    if (p_.rules[r].condition == check::kNoNode) continue;
    trace.clear();
    tracer_.Trace(p_.rules[r].condition, view, trace);
    for (const interp::Evaluated& e : trace) {
      if (e.value.kind != ValueKind::kBool) continue;
      (e.value.i != 0 ? seen_true_ : seen_false_)[e.node] = 1;
    }
  }
}

void Coverage::OnAction(int32_t rule, int32_t action, Outcome outcome, int64_t at, const std::vector<int64_t>&) {
  Activity& activity = activity_[rule];
  switch (outcome) {
    case Outcome::kApplied: ++activity.applied[action]; break;
    case Outcome::kAlreadySent: ++activity.suppressed[p_.rules[rule].actions[action].every_ms > 0 ? "every" : "once"]; break;
    case Outcome::kCapFull: ++activity.suppressed["cap"]; break;
    case Outcome::kDropped: ++activity.suppressed["quiet"]; break;
    default: break;
  }
  if (outcome == Outcome::kCapFull && at >= 0 && static_cast<size_t>(at) < cap_full_.size()) cap_full_[at] = 1;
  if (outcome == Outcome::kDeferred || outcome == Outcome::kDropped) {
    check::ActionKind kind = p_.rules[rule].actions[action].kind;
    int minute = MinuteOfDay(now_, p_.zone_minutes);
    for (size_t q = 0; q < p_.quiets.size(); ++q)
      if (p_.quiets[q].kind == kind && p_.quiets[q].Holds(minute)) {  // E7: the first that holds decides
        quiet_held_[q] = 1;
        break;
      }
  }
}

void Coverage::OnCancelled(int32_t rule, int32_t action, int64_t) { after_cancelled_[rule][action] = 1; }

void Coverage::OnArmed(int32_t rule, int64_t due) {
  auto [it, fresh] = armed_.try_emplace({customer_, rule}, now_, due);
  if (!fresh) {
    // A later event came before it was due (the first event arms it twice: A35, then as a watched event).
    if (it->second.first < now_ && it->second.second > now_) quiet_rearmed_[rule] = 1;
    it->second = {now_, due};
  }
}

void Coverage::OnFired(int32_t rule, int32_t action) {
  if (p_.rules[rule].actions[action].after_ms > 0) after_fired_[rule][action] = 1;
}

std::vector<Item> Coverage::Items(Lang lang) const {
  std::vector<Item> items;
  for (size_t r = 0; r < p_.rules.size(); ++r) {
    const check::Rule& rule = p_.rules[r];
    int32_t id = static_cast<int32_t>(r);
    items.push_back({id, Error::Of<ErrorKind::kCoverNeverHeld>().Message(lang), matched_[r] != 0});
    if (rule.condition != check::kNoNode) {
      std::vector<check::NodeId> nodes;
      ConditionNodes(p_, rule.condition, nodes);
      for (check::NodeId n : nodes) {
        std::string text = SourceText(p_.nodes[n].source, p_.nodes[n].span);
        items.push_back({id, Error::Of<ErrorKind::kCoverNeverTrue>({text}).Message(lang), seen_true_[n] != 0});
        items.push_back({id, Error::Of<ErrorKind::kCoverNeverFalse>({text}).Message(lang), seen_false_[n] != 0});
      }
    }
    if (rule.trigger.kind == check::TriggerKind::kQuiet) {
      std::string text = SourceText(rule.source, rule.trigger_span);
      items.push_back({id, Error::Of<ErrorKind::kCoverTimerNeverFired>({text}).Message(lang), quiet_fired_[r] != 0});
      items.push_back({id, Error::Of<ErrorKind::kCoverTimerNeverRearmed>({text}).Message(lang), quiet_rearmed_[r] != 0});
    }
    for (size_t a = 0; a < rule.actions.size(); ++a) {
      const check::Action& action = rule.actions[a];
      if (action.after_ms == 0) continue;
      std::string text = SourceText(action.source, action.span);
      items.push_back({id, Error::Of<ErrorKind::kCoverAfterNeverFired>({text}).Message(lang), after_fired_[r][a] != 0});
      if (action.unless != check::kNoUnless)
        items.push_back(
            {id, Error::Of<ErrorKind::kCoverAfterNeverCancelled>({text}).Message(lang), after_cancelled_[r][a] != 0});
    }
  }
  for (size_t c = 0; c < p_.caps.size(); ++c)
    items.push_back({-1, Error::Of<ErrorKind::kCoverCapNeverFull>({SourceText(p_.caps[c].source, p_.caps[c].span)}).Message(lang),
                     cap_full_[c] != 0});
  for (size_t q = 0; q < p_.quiets.size(); ++q)
    items.push_back({-1,
                     Error::Of<ErrorKind::kCoverQuietNeverHeld>({SourceText(p_.quiets[q].source, p_.quiets[q].span)})
                         .Message(lang),
                     quiet_held_[q] != 0});
  return items;
}

}  // namespace qm::coverage

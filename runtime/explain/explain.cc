#include "runtime/explain/explain.h"

#include <algorithm>

#include "compiler/value/value.h"

namespace qm::explain {
namespace {

using engine::Observer;
using check::NodeKind;

const char* OpSymbol(check::CmpOp op) {
  switch (op) {
    case check::CmpOp::kEq: return "=";
    case check::CmpOp::kNe: return "≠";
    case check::CmpOp::kLt: return "<";
    case check::CmpOp::kLe: return "≤";
    case check::CmpOp::kGt: return ">";
    case check::CmpOp::kGe: return "≥";
  }
  return "?";
}

const char* OutcomeName(Observer::Outcome o) {
  switch (o) {
    case Observer::Outcome::kApplied: return "applied";
    case Observer::Outcome::kNoChange: return "no_change";
    case Observer::Outcome::kUnsetValue: return "unset_value";
    case Observer::Outcome::kScheduled: return "scheduled";
    case Observer::Outcome::kAlreadySent: return "already_sent";
    case Observer::Outcome::kCapFull: return "cap_full";
    case Observer::Outcome::kDeferred: return "deferred";
    case Observer::Outcome::kDropped: return "dropped";
    case Observer::Outcome::kCascadeLimit: return "cascade_limit";
  }
  return "?";
}

const char* StepName(Observer::StepKind k) {
  switch (k) {
    case Observer::StepKind::kEvent: return "event";
    case Observer::StepKind::kTimer: return "timer";
    case Observer::StepKind::kCascade: return "cascade";
  }
  return "?";
}

std::string Quoted(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

std::string_view PeriodWord(Period p, Lang lang) {
  static const char* kZh[] = {"日", "周", "月", "季度", "年"};
  return lang == Lang::kZh ? std::string_view(kZh[static_cast<int>(p)]) : NameOf(p);
}

}  // namespace

Explainer::Explainer(const ir::Program& program, const interp::Interpreter& tracer, Options options)
    : program_(program), p_(program.checked), tracer_(tracer), options_(std::move(options)) {}

void Explainer::Seed(const state::CustomerState& state) {
  for (size_t q = 0; q < state.quiet_due.size(); ++q)
    if (state.quiet_due[q] != state::kNever) pending_.push_back({program_.quiet_rules[q], -1, state.quiet_due[q]});
  for (const state::PendingAfter& a : state.afters) pending_.push_back({a.rule, a.action, a.due});
}

void Explainer::OnStep(const StepInfo& step) {
  stream_now_ = std::max(stream_now_, step.now);
  active_ = step.customer == options_.customer && step.now <= options_.at;
  if (!active_) return;
  steps_.push_back({step.kind, step.now, step.line, step.event_type, step.depth, {}, {}, {}, {}});
}

void Explainer::OnEvaluated(const std::vector<int32_t>& candidates, const std::vector<int32_t>& matched,
                            const ir::StepView& view) {
  if (!active_) return;
  StepRecord& step = steps_.back();
  std::vector<interp::Evaluated> trace;
  for (int32_t r : candidates) {
    const check::Rule& rule = p_.rules[r];
    if (step.kind == StepKind::kTimer) {  // a `no` rule that came due is disarmed
      std::erase_if(pending_, [&](const Pending& p) { return p.rule == r && p.action < 0 && p.due == step.now; });
    }
    if (!Wanted(r)) continue;
    RuleRecord record{r, true, std::find(matched.begin(), matched.end(), r) != matched.end(), false, {}, {}};
    if (rule.condition != check::kNoNode) {
      trace.clear();
      record.held = tracer_.Trace(rule.condition, view, trace);
      if (!record.held) record.why = Why(rule.condition, trace);
    }
    step.rules.push_back(std::move(record));
  }
}

void Explainer::OnAction(int32_t rule, int32_t action, Outcome outcome, int64_t at, const std::vector<int64_t>& times) {
  if (!active_) return;
  const bool delayed = fired_;
  fired_ = false;
  if (outcome == Outcome::kScheduled || outcome == Outcome::kDeferred) pending_.push_back({rule, action, at});
  if (!Wanted(rule)) return;
  StepRecord& step = steps_.back();
  ActionRecord record{action, outcome, at, times, {}};
  if (outcome == Outcome::kApplied && !step.lines.empty()) record.line = step.lines.back();
  // A delayed action that fires has no rule record in this step: give it one.
  auto it = std::find_if(step.rules.rbegin(), step.rules.rend(), [&](const RuleRecord& r) { return r.rule == rule; });
  if (delayed || it == step.rules.rend()) {
    step.rules.push_back({rule, true, true, delayed, {}, {}});
    it = step.rules.rbegin();
  }
  it->actions.push_back(std::move(record));
}

void Explainer::OnCancelled(int32_t rule, int32_t action, int64_t due) {
  if (!active_) return;
  std::erase_if(pending_, [&](const Pending& p) { return p.rule == rule && p.action == action && p.due == due; });
  if (Wanted(rule))
    steps_.back().cancelled.push_back(
        Error::Of<ErrorKind::kExplainCancelled>({ActionText(rule, action), p_.rules[rule].name, Time(due)})
            .Message(options_.lang));
}

void Explainer::OnArmed(int32_t rule, int64_t due) {
  if (!active_) return;
  std::erase_if(pending_, [&](const Pending& p) { return p.rule == rule && p.action < 0; });
  pending_.push_back({rule, -1, due});
}

void Explainer::OnFired(int32_t rule, int32_t action) {
  if (!active_) return;
  StepRecord& step = steps_.back();
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [&](const Pending& p) { return p.rule == rule && p.action == action && p.due == step.now; });
  if (it != pending_.end()) pending_.erase(it);
  fired_ = true;  // the next OnAction is this action's
  if (Wanted(rule))
    step.fired.push_back(
        Error::Of<ErrorKind::kExplainFired>({ActionText(rule, action), p_.rules[rule].name}).Message(options_.lang));
}

void Explainer::OnLine(std::string_view line) {
  if (!active_) return;
  std::string_view trimmed = !line.empty() && line.back() == '\n' ? line.substr(0, line.size() - 1) : line;
  steps_.back().lines.emplace_back(trimmed);
}

void Explainer::OnReject(std::string_view line, std::string_view customer) {
  if (customer != options_.customer || stream_now_ > options_.at) return;  // a line past `at`
  std::string_view trimmed = !line.empty() && line.back() == '\n' ? line.substr(0, line.size() - 1) : line;
  rejects_.emplace_back(trimmed);
}

// ------------------------------------------------------------------ words

std::string Explainer::Time(int64_t ms) const { return FormatTime(ms, options_.tz_minutes); }

std::string Explainer::ValueText(const Value& v, const check::Type& type) const {
  if (v.unset()) return Error::Of<ErrorKind::kExplainUnset>().Message(options_.lang);
  std::string plain = FormatPlainValue(v, p_.MembersOf(type), options_.tz_minutes);
  return v.kind == ValueKind::kText ? Quoted(plain) : plain;
}

std::string Explainer::ActionText(int32_t rule, int32_t action) const {
  if (action < 0) return p_.rules[rule].name;
  const check::Action& a = p_.rules[rule].actions[action];
  std::string text = a.source->text().substr(a.span.begin, a.span.end - a.span.begin);
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

// What a condition operand is, in the report's language.
std::string Explainer::Describe(check::NodeId id) const {
  const check::Node& n = p_.nodes[id];
  Lang lang = options_.lang;
  switch (n.kind) {
    case NodeKind::kProfileField: return p_.profile[n.field].name;
    case NodeKind::kEventField: return p_.events[n.event].name + "." + p_.events[n.event].fields[n.field].name;
    case NodeKind::kSince:
      return Error::Of<ErrorKind::kExplainSince>({n.event == check::kAnyEvent ? std::string("any")
                                                                               : p_.events[n.event].name})
          .Message(lang);
    case NodeKind::kSinceField:
      return Error::Of<ErrorKind::kExplainSinceField>({p_.profile[n.field].name}).Message(lang);
    case NodeKind::kAggregate: {
      const check::AggregateInfo& a = p_.aggregates[n.aggregate];
      std::string what = a.event == check::kAnyEvent ? std::string("any") : p_.events[a.event].name;
      if (a.field >= 0 && a.event != check::kAnyEvent) what += "." + p_.events[a.event].fields[a.field].name;
      if (a.where != check::kNoNode) {
        const check::Node& w = p_.nodes[a.where];
        what += Error::Of<ErrorKind::kExplainWhere>({w.source->text().substr(w.span.begin, w.span.end - w.span.begin)})
                    .Message(lang);
      }
      std::string window = a.within_this ? Error::Of<ErrorKind::kExplainWithinThis>({std::string(PeriodWord(*a.within_this, lang))}).Message(lang)
                           : a.within_ms > 0 ? Error::Of<ErrorKind::kExplainWithin>({FormatDuration(a.within_ms)}).Message(lang)
                                             : Error::Of<ErrorKind::kExplainAllTime>().Message(lang);
      switch (a.func) {
        case check::AggFunc::kCount:
          return (a.distinct ? Error::Of<ErrorKind::kExplainDistinct>({what, window})
                             : Error::Of<ErrorKind::kExplainCount>({what, window}))
              .Message(lang);
        case check::AggFunc::kSum: return Error::Of<ErrorKind::kExplainSum>({what, window}).Message(lang);
        case check::AggFunc::kMin: return Error::Of<ErrorKind::kExplainMin>({what, window}).Message(lang);
        case check::AggFunc::kMax: return Error::Of<ErrorKind::kExplainMax>({what, window}).Message(lang);
        case check::AggFunc::kAvg: return Error::Of<ErrorKind::kExplainAvg>({what, window}).Message(lang);
      }
      return what;
    }
    default: return n.source->text().substr(n.span.begin, n.span.end - n.span.begin);
  }
}

// An operand with the value the step saw, or a constant as written.
std::string Explainer::Shown(check::NodeId id, const std::vector<interp::Evaluated>& trace) const {
  const check::Node& n = p_.nodes[id];
  if (n.kind == NodeKind::kConstant) return n.source->text().substr(n.span.begin, n.span.end - n.span.begin);
  for (const interp::Evaluated& e : trace)
    if (e.node == id) return Describe(id) + " (" + ValueText(e.value, n.type) + ")";
  return Describe(id);
}

// Why condition `id`, false in `trace`, failed: the first part that did.
std::string Explainer::Why(check::NodeId id, const std::vector<interp::Evaluated>& trace) const {
  const check::Node& n = p_.nodes[id];
  Lang lang = options_.lang;
  auto value_of = [&](check::NodeId node) -> const Value* {
    for (const interp::Evaluated& e : trace)
      if (e.node == node) return &e.value;
    return nullptr;
  };
  auto is_false = [&](check::NodeId node) {
    const Value* v = value_of(node);
    return v != nullptr && !(v->kind == ValueKind::kBool && v->i != 0);
  };
  auto source_of = [&](check::NodeId node) {
    const check::Node& m = p_.nodes[node];
    return m.source->text().substr(m.span.begin, m.span.end - m.span.begin);
  };
  switch (n.kind) {
    case NodeKind::kAnd:
      for (check::NodeId o : n.operands)
        if (is_false(o)) return Why(o, trace);
      break;
    case NodeKind::kOr: {
      std::string out;
      for (check::NodeId o : n.operands) {
        if (!out.empty()) out += Error::Of<ErrorKind::kExplainAnd>().Message(lang);
        out += Why(o, trace);
      }
      return out;
    }
    case NodeKind::kNot:
      if (p_.nodes[n.operands[0]].kind == NodeKind::kHas)
        return Error::Of<ErrorKind::kExplainHasTag>({p_.tags[p_.nodes[n.operands[0]].tag].name}).Message(lang);
      return Error::Of<ErrorKind::kExplainNotHolds>({source_of(n.operands[0])}).Message(lang);
    case NodeKind::kCompare: {
      const Value* lhs = value_of(n.operands[0]);
      std::string rhs = p_.nodes[n.operands[1]].kind == NodeKind::kConstant ? source_of(n.operands[1])
                                                                              : Shown(n.operands[1], trace);
      return Error::Of<ErrorKind::kExplainCompare>({Describe(n.operands[0]),
                                                    lhs ? ValueText(*lhs, p_.nodes[n.operands[0]].type) : "?",
                                                    OpSymbol(n.op), rhs})
          .Message(lang);
    }
    case NodeKind::kIn: {
      const Value* v = value_of(n.operands[0]);
      std::string list;
      for (const check::Constant& c : n.constants) {
        if (!list.empty()) list += ", ";
        list += c.text.empty() ? FormatPlainValue(ir::ConstantValue(c), p_.MembersOf(c.type), options_.tz_minutes) : c.text;
      }
      std::string shown = v ? ValueText(*v, p_.nodes[n.operands[0]].type) : "?";
      return (n.negated && v && !v->unset() ? Error::Of<ErrorKind::kExplainIn>({Describe(n.operands[0]), shown, list})
                                            : Error::Of<ErrorKind::kExplainNotIn>({Describe(n.operands[0]), shown, list}))
          .Message(lang);
    }
    case NodeKind::kContains: {
      const Value* v = value_of(n.operands[0]);
      return Error::Of<ErrorKind::kExplainNotContains>(
                 {Describe(n.operands[0]), v ? ValueText(*v, p_.nodes[n.operands[0]].type) : "?", Quoted(n.constants[0].text)})
          .Message(lang);
    }
    case NodeKind::kHas: return Error::Of<ErrorKind::kExplainNoTag>({p_.tags[n.tag].name}).Message(lang);
    default: {
      const Value* v = value_of(id);
      return Error::Of<ErrorKind::kExplainNotTrue>({Describe(id), v ? ValueText(*v, n.type) : "?"}).Message(lang);
    }
  }
  return source_of(id);
}

std::string Explainer::OutcomeText(const RuleRecord& r, const ActionRecord& a) const {
  Lang lang = options_.lang;
  std::string what = ActionText(r.rule, a.action);
  switch (a.outcome) {
    case Outcome::kApplied: return Error::Of<ErrorKind::kExplainApplied>({what}).Message(lang);
    case Outcome::kNoChange: return Error::Of<ErrorKind::kExplainNoChange>({what}).Message(lang);
    case Outcome::kUnsetValue: return Error::Of<ErrorKind::kExplainUnsetValue>({what}).Message(lang);
    case Outcome::kScheduled: {
      const check::Action& action = p_.rules[r.rule].actions[a.action];
      if (action.unless == check::kNoUnless) return Error::Of<ErrorKind::kExplainScheduled>({what, Time(a.at)}).Message(lang);
      std::string unless = action.unless == check::kAnyEvent ? "any" : p_.events[action.unless].name;
      return Error::Of<ErrorKind::kExplainScheduledUnless>({what, Time(a.at), unless}).Message(lang);
    }
    case Outcome::kAlreadySent:
      return (p_.rules[r.rule].actions[a.action].every_ms > 0 ? Error::Of<ErrorKind::kExplainEvery>({what, Time(a.at)})
                                                              : Error::Of<ErrorKind::kExplainOnce>({what, Time(a.at)}))
          .Message(lang);
    case Outcome::kCapFull: {
      std::string times;
      for (int64_t t : a.times) times += (times.empty() ? "" : ", ") + Time(t);
      return Error::Of<ErrorKind::kExplainCap>({what, times}).Message(lang);
    }
    case Outcome::kDeferred: return Error::Of<ErrorKind::kExplainDeferred>({what, Time(a.at)}).Message(lang);
    case Outcome::kDropped: return Error::Of<ErrorKind::kExplainDropped>({what}).Message(lang);
    case Outcome::kCascadeLimit: return Error::Of<ErrorKind::kExplainCascadeLimit>({p_.rules[r.rule].name}).Message(lang);
  }
  return what;
}

std::string Explainer::Text() const {
  Lang lang = options_.lang;
  std::string out;
  if (steps_.empty()) {
    std::string until = options_.at == std::numeric_limits<int64_t>::max()
                            ? std::string()
                            : Error::Of<ErrorKind::kExplainUntil>({Time(options_.at)}).Message(lang);
    out += Error::Of<ErrorKind::kExplainNoSteps>({options_.customer, until}).Message(lang) + "\n";
  } else {
    out += Error::Of<ErrorKind::kExplainTitle>({options_.customer, std::to_string(steps_.size())}).Message(lang) + "\n";
  }
  for (const StepRecord& s : steps_) {
    out += "\n";
    switch (s.kind) {
      case StepKind::kEvent:
        out += Error::Of<ErrorKind::kExplainEventStep>({Time(s.now), p_.events[s.event_type].name, std::to_string(s.line)})
                   .Message(lang);
        break;
      case StepKind::kTimer: out += Error::Of<ErrorKind::kExplainTimerStep>({Time(s.now)}).Message(lang); break;
      case StepKind::kCascade:
        out += Error::Of<ErrorKind::kExplainCascadeStep>({Time(s.now), std::to_string(s.depth)}).Message(lang);
        break;
    }
    out += "\n";
    for (const std::string& c : s.cancelled) out += "  - " + c + "\n";
    for (const std::string& f : s.fired) out += "  - " + f + "\n";
    for (const RuleRecord& r : s.rules) {
      bool cascade_limited = !r.actions.empty() && r.actions[0].outcome == Outcome::kCascadeLimit;
      if (cascade_limited) {
        out += "  ! " + OutcomeText(r, r.actions[0]) + "\n";
        continue;
      }
      if (r.delayed) {
        for (const ActionRecord& a : r.actions) {
          out += "  → " + OutcomeText(r, a) + "\n";
          if (!a.line.empty()) out += "        " + a.line + "\n";
        }
        continue;
      }
      out += r.held ? "  ✓ " + Error::Of<ErrorKind::kExplainHeld>({p_.rules[r.rule].name}).Message(lang)
                    : "  ✗ " + Error::Of<ErrorKind::kExplainNotHeld>({p_.rules[r.rule].name, r.why}).Message(lang);
      if (r.held != r.matched) out += " (" + Error::Of<ErrorKind::kExplainDisagree>().Message(lang) + ")";
      out += "\n";
      for (const ActionRecord& a : r.actions) {
        out += "      " + OutcomeText(r, a) + "\n";
        if (!a.line.empty()) out += "        " + a.line + "\n";
      }
    }
  }
  if (!rejects_.empty()) {
    out += "\n" + Error::Of<ErrorKind::kExplainRejects>({options_.customer}).Message(lang) + "\n";
    for (const std::string& r : rejects_) out += "  " + r + "\n";
  }
  std::vector<Pending> pending = pending_;
  std::erase_if(pending, [&](const Pending& p) { return !Wanted(p.rule); });
  std::stable_sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) { return a.due < b.due; });
  if (!pending.empty()) {
    out += "\n" + Error::Of<ErrorKind::kExplainPending>().Message(lang) + "\n";
    for (const Pending& p : pending) {
      out += "  " + (p.action < 0 ? Error::Of<ErrorKind::kExplainPendingQuiet>({p_.rules[p.rule].name, Time(p.due)})
                                  : Error::Of<ErrorKind::kExplainPendingAction>(
                                        {ActionText(p.rule, p.action), p_.rules[p.rule].name, Time(p.due)}))
                        .Message(lang) +
             "\n";
    }
  }
  return out;
}

std::string Explainer::Json() const {
  std::string out = "{\"customer\":" + Quoted(options_.customer) + ",\"steps\":[";
  for (size_t i = 0; i < steps_.size(); ++i) {
    const StepRecord& s = steps_[i];
    out += std::string(i ? "," : "") + "{\"kind\":\"" + StepName(s.kind) + "\",\"time\":" + Quoted(Time(s.now));
    if (s.kind == StepKind::kEvent) out += ",\"line\":" + std::to_string(s.line) + ",\"event\":" + Quoted(p_.events[s.event_type].name);
    if (s.kind == StepKind::kCascade) out += ",\"depth\":" + std::to_string(s.depth);
    out += ",\"rules\":[";
    for (size_t k = 0; k < s.rules.size(); ++k) {
      const RuleRecord& r = s.rules[k];
      out += std::string(k ? "," : "") + "{\"rule\":" + Quoted(p_.rules[r.rule].name);
      out += r.delayed ? std::string(",\"delayed\":true") : std::string(",\"held\":") + (r.held ? "true" : "false");
      if (!r.held) out += ",\"why\":" + Quoted(r.why);
      out += ",\"actions\":[";
      for (size_t a = 0; a < r.actions.size(); ++a) {
        const ActionRecord& x = r.actions[a];
        out += std::string(a ? "," : "") + "{\"action\":" + Quoted(ActionText(r.rule, x.action)) + ",\"outcome\":\"" +
               OutcomeName(x.outcome) + "\",\"explanation\":" + Quoted(OutcomeText(r, x));
        if (!x.line.empty()) out += ",\"line\":" + Quoted(x.line);
        out += "}";
      }
      out += "]}";
    }
    out += "],\"fired\":[";
    for (size_t k = 0; k < s.fired.size(); ++k) out += std::string(k ? "," : "") + Quoted(s.fired[k]);
    out += "],\"cancelled\":[";
    for (size_t k = 0; k < s.cancelled.size(); ++k) out += std::string(k ? "," : "") + Quoted(s.cancelled[k]);
    out += "],\"lines\":[";
    for (size_t k = 0; k < s.lines.size(); ++k) out += std::string(k ? "," : "") + s.lines[k];
    out += "]}";
  }
  out += "],\"rejects\":[";
  for (size_t k = 0; k < rejects_.size(); ++k) out += std::string(k ? "," : "") + rejects_[k];
  out += "],\"pending\":[";
  bool first = true;
  for (const Pending& p : pending_) {
    if (!Wanted(p.rule)) continue;
    out += std::string(first ? "" : ",") + "{\"rule\":" + Quoted(p_.rules[p.rule].name) + ",\"action\":" +
           (p.action < 0 ? std::string("null") : Quoted(ActionText(p.rule, p.action))) + ",\"due\":" + Quoted(Time(p.due)) + "}";
    first = false;
  }
  out += "]}\n";
  return out;
}

}  // namespace qm::explain

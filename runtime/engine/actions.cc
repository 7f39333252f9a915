// Actions and their output lines (A22-A28, A41, A42).
#include "runtime/engine/internal/impl.h"

#include <algorithm>

#include "compiler/diag/diag.h"

namespace qm::engine {

void Engine::Impl::ApplyRule(int32_t r, ChangeLog& log) {
  const check::Rule& rule = p_.rules[r];
  for (size_t a = 0; a < rule.actions.size(); ++a) {
    const check::Action& action = rule.actions[a];
    Value value = ActionValue(action);
    if (action.after_ms > 0) {
      PendingAfter pending{next_seq_++, step_.now + action.after_ms, r, static_cast<int32_t>(a), action.unless,
                           Stored::Of(value)};
      timers_.insert(TimerKey{pending.due, step_.state->id, step_.state, 1, pending.seq, pending.unless});
      step_.state->afters.insert(std::move(pending));
      continue;
    }
    Apply(r, static_cast<int32_t>(a), value, log);
  }
}

Value Engine::Impl::ActionValue(const check::Action& a) const {
  if (a.kind != check::ActionKind::kSet && a.kind != check::ActionKind::kAdd) return {};
  switch (a.value.kind) {
    case check::ActionValue::Kind::kConstant: return ConstantValue(a.value.constant);
    case check::ActionValue::Kind::kEventField: return step_.EventField(a.value.field);
    case check::ActionValue::Kind::kProfileField: return step_.ProfileField(a.value.field);
    case check::ActionValue::Kind::kTs: return Value::Time(step_.now);
  }
  return {};
}

std::string Engine::Impl::Prefix(const std::string& rule) {
  // `{"ts":"…","customer":"…",` is the same for every line of a step.
  if (prefix_time_ != step_.now || prefix_customer_ != step_.customer) {
    prefix_ = "{\"ts\":\"" + FormatTime(step_.now, options_.tz_minutes) + "\",\"customer\":";
    AppendJsonString(prefix_, *step_.customer);
    prefix_time_ = step_.now;
    prefix_customer_ = step_.customer;
  }
  std::string line = prefix_;
  line += ",\"rule\":";
  AppendJsonString(line, rule);
  line += ",";
  return line;
}

void Engine::Impl::Emit(std::string_view kind, const std::string& line) {
  out_.Action(line);
  ++stats_.actions[std::string(kind)];
}

void Engine::Impl::ChangeField(const check::Rule& rule, int32_t f, const Value& to, const Value* by, ChangeLog& log) {
  const check::FieldInfo& field = p_.profile[f];
  Stored& slot = step_.state->profile[f];
  Value from = slot.view();
  if (!from.unset() && ValuesEqual(from, to)) return;
  const std::vector<std::string>& members = p_.MembersOf(field.type);
  auto json = [&](const Value& v) { return FormatJsonValue(v, members, options_.tz_minutes); };
  std::string_view kind = check::Spelling(by != nullptr ? check::ActionKind::kAdd : check::ActionKind::kSet);
  std::string line = Prefix(rule.name) + "\"action\":\"" + std::string(kind) + "\",\"field\":";
  AppendJsonString(line, field.name);
  if (by != nullptr) line += ",\"by\":" + json(*by);
  line += ",\"from\":" + json(from) + ",\"to\":" + json(to) + "}\n";
  log.Field(f, slot);
  slot = Stored::Of(to);
  Emit(kind, line);
}

void Engine::Impl::Apply(int32_t r, int32_t index, const Value& value, ChangeLog& log) {
  const check::Rule& rule = p_.rules[r];
  const check::Action& a = rule.actions[index];
  CustomerState& s = *step_.state;
  switch (a.kind) {
    case check::ActionKind::kSet:
      if (value.unset()) return;  // A24
      ChangeField(rule, a.field, Convert(value, p_.profile[a.field].type), nullptr, log);
      return;
    case check::ActionKind::kAdd: {
      if (value.unset()) return;  // A25
      const check::FieldInfo& field = p_.profile[a.field];
      Value by = Convert(value, field.type);
      Value from = s.profile[a.field].view();
      Value to;
      switch (field.type.kind) {
        case check::TypeKind::kNumber: to = Value::Number((from.unset() ? 0.0 : from.d) + by.d); break;
        case check::TypeKind::kMoney: to = Value::Money(SaturatingAdd(from.unset() ? 0 : from.i, by.i)); break;
        default: to = Value::Int(SaturatingAdd(from.unset() ? 0 : from.i, by.i)); break;
      }
      ChangeField(rule, a.field, to, &by, log);
      return;
    }
    case check::ActionKind::kTag:
    case check::ActionKind::kUntag: {
      uint8_t want = a.kind == check::ActionKind::kTag ? 1 : 0;
      if (s.tags[a.tag] == want) return;  // A22
      log.Tag(a.tag, s.tags[a.tag]);
      s.tags[a.tag] = want;
      std::string line = Prefix(rule.name) + "\"action\":\"" + std::string(check::Spelling(a.kind)) + "\",\"tag\":";
      AppendJsonString(line, p_.tags[a.tag].name);
      line += "}\n";
      Emit(check::Spelling(a.kind), line);
      return;
    }
    case check::ActionKind::kPush:
    case check::ActionKind::kInvite: {
      int32_t target = program_.push_target[r][index];
      auto it = std::find_if(s.pushes.begin(), s.pushes.end(), [&](const auto& p) { return p.first == target; });
      if (it != s.pushes.end() && (a.every_ms == 0 || step_.now - it->second < a.every_ms)) return;  // A26
      if (it == s.pushes.end()) s.pushes.emplace_back(target, step_.now);
      else it->second = step_.now;
      std::string_view kind = check::Spelling(a.kind);
      std::string line = Prefix(rule.name) + "\"action\":\"" + std::string(kind) + "\",\"target\":";
      AppendJsonString(line, a.text);
      line += "}\n";
      Emit(kind, line);
      return;
    }
    case check::ActionKind::kNotify: {
      std::string line = Prefix(rule.name) + "\"action\":\"notify\",\"target\":";
      AppendJsonString(line, a.text);
      line += ",\"message\":";
      AppendJsonString(line, a.message);
      line += "}\n";
      Emit(check::Spelling(a.kind), line);
      return;
    }
  }
}

}  // namespace qm::engine

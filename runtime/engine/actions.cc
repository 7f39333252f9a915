// Actions and their output lines (A22-A28, A41, A42).
#include "runtime/engine/internal/impl.h"

#include <algorithm>

#include "compiler/diag/diag.h"

namespace qm::engine {

void Engine::Impl::ApplyRule(int32_t r, ChangeLog& log) {
  const check::Rule& rule = p_.rules[r];
  ++stats_.fired[r];
  if (undo_ != nullptr) [[unlikely]] undo_->fired.push_back(r);
  for (size_t a = 0; a < rule.actions.size(); ++a) {
    const check::Action& action = rule.actions[a];
    Resolved resolved;
    Resolve(action, resolved);
    if (action.after_ms > 0) {
      Observe(r, static_cast<int32_t>(a), Observer::Outcome::kScheduled, step_.now + action.after_ms);
      Schedule(PendingAfter{next_seq_++, step_.now + action.after_ms, r, static_cast<int32_t>(a), action.unless,
                            Stored::Of(resolved.value), std::string(resolved.target), std::string(resolved.message)});
      continue;
    }
    Apply(r, static_cast<int32_t>(a), resolved, log);
  }
}

void Engine::Impl::Schedule(PendingAfter pending) {
  Queue(TimerKey{pending.due, step_.state->id, step_.state, 1, pending.seq, pending.unless, pending.deferred});
  state::PendingAfters& afters = step_.state->afters.Make();
  if (spare_afters_.empty()) {
    afters.insert(std::move(pending));
    return;
  }
  auto node = std::move(spare_afters_.back());
  spare_afters_.pop_back();
  node.value() = std::move(pending);
  afters.insert(std::move(node));
}

void Engine::Impl::Resolve(const check::Action& a, Resolved& r) const {
  switch (a.kind) {
    case check::ActionKind::kSet: case check::ActionKind::kAdd: r.value = Read(a.value); break;
    case check::ActionKind::kTag: case check::ActionKind::kUntag: break;
    case check::ActionKind::kPush: case check::ActionKind::kInvite: r.target = Text(a.target, r.rendered_target); break;
    case check::ActionKind::kNotify:
      r.target = Text(a.target, r.rendered_target);
      r.message = Text(a.body, r.rendered_message);
      break;
  }
}

std::string_view Engine::Impl::Text(const check::Template& t, std::string& rendered) const {
  if (t.fixed()) return t.texts.empty() ? std::string_view() : std::string_view(t.texts[0]);
  rendered = Render(t);
  return rendered;
}

Value Engine::Impl::Read(const check::ActionValue& v) const {
  switch (v.kind) {
    case check::ActionValue::Kind::kConstant: return ConstantValue(v.constant);
    case check::ActionValue::Kind::kEventField: return step_.EventField(v.field);
    case check::ActionValue::Kind::kProfileField: return step_.ProfileField(v.field);
    case check::ActionValue::Kind::kTs: return Value::Time(step_.now);
    case check::ActionValue::Kind::kCustomer: return Value::Text(*step_.customer);
  }
  return {};
}

std::string Engine::Impl::Render(const check::Template& t) const {
  if (t.texts.empty()) return {};  // an action without a target (set, add, tag)
  if (t.fixed()) return t.texts[0];
  std::string out = t.texts[0];
  for (size_t i = 0; i < t.values.size(); ++i) {
    // D6: as A42 spells values, without JSON quotes; unset is empty.
    out += FormatPlainValue(Read(t.values[i]), p_.MembersOf(t.values[i].type), options_.tz_minutes);
    out += t.texts[i + 1];
  }
  return out;
}

std::string Engine::Impl::Head(std::string_view rule, std::string_view kind) {
  std::string head = ",\"rule\":";
  AppendJsonString(head, rule);
  head += ",\"action\":\"";
  head += kind;
  head += '"';
  return head;
}

void Engine::Impl::MakeHeads() {
  for (const check::Rule& rule : p_.rules) {
    std::vector<std::string>& heads = heads_.emplace_back();
    for (const check::Action& a : rule.actions) {
      std::string head = Head(rule.name, check::Spelling(a.kind));
      switch (a.kind) {
        case check::ActionKind::kSet: case check::ActionKind::kAdd:
          head += ",\"field\":";
          AppendJsonString(head, p_.profile[a.field].name);
          break;
        case check::ActionKind::kTag: case check::ActionKind::kUntag:
          head += ",\"tag\":";
          AppendJsonString(head, p_.tags[a.tag].name);
          head += "}\n";
          break;
        case check::ActionKind::kPush: case check::ActionKind::kInvite: case check::ActionKind::kNotify:
          head += ",\"target\":";
          break;
      }
      heads.push_back(std::move(head));
    }
  }
}

void Engine::Impl::StartLine(std::string_view head) {
  // `{"ts":"…","customer":…` is the same for every line of a step: it stays
  // at the front of line_ from one of them to the next (Begin forgets it, so
  // a reject or merge line between steps never leaves its bytes).
  if (prefix_customer_ != step_.customer || prefix_time_ != step_.now) {
    line_.assign("{\"ts\":\"");
    AppendTime(line_, step_.now, options_.tz_minutes);
    line_ += "\",\"customer\":";
    AppendJsonString(line_, *step_.customer);
    prefix_size_ = line_.size();
    prefix_time_ = step_.now;
    prefix_customer_ = step_.customer;
  } else {
    line_.resize(prefix_size_);
  }
  line_ += head;
}

void Engine::Impl::Emit(std::string_view kind) {
  if (observer_ != nullptr) [[unlikely]] observer_->OnLine(line_);
  out_.Action(line_);
  Count(stats_.actions, kind);
}

bool Engine::Impl::ChangeField(int32_t r, int32_t index, int32_t f, const Value& to, const Value* by, ChangeLog& log) {
  Stored& slot = step_.state->profile[f];
  Value from = slot.view();
  if (!from.unset() && ValuesEqual(from, to)) return false;
  const std::vector<std::string>& members = p_.MembersOf(p_.profile[f].type);
  StartLine(heads_[r][index]);
  if (by != nullptr) {
    line_ += ",\"by\":";
    AppendJsonValue(line_, *by, members, options_.tz_minutes);
  }
  line_ += ",\"from\":";
  AppendJsonValue(line_, from, members, options_.tz_minutes);
  line_ += ",\"to\":";
  AppendJsonValue(line_, to, members, options_.tz_minutes);
  line_ += "}\n";
  log.Field(f, slot);
  slot = Stored::Of(to);
  Emit(check::Spelling(by != nullptr ? check::ActionKind::kAdd : check::ActionKind::kSet));
  return true;
}

void Engine::Impl::Apply(int32_t r, int32_t index, const Resolved& resolved, ChangeLog& log) {
  const check::Rule& rule = p_.rules[r];
  const check::Action& a = rule.actions[index];
  CustomerState& s = *step_.state;
  const Value& value = resolved.value;
  switch (a.kind) {
    case check::ActionKind::kSet:
      if (value.unset()) return Observe(r, index, Observer::Outcome::kUnsetValue);  // A24
      Observe(r, index, ChangeField(r, index, a.field, Convert(value, p_.profile[a.field].type), nullptr, log)
                            ? Observer::Outcome::kApplied
                            : Observer::Outcome::kNoChange);
      return;
    case check::ActionKind::kAdd: {
      if (value.unset()) return Observe(r, index, Observer::Outcome::kUnsetValue);  // A25
      const check::FieldInfo& field = p_.profile[a.field];
      Value by = Convert(value, field.type);
      Value from = s.profile[a.field].view();
      Value to = AddValues(from, by, field.type.kind);
      Observe(r, index, ChangeField(r, index, a.field, to, &by, log) ? Observer::Outcome::kApplied
                                                                 : Observer::Outcome::kNoChange);
      return;
    }
    case check::ActionKind::kTag:
    case check::ActionKind::kUntag: {
      uint8_t want = a.kind == check::ActionKind::kTag ? 1 : 0;
      if (s.tags[a.tag] == want) return Observe(r, index, Observer::Outcome::kNoChange);  // A22
      log.Tag(a.tag, s.tags[a.tag]);
      s.tags.Set(a.tag, want);
      StartLine(heads_[r][index]);
      Emit(check::Spelling(a.kind));
      Observe(r, index, Observer::Outcome::kApplied);
      return;
    }
    case check::ActionKind::kPush:
    case check::ActionKind::kInvite: {
      // E6: A26, then the caps (D4), then quiet hours (D5).
      auto it = std::find_if(s.pushes.begin(), s.pushes.end(),
                             [&](const auto& p) { return check::IsTargetKey(p.first, a.kind, resolved.target); });
      if (it != s.pushes.end() && (a.every_ms == 0 || step_.now - it->second < a.every_ms)) {
        ++suppressed_[a.every_ms == 0 ? kOnce : kEvery];
        return Observe(r, index, Observer::Outcome::kAlreadySent, it->second);
      }
      if (CapFull(a.kind, resolved.target)) {
        ++suppressed_[kCap];
        if (observer_ != nullptr) [[unlikely]] {
          std::vector<int64_t> times;
          int64_t which = -1;
          CapFull(a.kind, resolved.target, &times, &which);
          Observe(r, index, Observer::Outcome::kCapFull, which, times);
        }
        return;
      }
      if (HeldByQuiet(r, index, a.kind, resolved)) return;
      // Sent: the histories keep it. A key is built only where one is kept:
      // past 15 bytes (`p:高端会员群`) a string allocates.
      if (it == s.pushes.end()) s.pushes.emplace_back(check::TargetKey(a.kind, resolved.target), step_.now);
      else it->second = step_.now;
      if (caps_window_ms_ > 0) {
        std::vector<state::Emission>& emissions = s.emissions.Make();
        auto gone = [&](const state::Emission& e) { return e.ts <= step_.now - caps_window_ms_; };
        for (state::Emission& e : emissions)
          if (gone(e) && spare_keys_.size() < kSpareKeys) spare_keys_.push_back(std::move(e.key));
        std::erase_if(emissions, gone);
        std::string key;
        if (!spare_keys_.empty()) {
          key = std::move(spare_keys_.back());
          spare_keys_.pop_back();
        }
        check::AssignTargetKey(key, a.kind, resolved.target);
        emissions.push_back({step_.now, std::move(key)});
      }
      std::string_view kind = check::Spelling(a.kind);
      StartLine(heads_[r][index]);
      AppendJsonString(line_, resolved.target);
      line_ += "}\n";
      Emit(kind);
      Observe(r, index, Observer::Outcome::kApplied);
      return;
    }
    case check::ActionKind::kNotify: {
      if (HeldByQuiet(r, index, a.kind, resolved)) return;  // never capped (D4)
      StartLine(heads_[r][index]);
      AppendJsonString(line_, resolved.target);
      line_ += ",\"message\":";
      AppendJsonString(line_, resolved.message);
      line_ += "}\n";
      Emit(check::Spelling(a.kind));
      Observe(r, index, Observer::Outcome::kApplied);
      return;
    }
  }
}

bool Engine::Impl::CapFull(check::ActionKind kind, std::string_view target, std::vector<int64_t>* times,
                           int64_t* which) const {
  const std::vector<state::Emission>& emitted = *step_.state->emissions;
  for (const check::Cap& cap : p_.caps) {
    if (!cap.Covers(kind, target)) continue;
    int64_t n = 0;
    for (const state::Emission& e : emitted) {
      // E21: `p:`/`i:` and the target, as TargetKey wrote them.
      bool same_kind = (e.key[0] == 'i') == (kind == check::ActionKind::kInvite);
      if (same_kind && e.ts > step_.now - cap.per_ms && e.ts <= step_.now &&
          cap.Covers(kind, std::string_view(e.key).substr(2))) {
        ++n;
        if (times != nullptr) times->push_back(e.ts);
      }
    }
    if (n >= cap.count) {
      if (which != nullptr) *which = &cap - p_.caps.data();
      return true;
    }
    if (times != nullptr) times->clear();
  }
  return false;
}

bool Engine::Impl::HeldByQuiet(int32_t r, int32_t index, check::ActionKind kind, const Resolved& resolved) {
  if (p_.quiets.empty()) return false;
  int minute = MinuteOfDay(step_.now, p_.zone_minutes);
  for (const check::Quiet& q : p_.quiets) {
    if (q.kind != kind || !q.Holds(minute)) continue;  // E7: the first window that holds decides
    if (q.drop) {
      ++suppressed_[kQuiet];
      Observe(r, index, Observer::Outcome::kDropped);
    } else {
      int64_t until = NextTimeOfDay(step_.now, q.end_minute, p_.zone_minutes);
      Observe(r, index, Observer::Outcome::kDeferred, until);
      Schedule(PendingAfter{next_seq_++, until, r, index,
                            check::kNoUnless, Stored{}, std::string(resolved.target), std::string(resolved.message),
                            /*deferred=*/true});
    }
    return true;
  }
  return false;
}

}  // namespace qm::engine

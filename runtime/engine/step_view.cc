// What conditions read in a step: `since`, aggregates over the windows (A18-A20).
#include "runtime/engine/internal/impl.h"

#include <algorithm>

namespace qm::engine {

Value Engine::Impl::EventField(int32_t field) const {
  return event_ != nullptr ? event_->fields[field] : Value{};
}

Value Engine::Impl::Since(int32_t event) const {
  int64_t last = event == check::kAnyEvent ? s_->last_any : s_->last_event[event];
  return last == kNever ? Value{} : Value::Duration(now_ - last);
}

Value Engine::Impl::SinceField(int32_t field) const {
  const Stored& f = s_->profile[field];
  return f.kind == ValueKind::kUnset ? Value{} : Value::Duration(now_ - f.i);
}

namespace {

// An aggregate's value from its totals (A19).
Value ValueOf(const check::AggregateInfo& info, const check::Type& type, const state::Totals& t) {
  bool is_number = type.kind == check::TypeKind::kNumber;
  ValueKind kind = KindOf(type);
  switch (info.func) {
    case check::AggFunc::kCount: return Value::Int(t.count);
    case check::AggFunc::kSum:
      if (is_number) return Value::Number(t.dsum);
      return Value{kind, t.ClampedSum()};  // A19: exact, then saturated
    case check::AggFunc::kMin:
      if (t.count == 0) return {};
      return is_number ? Value::Number(t.min_d) : Value{kind, t.min_i};
    case check::AggFunc::kMax:
      if (t.count == 0) return {};
      return is_number ? Value::Number(t.max_d) : Value{kind, t.max_i};
    case check::AggFunc::kAvg: {
      if (t.count == 0) return {};
      if (is_number) return Value::Number(t.dsum / static_cast<double>(t.count));
      Value r{ValueKind::kRatio, t.ClampedSum()};
      r.j = kind == ValueKind::kMoney ? t.count * 100 : t.count;
      return r;
    }
  }
  return {};
}

}  // namespace

Value Engine::Impl::Aggregate(int32_t a) const {
  const check::AggregateInfo& info = p_.aggregates[a];
  const AggregateState& st = s_->aggregates[a];
  check::Type type = info.field >= 0 ? p_.events[info.event].fields[info.field].type : check::Type{check::TypeKind::kInt};
  if (info.within_ms == 0) return ValueOf(info, type, st);
  return ValueOf(info, type, st.Window(now_ - info.within_ms, now_));  // A18: now - D <= ts <= now
}

}  // namespace qm::engine

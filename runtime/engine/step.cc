// What conditions read in a step (internal/step.h): `since`, aggregates over the windows (A18-A20).
#include "runtime/engine/internal/step.h"

#include <algorithm>

namespace qm::engine_internal {

using state::AggregateState;
using state::kNever;
using state::Stored;
using ir::KindOf;

Value Step::Since(int32_t event) const {
  int64_t last = event == check::kAnyEvent ? state->last_any : state->last_event[event];
  return last == kNever ? Value{} : Value::Duration(now - last);
}

Value Step::SinceField(int32_t field) const {
  const Stored& f = state->profile[field];
  return f.kind == ValueKind::kUnset ? Value{} : Value::Duration(now - f.i);
}

namespace {

// Whether ValueOf reads more of the totals than the count and the exact
// sum: a double sum, a minimum or a maximum.
bool ReadsRest(const check::AggregateInfo& info, const check::Type& type) {
  return info.func == check::AggFunc::kMin || info.func == check::AggFunc::kMax || type.kind == check::TypeKind::kNumber;
}

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

Value Step::Aggregate(int32_t a) const {
  const check::AggregateInfo& info = p_.aggregates[a];
  const AggregateState& st = state->aggregates[a];
  check::Type type = info.ValueType(p_);
  if (info.distinct) {  // D10
    if (!info.Windowed()) return Value::Int(st.DistinctSeen());
    return Value::Int(st.DistinctIn(info.WindowFrom(now, p_.zone_minutes), now));
  }
  if (!info.Windowed()) return ValueOf(info, type, st.Whole(ReadsRest(info, type)));
  // A18: now - D <= ts <= now; D2: period start <= ts <= now
  return ValueOf(info, type, st.Window(info.WindowFrom(now, p_.zone_minutes), now));
}

}  // namespace qm::engine_internal

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

Value Engine::Impl::Aggregate(int32_t a) const {
  const check::AggregateInfo& info = p_.aggregates[a];
  const AggregateState& st = s_->aggregates[a];
  check::Type type = info.field >= 0 ? p_.events[info.event].fields[info.field].type : check::Type{check::TypeKind::kInt};
  bool is_number = type.kind == check::TypeKind::kNumber;
  int64_t count = 0;
  __int128 sum = 0;
  double dsum = 0;
  int64_t min_i = 0, max_i = 0;
  double min_d = 0, max_d = 0;
  if (info.within_ms == 0) {
    count = st.count;
    sum = st.sum;
    dsum = st.dsum;
    min_i = st.min_i; max_i = st.max_i; min_d = st.min_d; max_d = st.max_d;
  } else {
    // A18: now - D <= ts <= now.
    int64_t from = now_ - info.within_ms;
    auto begin = std::lower_bound(st.window.begin() + st.head, st.window.end(), from,
                                  [](const AggregateState::Entry& e, int64_t t) { return e.ts < t; });
    for (auto it = begin; it != st.window.end() && it->ts <= now_; ++it) {
      if (count == 0) { min_i = max_i = it->i; min_d = max_d = it->d; }
      ++count;
      sum += it->i;
      dsum += it->d;
      min_i = std::min(min_i, it->i); max_i = std::max(max_i, it->i);
      min_d = std::min(min_d, it->d); max_d = std::max(max_d, it->d);
    }
  }
  ValueKind kind = KindOf(type);
  switch (info.func) {
    case check::AggFunc::kCount: return Value::Int(count);
    case check::AggFunc::kSum:
      if (is_number) return Value::Number(dsum);
      return Value{kind, Clamp(sum)};  // A19: exact, then saturated
    case check::AggFunc::kMin:
      if (count == 0) return {};
      return is_number ? Value::Number(min_d) : Value{kind, min_i};
    case check::AggFunc::kMax:
      if (count == 0) return {};
      return is_number ? Value::Number(max_d) : Value{kind, max_i};
    case check::AggFunc::kAvg: {
      if (count == 0) return {};
      if (is_number) return Value::Number(dsum / static_cast<double>(count));
      Value r{ValueKind::kRatio, Clamp(sum)};
      r.j = kind == ValueKind::kMoney ? count * 100 : count;
      return r;
    }
  }
  return {};
}

}  // namespace qm::engine

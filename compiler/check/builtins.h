// The builtins of conditions (A15-A17, C5), defined once: the interpreter,
// the JIT's runtime calls and the lints all call these, so the engines and
// the warnings cannot disagree on what `in`, `contains` or `<` mean.
#ifndef QM_COMPILER_CHECK_BUILTINS_H_
#define QM_COMPILER_CHECK_BUILTINS_H_

#include <optional>
#include <span>
#include <string_view>

#include "compiler/check/check.h"
#include "compiler/value/value.h"

namespace qm::check {

// Whether `a op b` holds when a <=> b is `order` (-1, 0, 1).
bool Holds(CmpOp op, int order);

// `a op b` (A17): never holds when a side is unset or the values do not
// order (NaN), `!=` included.
inline bool CompareHolds(CmpOp op, const Value& a, const Value& b) {
  const int order = Order(a, b);
  return order != kNoOrder && Holds(op, order);
}

// `x in (list)`: nullopt when `x` is unset (C5: `in` and `not in` are then
// both false).
inline std::optional<bool> InList(const Value& x, std::span<const Value> list) {
  if (x.unset()) return std::nullopt;
  for (const Value& v : list) {
    if (x.kind == ValueKind::kText && v.kind == ValueKind::kText) {  // the usual list: lengths first, no order
      if (x.text == v.text) return true;
      continue;
    }
    if (Order(x, v) == 0) return true;
  }
  return false;
}

// `hour(t)` and the other clock functions (D1): an int, unset when `t` is.
inline Value Clock(ClockPart part, const Value& t, int zone_minutes) {
  if (t.unset()) return {};
  return Value::Int(ClockOf(part, t.i, zone_minutes));
}

inline bool TextContains(std::string_view text, std::string_view needle) {
  return text.find(needle) != std::string_view::npos;
}
// `x contains needle`: false when `x` is unset.
inline bool Contains(const Value& x, std::string_view needle) { return !x.unset() && TextContains(x.text, needle); }

}  // namespace qm::check

#endif  // QM_COMPILER_CHECK_BUILTINS_H_

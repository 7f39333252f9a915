#include "compiler/check/builtins.h"

namespace qm::check {

bool Holds(CmpOp op, int order) {
  switch (op) {
    case CmpOp::kEq: return order == 0;
    case CmpOp::kNe: return order != 0;
    case CmpOp::kLt: return order < 0;
    case CmpOp::kLe: return order <= 0;
    case CmpOp::kGt: return order > 0;
    case CmpOp::kGe: return order >= 0;
  }
  return false;
}

std::optional<bool> InList(const Value& x, std::span<const Value> list) {
  if (x.unset()) return std::nullopt;
  for (const Value& v : list) {
    std::optional<int> order = CompareValues(x, v);
    if (order && *order == 0) return true;
  }
  return false;
}

}  // namespace qm::check

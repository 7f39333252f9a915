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

}  // namespace qm::check

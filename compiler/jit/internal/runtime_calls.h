// The C-ABI functions generated code calls: reads through the StepView
// (event fields it reads in place) and the comparisons that are not inlined. Each is a thin wrapper over the same
// code the interpreter uses (compiler/value), so both engines share one
// semantics. Bound into the JIT as absolute symbols.
#ifndef QM_COMPILER_JIT_INTERNAL_RUNTIME_CALLS_H_
#define QM_COMPILER_JIT_INTERNAL_RUNTIME_CALLS_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "compiler/ir/ir.h"

namespace qm::jit_internal {

inline constexpr int32_t kUnordered = kNoOrder;  // qm_rt_compare: the values do not order

extern "C" {
void qm_rt_profile_field(const ir::StepView* view, int32_t field, Value* out);
void qm_rt_aggregate(const ir::StepView* view, int32_t aggregate, Value* out);
// An aggregate that is never unset and held in Value::i (a count, a sum of
// ints or money): no Value in memory, so a comparison with it is a call and a compare.
int64_t qm_rt_aggregate_int(const ir::StepView* view, int32_t aggregate);
void qm_rt_since(const ir::StepView* view, int32_t event, Value* out);
void qm_rt_since_field(const ir::StepView* view, int32_t field, Value* out);
void qm_rt_now(const ir::StepView* view, Value* out);
void qm_rt_customer(const ir::StepView* view, Value* out);
uint8_t qm_rt_has_tag(const ir::StepView* view, int32_t tag);
// a <=> b as -1, 0, 1, or kUnordered (an unset side, NaN).
int32_t qm_rt_compare(const Value* a, const Value* b);
// -1 when x is unset, else whether it equals one of list[0..n).
int32_t qm_rt_in(const Value* x, const Value* list, int32_t n);
uint8_t qm_rt_contains(const Value* haystack, const Value* needle);
uint8_t qm_rt_text_contains(const char* text, int64_t size, const char* needle, int64_t needle_size);
void qm_rt_clock(const Value* time, int32_t part, int32_t zone_minutes, Value* out);
}

// Name and address of every function above, and of the C library's memcmp
// (and bcmp, which LLVM turns `memcmp(...) == 0` into), for binding.
std::vector<std::pair<std::string, void*>> RuntimeSymbols();

}  // namespace qm::jit_internal

#endif  // QM_COMPILER_JIT_INTERNAL_RUNTIME_CALLS_H_

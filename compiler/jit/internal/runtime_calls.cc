#include "compiler/jit/internal/runtime_calls.h"

#include <strings.h>

#include <cstring>

#include "compiler/check/builtins.h"

namespace qm::jit_internal {

extern "C" {
void qm_rt_profile_field(const ir::StepView* v, int32_t f, Value* out) { *out = v->ProfileField(f); }
void qm_rt_aggregate(const ir::StepView* v, int32_t a, Value* out) { *out = v->Aggregate(a); }
int64_t qm_rt_aggregate_int(const ir::StepView* v, int32_t a) { return v->Aggregate(a).i; }
void qm_rt_since(const ir::StepView* v, int32_t e, Value* out) { *out = v->Since(e); }
void qm_rt_since_field(const ir::StepView* v, int32_t f, Value* out) { *out = v->SinceField(f); }
void qm_rt_now(const ir::StepView* v, Value* out) { *out = Value::Time(v->Now()); }
void qm_rt_customer(const ir::StepView* v, Value* out) { *out = Value::Text(v->Customer()); }
uint8_t qm_rt_has_tag(const ir::StepView* v, int32_t t) { return v->HasTag(t) ? 1 : 0; }

int32_t qm_rt_compare(const Value* a, const Value* b) { return Order(*a, *b); }

// -1 when `x` is unset (C5: both `in` and `not in` are false), else 0 or 1.
int32_t qm_rt_in(const Value* x, const Value* list, int32_t n) {
  std::optional<bool> found = check::InList(*x, std::span<const Value>(list, static_cast<size_t>(n)));
  return found ? *found : -1;
}

uint8_t qm_rt_contains(const Value* haystack, const Value* needle) { return check::Contains(*haystack, needle->text); }
uint8_t qm_rt_text_contains(const char* text, int64_t size, const char* needle, int64_t needle_size) {
  return check::TextContains(std::string_view(text, static_cast<size_t>(size)),
                             std::string_view(needle, static_cast<size_t>(needle_size)));
}
void qm_rt_clock(const Value* t, int32_t part, int32_t zone_minutes, Value* out) {
  *out = check::Clock(static_cast<ClockPart>(part), *t, zone_minutes);
}
}

std::vector<std::pair<std::string, void*>> RuntimeSymbols() {
  return {
      {"qm_rt_profile_field", reinterpret_cast<void*>(&qm_rt_profile_field)},
      {"qm_rt_aggregate", reinterpret_cast<void*>(&qm_rt_aggregate)},
      {"qm_rt_aggregate_int", reinterpret_cast<void*>(&qm_rt_aggregate_int)},
      {"qm_rt_since", reinterpret_cast<void*>(&qm_rt_since)},
      {"qm_rt_since_field", reinterpret_cast<void*>(&qm_rt_since_field)},
      {"qm_rt_now", reinterpret_cast<void*>(&qm_rt_now)},
      {"qm_rt_customer", reinterpret_cast<void*>(&qm_rt_customer)},
      {"qm_rt_has_tag", reinterpret_cast<void*>(&qm_rt_has_tag)},
      {"qm_rt_compare", reinterpret_cast<void*>(&qm_rt_compare)},
      {"qm_rt_in", reinterpret_cast<void*>(&qm_rt_in)},
      {"qm_rt_contains", reinterpret_cast<void*>(&qm_rt_contains)},
      {"qm_rt_text_contains", reinterpret_cast<void*>(&qm_rt_text_contains)},
      {"qm_rt_clock", reinterpret_cast<void*>(&qm_rt_clock)},
      {"memcmp", reinterpret_cast<void*>(&memcmp)},
      {"bcmp", reinterpret_cast<void*>(&bcmp)},
  };
}

}  // namespace qm::jit_internal

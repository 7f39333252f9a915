// One step's snapshot (A18): what rule conditions and `where` filters read
// while a step is evaluated, the customer's state, the triggering event (if
// any) and the step time. The engine hands it to the evaluator; evaluators
// only read through it. Private to runtime/engine.
#ifndef QM_RUNTIME_ENGINE_INTERNAL_STEP_H_
#define QM_RUNTIME_ENGINE_INTERNAL_STEP_H_

#include <string>
#include <string_view>

#include "compiler/ir/ir.h"
#include "runtime/event/decode.h"
#include "runtime/state/state.h"

namespace qm::engine_internal {

class Step final : public ir::StepView {
 public:
  explicit Step(const check::Program& program) : p_(program) {}

  state::CustomerState* state = nullptr;
  const std::string* customer = nullptr;  // the store's stable copy of the id
  const event::Event* event = nullptr;    // none in timer and cascade steps (A13)
  int64_t now = 0;                        // the step time

  Value EventField(int32_t field) const override { return event != nullptr ? event->fields[field] : Value{}; }
  const Value* EventFields() const override { return event != nullptr ? event->fields.data() : nullptr; }
  Value ProfileField(int32_t field) const override { return state->profile[field].view(); }
  const Stored* ProfileFields() const override { return state->profile.data(); }
  bool HasTag(int32_t tag) const override { return state->tags[tag] != 0; }
  Value Aggregate(int32_t aggregate) const override;
  Value Since(int32_t event) const override;
  Value SinceField(int32_t field) const override;
  int64_t Now() const override { return now; }
  std::string_view Customer() const override { return *customer; }

 private:
  const check::Program& p_;
};

}  // namespace qm::engine_internal

#endif  // QM_RUNTIME_ENGINE_INTERNAL_STEP_H_

// IR: the checked program lowered for execution. The engine and both
// evaluators (interpreter and JIT) consume it: trigger indexes say which
// rules a step must evaluate, aggregates are listed per event type, and push
// targets are interned. StepView and Evaluator are the contract between the
// engine (which owns state) and an evaluator (which only reads it).
#ifndef QM_COMPILER_IR_IR_H_
#define QM_COMPILER_IR_IR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/check/check.h"
#include "compiler/value/value.h"

namespace qm::ir {

struct Program {
  check::Program checked;
  // Per event type: its own rules and the `any` rules, merged in file order.
  std::vector<std::vector<int32_t>> rules_by_event;
  std::vector<std::vector<int32_t>> tagged_rules, untagged_rules;  // by tag
  std::vector<std::vector<int32_t>> becomes_rules;                 // by profile field
  std::vector<int32_t> quiet_rules;                                // `no E for D`, file order
  std::vector<int32_t> merged_rules;                               // `when merged` (D12, E9), file order
  // Per event type: the `no` rules an accepted event of that type re-arms
  // (its own and `no any`), as indexes into quiet_rules (A35).
  std::vector<std::vector<int32_t>> rearmed_by_event;
  // Per event type: the aggregates an accepted event of that type feeds.
  std::vector<std::vector<int32_t>> aggregates_by_event;
  // Every `where` tested on an accepted event, as condition nodes: the
  // aggregates' (C1) and the `unless`es' (D7). Evaluator::Filter takes an
  // index into this list.
  std::vector<check::NodeId> filters;
  std::vector<int32_t> aggregate_filter;            // by aggregate; -1: no `where`
  std::vector<std::vector<int32_t>> unless_filter;  // by rule and action; -1: no `where`
  // The fixed push/invite targets the rules name, as TargetKey spells them.
  std::vector<std::string> targets;
  // Stable hash of the rule set's schema and rules.
  std::string fingerprint;
};

// Lowers a checked program. Never fails: the checker has validated it.
Program Lower(check::Program checked);

// The runtime kind of a checked type.
ValueKind KindOf(const check::Type& type);
// A checked constant as a Value; text and decimals view the constant.
Value ConstantValue(const check::Constant& constant);

// What a predicate may read during one step; implemented by the engine.
// `now` is the step time (A18); in a `where` filter the event is the one
// being accepted.
class StepView {
 public:
  virtual ~StepView() = default;
  virtual Value EventField(int32_t field) const = 0;
  // The same fields in place, one Value per declared field of the event's
  // type (what EventField copies out), or null in a step without an event:
  // generated code reads them with plain loads.
  virtual const Value* EventFields() const = 0;
  virtual Value ProfileField(int32_t field) const = 0;
  // The customer's profile in place, one Stored per declared field.
  virtual const Stored* ProfileFields() const = 0;
  virtual bool HasTag(int32_t tag) const = 0;
  virtual Value Aggregate(int32_t aggregate) const = 0;
  virtual Value Since(int32_t event) const = 0;  // check::kAnyEvent for any
  virtual Value SinceField(int32_t field) const = 0;
  virtual int64_t Now() const = 0;
  virtual std::string_view Customer() const = 0;
};

// Evaluates rule conditions against a step's snapshot. One Evaluator serves
// many customers; it keeps no per-customer state.
class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // An event step: appends to `matched`, in file order, the rules that event
  // type `type` triggers (Program::rules_by_event[type]) whose condition
  // holds. A rule without a condition always holds.
  virtual void MatchEvent(int32_t type, const StepView& view, std::vector<int32_t>& matched) = 0;
  // Timer and cascade steps: appends to `matched`, in the order given, the
  // `candidates` (rules of internal triggers or `no` rules) whose condition
  // holds.
  virtual void MatchRules(const std::vector<int32_t>& candidates, const StepView& view,
                          std::vector<int32_t>& matched) = 0;
  // Whether the step's accepted event passes filter `filter` (Program::filters):
  // an aggregate's `where` (C1) or an `unless`'s (D7).
  virtual bool Filter(int32_t filter, const StepView& view) = 0;
};

}  // namespace qm::ir

#endif  // QM_COMPILER_IR_IR_H_

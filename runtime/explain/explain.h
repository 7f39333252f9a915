// Explain: why one customer's rules did or did not fire (`qm explain`,
// docs/tooling.md). An engine Observer that, for each step of that customer,
// records the candidate rules, re-evaluates each condition with the
// reference interpreter's trace to say in business language what failed,
// and records what became of every action and which lines were written.
#ifndef QM_RUNTIME_EXPLAIN_EXPLAIN_H_
#define QM_RUNTIME_EXPLAIN_EXPLAIN_H_

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "compiler/diag/diag.h"
#include "compiler/interp/interp.h"
#include "runtime/engine/engine.h"

namespace qm::explain {

struct Options {
  std::string customer;
  int64_t at = std::numeric_limits<int64_t>::max();  // steps after this are not reported
  int32_t rule = -1;                                  // only this rule; -1: every rule
  int tz_minutes = engine::kDefaultTzMinutes;
  Lang lang = Lang::kEn;
};

struct ActionRecord {
  int32_t action;  // -1: the rule itself (cascade limit)
  engine::Observer::Outcome outcome;
  int64_t at;
  std::vector<int64_t> times;
  std::string line;  // the line written, for kApplied
};

struct RuleRecord {
  int32_t rule;
  bool held;          // by the explainer's own evaluation (the reference interpreter)
  bool matched;       // by the engine's evaluator
  bool delayed = false;  // not evaluated: its delayed or deferred actions came due
  std::string why;    // when it did not hold: the first part that failed, with its values
  std::vector<ActionRecord> actions;
};

struct StepRecord {
  engine::Observer::StepKind kind;
  int64_t now;
  int64_t line = 0;
  int32_t event_type = -1;
  int depth = 0;
  std::vector<RuleRecord> rules;
  std::vector<std::string> fired;      // delayed or deferred actions that came due
  std::vector<std::string> cancelled;  // pending `after`s this step's event cancelled
  std::vector<std::string> lines;      // every action line of the step, in order
};

class Explainer final : public engine::Observer {
 public:
  // `program` and `tracer` (an interpreter of it) must outlive the explainer.
  Explainer(const ir::Program& program, const interp::Interpreter& tracer, Options options);

  void OnStep(const StepInfo& step) override;
  void OnEvaluated(const std::vector<int32_t>& candidates, const std::vector<int32_t>& matched,
                   const ir::StepView& view) override;
  void OnAction(int32_t rule, int32_t action, Outcome outcome, int64_t at, const std::vector<int64_t>& times) override;
  void OnCancelled(int32_t rule, int32_t action, int64_t due) override;
  void OnArmed(int32_t rule, int64_t due) override;
  void OnFired(int32_t rule, int32_t action) override;
  void OnLine(std::string_view line) override;
  void OnReject(std::string_view line, std::string_view customer) override;

  // The customer's timers pending in a state the run starts from (--state).
  void Seed(const state::CustomerState& state);

  const std::vector<StepRecord>& steps() const { return steps_; }
  // The report: for people, or one JSON object.
  std::string Text() const;
  std::string Json() const;

 private:
  struct Pending {
    int32_t rule, action;  // action -1: a `no` rule's timer
    int64_t due;
  };
  std::string Why(check::NodeId node, const std::vector<interp::Evaluated>& trace) const;
  std::string Describe(check::NodeId node) const;
  std::string Shown(check::NodeId node, const std::vector<interp::Evaluated>& trace) const;
  std::string ValueText(const Value& v, const check::Type& type) const;
  std::string ActionText(int32_t rule, int32_t action) const;
  std::string Time(int64_t ms) const;
  std::string OutcomeText(const RuleRecord& r, const ActionRecord& a) const;
  bool Wanted(int32_t rule) const { return options_.rule < 0 || options_.rule == rule; }

  const ir::Program& program_;
  const check::Program& p_;
  const interp::Interpreter& tracer_;
  Options options_;
  bool active_ = false;
  bool fired_ = false;
  int64_t stream_now_ = std::numeric_limits<int64_t>::min();  // the latest step time, any customer  // OnFired came: the next OnAction is a delayed action's  // the current step is the customer's, at or before `at`
  std::vector<StepRecord> steps_;
  std::vector<std::string> rejects_;
  std::vector<Pending> pending_;
};

}  // namespace qm::explain

#endif  // QM_RUNTIME_EXPLAIN_EXPLAIN_H_

// Coverage: what of a rule set the runs reporting to it exercised (`qm test
// --coverage`, docs/tooling.md). An engine Observer over every customer:
// rules that held, each part of each condition seen true and seen false (by
// the reference interpreter's trace), `no … for` timers fired and re-armed
// before firing, `after`s fired and cancelled, caps found full, quiet hours
// that held an action.
#ifndef QM_RUNTIME_COVERAGE_COVERAGE_H_
#define QM_RUNTIME_COVERAGE_COVERAGE_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compiler/diag/diag.h"
#include "compiler/interp/interp.h"
#include "runtime/engine/engine.h"

namespace qm::coverage {

// How often one rule held and what became of its actions, over every run
// reporting to the Coverage (the editor's code lens, docs/tooling.md).
struct Activity {
  int64_t matched = 0;              // steps in which the rule held
  std::vector<int64_t> applied;     // by action: lines written
  std::map<std::string, int64_t> suppressed;  // by reason, as Stats names them: once, every, cap, quiet
};

// One thing a test should exercise and whether it was.
struct Item {
  int32_t rule = -1;     // -1: a declaration (cap, quiet)
  std::string what;      // in the report's language
  bool covered = false;
};

class Coverage final : public engine::Observer {
 public:
  // `program` and `tracer` must outlive it. Several runs may report to one.
  Coverage(const ir::Program& program, const interp::Interpreter& tracer);

  void OnStep(const StepInfo& step) override;
  void OnEvaluated(const std::vector<int32_t>& candidates, const std::vector<int32_t>& matched,
                   const ir::StepView& view) override;
  void OnAction(int32_t rule, int32_t action, Outcome outcome, int64_t at, const std::vector<int64_t>& times) override;
  void OnCancelled(int32_t rule, int32_t action, int64_t due) override;
  void OnArmed(int32_t rule, int64_t due) override;
  void OnFired(int32_t rule, int32_t action) override;
  void OnLine(std::string_view) override {}
  void OnReject(std::string_view, std::string_view) override {}

  // Every item, in rule file order, then the caps and quiet hours.
  std::vector<Item> Items(Lang lang) const;
  // By rule, in rule file order.
  const std::vector<Activity>& activity() const { return activity_; }

 private:
  const ir::Program& program_;
  const check::Program& p_;
  const interp::Interpreter& tracer_;
  std::vector<char> matched_;                       // by rule
  std::vector<char> seen_true_, seen_false_;        // by condition node
  std::vector<char> quiet_fired_, quiet_rearmed_;   // by rule (`no … for`)
  std::vector<std::vector<char>> after_fired_, after_cancelled_;  // by rule and action
  std::vector<char> cap_full_, quiet_held_;         // by cap, by quiet
  std::vector<Activity> activity_;                  // by rule
  // (customer, `no` rule) -> (when armed, when due)
  std::map<std::pair<std::string, int32_t>, std::pair<int64_t, int64_t>> armed_;
  StepKind step_kind_ = StepKind::kEvent;
  int64_t now_ = 0;
  std::string customer_;
};

}  // namespace qm::coverage

#endif  // QM_RUNTIME_COVERAGE_COVERAGE_H_

// Explain: one customer's steps, through an engine observer (runtime/explain).
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "api/internal.h"
#include "compiler/interp/interp.h"
#include "runtime/event/decode.h"
#include "runtime/explain/explain.h"
#include "runtime/run/run.h"
#include "runtime/state/durable.h"

namespace qianmian {
namespace {

class Discard final : public qm::engine::Output {
 public:
  void Action(std::string_view) override {}
  void Reject(std::string_view) override {}
  void Warning(std::string_view) override {}
};

}  // namespace

ExplainResult Explain(const RuleSet& rules, const ExplainOptions& options) {
  const auto& impl = internal::RuleSetAccess::Of(rules);
  const qm::Lang lang = impl.lang;
  ExplainResult result;
  auto usage = [&](const qm::Error& e) {
    result.error = e.Message(lang);
    result.usage_error = true;
    return result;
  };
  if (!rules.ok()) {
    result.error = qm::Error::Of<qm::ErrorKind::kRulesHaveErrors>().Message(lang);
    return result;
  }
  if (options.customer.empty()) return usage(qm::Error::Of<qm::ErrorKind::kNeedsCustomer>());
  std::optional<int> tz = qm::ParseOffset(options.tz);
  if (!tz) return usage(qm::Error::Of<qm::ErrorKind::kBadTz>({options.tz}));
  std::optional<int64_t> lateness = options.lateness.empty() ? 0 : qm::ParseDuration(options.lateness);
  if (!lateness || *lateness < 0) return usage(qm::Error::Of<qm::ErrorKind::kBadLateness>({options.lateness}));
  std::optional<int64_t> until;
  if (!options.until.empty() && !(until = qm::event::ParseTimeArgument(options.until)))
    return usage(qm::Error::Of<qm::ErrorKind::kBadUntil>({options.until}));
  const qm::Program& program = *impl.compiled.program;
  qm::explain::Options o{.customer = options.customer, .tz_minutes = *tz, .lang = lang};
  if (!options.at.empty()) {
    std::optional<int64_t> at = qm::event::ParseTimeArgument(options.at);
    if (!at) return usage(qm::Error::Of<qm::ErrorKind::kBadUntil>({options.at}));  // the same time forms
    o.at = *at;
  }
  if (!options.rule.empty()) {
    const auto& checked = program.ir().checked.rules;
    auto it = std::find_if(checked.begin(), checked.end(), [&](const auto& r) { return r.name == options.rule; });
    if (it == checked.end()) return usage(qm::Error::Of<qm::ErrorKind::kExplainNoRule>({options.rule}));
    o.rule = static_cast<int32_t>(it - checked.begin());
  }

  std::string error;
  std::unique_ptr<qm::ir::Evaluator> evaluator = program.MakeEvaluator(internal::Convert(options.engine), &error);
  if (!evaluator) {
    result.error = error;
    return result;
  }
  std::unique_ptr<qm::interp::Interpreter> tracer = qm::interp::MakeInterpreter(program.ir());
  qm::explain::Explainer explainer(program.ir(), *tracer, o);
  std::unique_ptr<qm::state::Store> store;
  std::unique_ptr<qm::state::DurableStore> held_state;
  qm::state::Store* store_ref = nullptr;
  const qm::state::Checkpoint* resumed = nullptr;
  if (!options.state_dir.empty()) {  // read, never written: BeginWriting is not called
    std::error_code ec;
    if (!std::filesystem::is_directory(options.state_dir, ec)) {
      result.error = qm::Error::Of<qm::ErrorKind::kNoStateDirectory>({options.state_dir}).Message(lang);
      return result;
    }
    qm::state::DurableStore::OpenResult opened = qm::state::DurableStore::Open(options.state_dir, program.ir());
    if (!opened.changes.empty()) {
      size_t n = opened.changes.size();
      result.error = qm::Error::Of<qm::ErrorKind::kCannotContinueState>({options.state_dir, std::to_string(n), n == 1 ? "" : "s"})
                         .Message(lang);
      return result;
    }
    if (!opened.store) {
      result.error = opened.error.value_or(qm::Error{}).Message(lang);
      return result;
    }
    if (const auto& c = opened.store->checkpoint()) {
      if (c->tz_minutes != *tz)
        return usage(qm::Error::Of<qm::ErrorKind::kTzDiffers>({options.state_dir, qm::FormatTime(0, c->tz_minutes).substr(19)}));
      if (c->lateness_ms != *lateness)
        return usage(qm::Error::Of<qm::ErrorKind::kLatenessDiffers>({options.state_dir, qm::FormatDuration(c->lateness_ms)}));
    }
    held_state = std::move(opened.store);
    resumed = held_state->checkpoint() ? &*held_state->checkpoint() : nullptr;
    store_ref = held_state.get();
  } else {
    store = qm::state::MakeMemoryStore(program.ir());
    store_ref = store.get();
  }
  Discard discard;
  qm::engine::Engine engine(program.ir(), *evaluator, *store_ref, discard,
                            {.tz_minutes = *tz, .lateness_ms = *lateness, .observer = &explainer});
  if (resumed != nullptr) {
    engine.Restore(resumed->held, resumed->high_mark);
    engine.RestoreSegments(resumed->segments);
    engine.Resume();
  }
  if (const qm::state::CustomerState* s = store_ref->Find(options.customer)) explainer.Seed(*s);
  int64_t line_number = 0;
  if (std::optional<qm::Error> failed =
          qm::run::ForEachEventLine(options.events, [&](std::string_view line) { engine.ProcessLine(line, ++line_number); })) {
    result.error = failed->Message(lang);
    return result;
  }
  engine.ReleaseAll();
  if (until) engine.FireUntil(std::min(*until, o.at));
  else if (!options.at.empty()) engine.FireUntil(o.at);
  result.report = options.json ? explainer.Json() : explainer.Text();
  return result;
}

}  // namespace qianmian

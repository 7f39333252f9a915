// Explain: one customer's steps, through an engine observer (runtime/explain).
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "api/internal.h"
#include "compiler/interp/interp.h"
#include "runtime/event/decode.h"
#include "runtime/explain/explain.h"

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

  std::ifstream file;
  std::istream* in = &std::cin;
  if (options.events != "-") {
    file.open(options.events, std::ios::binary);
    if (!file) {
      result.error = qm::Error::Of<qm::ErrorKind::kCannotOpenEvents>({options.events, std::strerror(errno)}).Message(lang);
      return result;
    }
    in = &file;
  }
  std::string error;
  std::unique_ptr<qm::ir::Evaluator> evaluator = program.MakeEvaluator(internal::Convert(options.engine), &error);
  if (!evaluator) {
    result.error = error;
    return result;
  }
  std::unique_ptr<qm::interp::Interpreter> tracer = qm::interp::MakeInterpreter(program.ir());
  qm::explain::Explainer explainer(program.ir(), *tracer, o);
  std::unique_ptr<qm::state::Store> store = qm::state::MakeMemoryStore(program.ir());
  Discard discard;
  qm::engine::Engine engine(program.ir(), *evaluator, *store, discard,
                            {.tz_minutes = *tz, .lateness_ms = *lateness, .observer = &explainer});
  int64_t line_number = 0;
  for (std::string line; std::getline(*in, line);) engine.ProcessLine(line, ++line_number);
  if (in->bad()) {
    result.error = qm::Error::Of<qm::ErrorKind::kCannotReadEvents>({options.events, std::strerror(errno)}).Message(lang);
    return result;
  }
  engine.ReleaseAll();
  if (until) engine.FireUntil(std::min(*until, o.at));
  else if (!options.at.empty()) engine.FireUntil(o.at);
  result.report = options.json ? explainer.Json() : explainer.Text();
  return result;
}

}  // namespace qianmian

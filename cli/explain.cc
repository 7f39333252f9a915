// `qm explain RULES... --events E --customer C`: why one customer's rules did
// or did not fire (docs/tooling.md), through the public API's Explain.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"

namespace qm::cli {

int ExplainCommand(const std::vector<std::string>& args, qianmian::Language language) {
  language = LangOfArgs(args, language);
  Flags flags;
  if (auto usage = SplitFlags(args,
                              {"--events", "--customer", "--at", "--rule", "--until", "--lateness", "--tz", "--engine",
                               "--format", "--lang", "--state"},
                              {}, "explain", flags))
    return Usage(*usage, language);
  qianmian::ExplainOptions o;
  for (const auto& [flag, v] : flags.values) {
    if (flag == "--events") o.events = v;
    else if (flag == "--customer") o.customer = v;
    else if (flag == "--at") o.at = v;
    else if (flag == "--rule") o.rule = v;
    else if (flag == "--until") o.until = v;
    else if (flag == "--lateness") o.lateness = v;
    else if (flag == "--tz") o.tz = v;
    else if (flag == "--state") o.state_dir = v;
    else if (flag == "--engine") {
      if (v != "jit" && v != "interp") return Usage(Error::Of<ErrorKind::kEngineTakes>(), language);
      o.engine = v == "jit" ? qianmian::Engine::kJit : qianmian::Engine::kInterpreter;
    } else if (flag == "--format") {
      if (v != "text" && v != "json") return Usage(Error::Of<ErrorKind::kFormatTakes>(), language);
      o.json = v == "json";
    }
  }
  if (flags.positional.empty()) return Usage(Error::Of<ErrorKind::kNeedsRuleFile>({"explain"}), language);
  if (flags.Get("--events") == nullptr) return Usage(Error::Of<ErrorKind::kNeedsEventsFor>({"explain"}), language);
  if (o.customer.empty()) return Usage(Error::Of<ErrorKind::kNeedsCustomer>(), language);

  qianmian::RuleSet rules = qianmian::RuleSet::FromFiles(flags.positional, language);
  for (const qianmian::Diagnostic& d : rules.diagnostics())
    if (d.error) std::fputs(d.rendered.c_str(), stderr);
  if (!rules.ok()) return kExitErrors;
  qianmian::ExplainResult result = qianmian::Explain(rules, o);
  if (result.usage_error) return Usage(result.error, language);
  if (!result.ok()) {
    std::fprintf(stderr, "qm: %s\n", result.error.c_str());
    return kExitErrors;
  }
  std::fputs(result.report.c_str(), stdout);
  return kExitOk;
}

}  // namespace qm::cli

// `qm run`: rules + JSON Lines events -> actions and rejects (LANGUAGE.md 6),
// through the public API's RunStream.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <utility>
#include <string>
#include <vector>

#include "api/debug.h"
#include "cli/commands.h"
#include "cli/flags.h"

namespace qm::cli {
namespace {

// Counts by kind or reason (`push=2 tag=1`) and their total.
std::pair<int64_t, std::string> Counts(const std::map<std::string, int64_t>& counts) {
  std::string text;
  int64_t total = 0;
  for (const auto& [name, n] : counts) {
    text += " " + name + "=" + std::to_string(n);
    total += n;
  }
  return {total, text};
}

void PrintSummary(const qianmian::Stats& stats, double seconds, qianmian::Language lang, std::FILE* to) {
  auto n = [](int64_t v) { return static_cast<long long>(v); };
  double rate = seconds > 0 ? static_cast<double>(stats.events) / seconds : 0.0;
  auto [actions, action_kinds] = Counts(stats.actions);
  auto [rejects, reject_reasons] = Counts(stats.rejects);
  auto [suppressed, suppressed_reasons] = Counts(stats.suppressed);
  if (lang == qianmian::Language::kChinese) {
    std::fprintf(to, "qm run：%lld 行，接受 %lld 个事件，%lld 次计时器步骤，用时 %.2f 秒（每秒 %.0f 个事件）\n",
                 n(stats.lines), n(stats.events), n(stats.timer_steps), seconds, rate);
    std::fprintf(to, "  动作：%lld%s\n", n(actions), action_kinds.c_str());
    std::fprintf(to, "  拒收：%lld%s\n", n(rejects), reject_reasons.c_str());
    std::fprintf(to, "  未发出：%lld%s\n", n(suppressed), suppressed_reasons.c_str());
    std::fprintf(to, "  待处理：%lld 个计时器，%lld 个推迟的动作\n", n(stats.pending_timers), n(stats.pending_deferred));
    return;
  }
  std::fprintf(to, "qm run: %lld lines, %lld events accepted, %lld timer steps in %.2f s (%.0f events/s)\n",
               n(stats.lines), n(stats.events), n(stats.timer_steps), seconds, rate);
  std::fprintf(to, "  actions: %lld%s\n", n(actions), action_kinds.c_str());
  std::fprintf(to, "  rejects: %lld%s\n", n(rejects), reject_reasons.c_str());
  std::fprintf(to, "  suppressed: %lld%s\n", n(suppressed), suppressed_reasons.c_str());
  std::fprintf(to, "  pending: %lld timers, %lld deferred\n", n(stats.pending_timers), n(stats.pending_deferred));
}

// Parses `qm run`'s arguments; returns an exit code on a usage error.
std::optional<int> ParseRunArgs(const std::vector<std::string>& args, std::vector<std::string>& rules,
                                qianmian::StreamOptions& o, bool& dump_ir, qianmian::Language& lang,
                                std::vector<std::string>& allow) {
  lang = LangOfArgs(args, lang);
  Flags flags;
  if (auto usage = SplitFlags(args,
                              {"--events", "--out", "--rejects", "--state", "--engine", "--tz", "--until", "--lateness",
                               "--lang", "--commit-every", "--commit-ms", "--allow", "--threads"},
                              {"--dump-ir"}, "run", flags))
    return Usage(*usage, lang);
  rules = flags.positional;
  allow = AllowedCodes(flags);
  dump_ir = flags.switches.count("--dump-ir") > 0;
  o.events.clear();
  for (const auto& [flag, v] : flags.values) {
    if (flag == "--events") o.events = v;
    else if (flag == "--out") o.out = v;
    else if (flag == "--rejects") o.rejects = v;
    else if (flag == "--state") o.state_dir = v;
    else if (flag == "--tz") o.tz = v;
    else if (flag == "--until") o.until = v;
    else if (flag == "--lateness") o.lateness = v;
    else if (flag == "--engine") {
      if (v != "interp" && v != "jit") return Usage(Error::Of<ErrorKind::kEngineTakes>(), lang);
      o.engine = v == "jit" ? qianmian::Engine::kJit : qianmian::Engine::kInterpreter;
    } else if (flag == "--commit-every" || flag == "--commit-ms") {
      std::optional<int64_t> n = WholeNumber(v, 1, INT64_MAX);
      if (!n) return Usage(Error::Of<ErrorKind::kNeedsPositiveValue>({flag, v}), lang);
      (flag == "--commit-every" ? o.commit_every : o.commit_ms) = *n;
    } else if (flag == "--threads") {
      std::optional<int64_t> n = WholeNumber(v, 1, 256);
      if (!n) return Usage(Error::Of<ErrorKind::kNeedsThreadCount>({v}), lang);
      o.threads = static_cast<int>(*n);
    } else if (flag == "--allow") {
      // read by AllowedCodes
    } else {  // --lang
      std::optional<qianmian::Language> chosen = ParseLang(v);
      if (!chosen) return Usage(Error::Of<ErrorKind::kLangTakes>(), lang);
      lang = *chosen;
    }
  }
  if (rules.empty()) return Usage(Error::Of<ErrorKind::kNeedsRuleFile>({"run"}), lang);
  if (dump_ir) return std::nullopt;
  if (std::string wrong = qianmian::CheckStreamOptions(o, lang); !wrong.empty()) return Usage(wrong, lang);
  return std::nullopt;
}

}  // namespace

int RunCommand(const std::vector<std::string>& args, qianmian::Language lang) {
  std::vector<std::string> files;
  qianmian::StreamOptions options;
  bool dump_ir = false;
  std::vector<std::string> allow;
  if (std::optional<int> usage = ParseRunArgs(args, files, options, dump_ir, lang, allow)) return *usage;

  qianmian::RuleSet rules = qianmian::RuleSet::FromFiles(files, lang, allow);
  for (const qianmian::Diagnostic& d : rules.diagnostics()) std::fputs(d.rendered.c_str(), stderr);
  if (!rules.ok()) return kExitErrors;  // A45: no event is read
  if (dump_ir) {  // the JIT's LLVM IR, before optimization; no event is read
    std::fputs(qianmian::debug::DumpIr(rules).c_str(), stdout);
    return kExitOk;
  }

  // Live progress on a terminal, unless rejects are printed there too.
  bool progress_shown = false;
  qianmian::ProgressCallback progress;
  if (isatty(fileno(stderr)) && !options.rejects.empty())
    progress = [&](int64_t lines, const qianmian::Stats& stats, double seconds) {
      std::fprintf(stderr, "\r%lld lines, %.0f events/s, %lld rejects   ", static_cast<long long>(lines),
                   seconds > 0 ? static_cast<double>(stats.events) / seconds : 0.0,
                   static_cast<long long>(lines - stats.events));
      progress_shown = true;
    };
  qianmian::StreamResult result = qianmian::RunStream(
      rules, options, [](std::string_view line) { std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data()); },
      progress);
  if (progress_shown) std::fputc('\n', stderr);
  if (result.usage_error) return Usage(result.error, lang);
  for (const qianmian::Diagnostic& d : result.state_changes) std::fputs(d.rendered.c_str(), stderr);
  if (result.finished) PrintSummary(result.stats, result.seconds, lang, stderr);
  if (!result.ok()) {
    std::fprintf(stderr, "qm: %s\n", result.error.c_str());
    return kExitErrors;
  }
  return kExitOk;
}

}  // namespace qm::cli

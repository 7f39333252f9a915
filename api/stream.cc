// RunStream: a whole events stream into files, durable when given a state
// directory; the runtime's run module does the work.
#include "api/internal.h"
#include "compiler/value/value.h"
#include "runtime/event/decode.h"
#include "runtime/run/run.h"

namespace qianmian {
namespace {

// The options as the run module takes them, or why they cannot be.
std::optional<qm::Error> Translate(const StreamOptions& options, qm::run::Options& out) {
  using qm::Error;
  using qm::ErrorKind;
  std::optional<int> tz = qm::ParseOffset(options.tz);
  if (!tz) return Error::Of<ErrorKind::kBadTz>({options.tz});
  std::optional<int64_t> until;
  if (!options.until.empty()) {
    until = qm::event::ParseTimeArgument(options.until);
    if (!until) return Error::Of<ErrorKind::kBadUntil>({options.until});
  }
  int64_t lateness = 0;
  if (!options.lateness.empty()) {  // E3: the duration literal grammar
    std::optional<int64_t> ms = qm::ParseDuration(options.lateness);
    if (!ms) return Error::Of<ErrorKind::kBadLateness>({options.lateness});
    lateness = *ms;
  }
  out = qm::run::Options{.events = options.events,
                         .out = options.out,
                         .rejects = options.rejects,
                         .state_dir = options.state_dir,
                         .engine = internal::Convert(options.engine),
                         .tz_minutes = *tz,
                         .until = until,
                         .lateness_ms = lateness,
                         .commit_every = options.commit_every,
                         .commit_ms = options.commit_ms};
  return qm::run::CheckOptions(out);
}

qm::Lang LangOf(Language language) { return language == Language::kChinese ? qm::Lang::kZh : qm::Lang::kEn; }

}  // namespace

std::string CheckStreamOptions(const StreamOptions& options, Language language) {
  qm::run::Options unused;
  std::optional<qm::Error> wrong = Translate(options, unused);
  return wrong ? wrong->Message(LangOf(language)) : "";
}

StreamResult RunStream(const RuleSet& rules, const StreamOptions& options, LineCallback on_message,
                       ProgressCallback on_progress) {
  StreamResult result;
  const internal::RuleSetAccess::Impl& impl = internal::RuleSetAccess::Of(rules);
  qm::run::Options run_options;
  if (std::optional<qm::Error> wrong = Translate(options, run_options)) {
    result.error = wrong->Message(impl.lang);
    result.usage_error = true;
    return result;
  }
  run_options.lang = impl.lang;
  if (!impl.compiled.program) {
    result.error = qm::Error::Of<qm::ErrorKind::kRulesHaveErrors>().Message(impl.lang);
    return result;
  }
  qm::run::Report report;
  if (on_message) report.message = [&](const std::string& line) { on_message(line); };
  if (on_progress)
    report.progress = [&](int64_t lines, const qm::engine::Stats& stats, double seconds) {
      on_progress(lines, internal::Convert(stats), seconds);
    };
  qm::run::Result run = qm::run::Run(*impl.compiled.program, run_options, report);
  if (run.failure) {
    result.error = run.failure->error.Message(impl.lang);
    result.usage_error = run.failure->usage;
    for (const qm::Diagnostic& d : run.failure->changes) result.state_changes.push_back(internal::Convert(d, impl.lang));
  }
  result.finished = run.finished;
  result.stats = internal::Convert(run.stats);
  result.seconds = run.seconds;
  return result;
}

std::string ForEachEventLine(const std::string& events, const LineCallback& on_line, Language language) {
  std::optional<qm::Error> failed = qm::run::ForEachEventLine(events, on_line);
  return failed ? failed->Message(language == Language::kChinese ? qm::Lang::kZh : qm::Lang::kEn) : std::string();
}

const char* Version() { return QM_VERSION; }

}  // namespace qianmian

// RunStream: a whole events stream into files, durable when given a state
// directory; the runtime's run module does the work.
#include "api/internal.h"
#include "compiler/value/value.h"
#include "runtime/event/decode.h"
#include "runtime/run/run.h"

namespace qianmian {
namespace {

// The options as the run module takes them, or why they cannot be.
std::string Translate(const StreamOptions& options, qm::run::Options& out) {
  std::optional<int> tz = qm::ParseOffset(options.tz);
  if (!tz) return "--tz takes an offset such as `+08:00` or `Z`, not `" + options.tz + "`";
  std::optional<int64_t> until;
  if (!options.until.empty()) {
    until = qm::event::ParseTimeArgument(options.until);
    if (!until) return "--until takes an RFC 3339 time or epoch seconds, not `" + options.until + "`";
  }
  if (options.events.empty()) return "run needs --events FILE (or - for standard input)";
  if (options.commit_every < 1) return "--commit-every takes a positive whole number";
  if (options.commit_ms < 1) return "--commit-ms takes a positive whole number";
  if (options.state_dir && options.state_dir->empty()) return "--state needs a directory, not an empty name";
  if (options.state_dir && (options.out.empty() || options.rejects.empty()))
    return "--state needs --out and --rejects, two files: a resumed run continues them where the state left off";
  out = qm::run::Options{options.events,   options.out,        options.rejects,        options.state_dir,
                         internal::Convert(options.engine),   *tz, until, options.commit_every,
                         options.commit_ms};
  return "";
}

}  // namespace

std::string CheckStreamOptions(const StreamOptions& options) {
  qm::run::Options unused;
  return Translate(options, unused);
}

StreamResult RunStream(const RuleSet& rules, const StreamOptions& options, LineCallback on_message,
                       ProgressCallback on_progress) {
  StreamResult result;
  qm::run::Options run_options;
  result.error = Translate(options, run_options);
  if (!result.error.empty()) {
    result.usage_error = true;
    return result;
  }
  const internal::RuleSetAccess::Impl& impl = internal::RuleSetAccess::Of(rules);
  if (!impl.compiled.program) {
    result.error = "the rule set has errors";
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
    result.error = run.failure->message;
    result.usage_error = run.failure->usage;
    for (const qm::Diagnostic& d : run.failure->changes) result.state_changes.push_back(internal::Convert(d, impl.lang));
  }
  result.finished = run.finished;
  result.stats = internal::Convert(run.stats);
  result.seconds = run.seconds;
  return result;
}

}  // namespace qianmian

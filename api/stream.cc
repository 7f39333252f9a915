// RunStream: a whole events stream into files through a Runner, durable when
// given a state directory; the run module keeps the files.
#include "api/internal.h"
#include "compiler/value/value.h"
#include "runtime/event/decode.h"
#include "runtime/run/run.h"

#include <chrono>
#include <thread>

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
  if (options.threads < 0 || options.threads > 256)
    return Error::Of<ErrorKind::kNeedsThreadCount>({std::to_string(options.threads)});
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
  using qm::Error;
  using qm::ErrorKind;
  using Clock = std::chrono::steady_clock;
  StreamResult result;
  const internal::RuleSetAccess::Impl& impl = internal::RuleSetAccess::Of(rules);
  const qm::Lang lang = impl.lang;
  qm::run::Options run_options;
  if (std::optional<Error> wrong = Translate(options, run_options)) {
    result.error = wrong->Message(lang);
    result.usage_error = true;
    return result;
  }
  run_options.lang = lang;
  if (!impl.compiled.program) {
    result.error = Error::Of<ErrorKind::kRulesHaveErrors>().Message(lang);
    return result;
  }
  auto tell = [&](const Error& e) {
    if (on_message) on_message(e.Message(lang));
  };
  auto fail = [&](const Error& e) {
    result.error = e.Message(lang);
    return result;
  };
  // Before the state directory, which a first run creates, and before any output is opened.
  Error error;
  bool usage = false;
  std::unique_ptr<qm::run::Files> files = qm::run::Files::Open(
      run_options, *impl.compiled.program, error, usage,
      [&](std::string_view warning) { tell(Error::Of<ErrorKind::kWarning>({std::string(warning)})); });
  if (!files) {
    result.usage_error = usage;
    return fail(error);
  }
  RunOptions runner_options{.engine = options.engine,
                            .tz = options.tz,
                            .lateness = options.lateness,
                            .state_dir = options.state_dir.value_or("")};
  internal::RunnerAccess::Failure failure;
  const int threads = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::unique_ptr<Runner> runner = internal::RunnerAccess::OpenForRun(
      rules, runner_options, *files, threads, options.threads > 0, [&](const Error& notice) { tell(Error::Of<ErrorKind::kNote>({notice.Message(lang)})); },
      failure);
  if (!runner) {
    for (const qm::Diagnostic& d : failure.changes) result.state_changes.push_back(internal::Convert(d, lang));
    return fail(failure.error);
  }
  const bool durable = options.state_dir.has_value();
  qm::input::LineReader& reader = files->reader();
  int64_t number = 0;
  if (const std::optional<qm::state::Checkpoint>& resumed = internal::RunnerAccess::Resumed(*runner)) {
    number = resumed->input_lines;
    int64_t customers = runner->stats().customers;
    tell(Error::Of<ErrorKind::kContinuing>(
        {*options.state_dir, std::to_string(number), std::to_string(customers), customers == 1 ? "" : "s"}));
  }
  auto last_commit = Clock::now();
  int64_t uncommitted = 0;
  auto commit = [&]() -> bool {
    internal::RunnerAccess::Drain(*runner);
    qm::state::Checkpoint checkpoint;
    std::optional<Error> failed = files->Sync(checkpoint);
    if (!failed) failed = internal::RunnerAccess::Commit(*runner, std::move(checkpoint));
    if (failed) {
      result.error = failed->Message(lang);
      return false;
    }
    uncommitted = 0;
    last_commit = Clock::now();
    return true;
  };
  if (durable)
    reader.OnIdle(options.commit_ms, [&] {
      if (uncommitted > 0 && result.ok()) commit();
    });

  auto start = Clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  std::string_view line;
  while (result.ok() && reader.Next(line)) {
    runner->Feed(line);
    internal::RunnerAccess::Ahead(*runner, reader);
    ++number;
    if (durable && !reader.ends_mid_line() &&
        (++uncommitted >= options.commit_every ||
         (number % 256 == 0 && Clock::now() - last_commit >= std::chrono::milliseconds(options.commit_ms))))
      commit();
    if (on_progress && number % 100000 == 0) on_progress(number, runner->stats(), seconds());
  }
  result.stats = runner->stats();
  if (!result.ok()) return result;
  // A read error is not the end of the input: what was read is written out,
  // but nothing is committed, no timer fires for --until, and the run fails.
  if (reader.failed()) {
    if (std::optional<Error> failed = files->Flush(); failed && on_message) on_message("qm: " + failed->Message(lang));
    std::string why = files->ReadError().Message(lang);
    return fail(durable ? Error::Of<ErrorKind::kReadErrorKeepsCommit>({why, std::to_string(number), *options.state_dir})
                        : Error::Of<ErrorKind::kReadErrorAfterLine>({why, std::to_string(number)}));
  }
  runner->EndOfInput();  // D9: end of input, then C3
  if (!options.until.empty()) runner->FireUntil(options.until);
  if (durable && !commit()) return result;
  std::optional<Error> failed = files->Flush();
  result.stats = runner->stats();
  result.seconds = seconds();
  result.finished = true;
  std::optional<Error> closed = files->Close();
  if (!failed) failed = closed;
  if (failed) result.error = failed->Message(lang);
  return result;
}

std::string ForEachEventLine(const std::string& events, const LineCallback& on_line, Language language) {
  std::optional<qm::Error> failed = qm::run::ForEachEventLine(events, on_line);
  return failed ? failed->Message(language == Language::kChinese ? qm::Lang::kZh : qm::Lang::kEn) : std::string();
}

const char* Version() { return QM_VERSION; }

}  // namespace qianmian

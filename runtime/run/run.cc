#include "runtime/run/run.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "runtime/input/line_reader.h"
#include "runtime/run/internal/durable_run.h"
#include "runtime/run/internal/paths.h"
#include "runtime/sink/sink.h"

namespace qm::run {
namespace {

using Clock = std::chrono::steady_clock;

Result Fail(Error error, bool usage = false) {
  Result result;
  result.failure = Failure{usage, std::move(error), {}};
  return result;
}

// The outputs of a run without state: created (or emptied) at the start.
struct PlainOutputs {
  std::FILE* out = nullptr;
  std::FILE* rejects = nullptr;
  ~PlainOutputs() { Close({}); }
  std::optional<Error> Open(const Options& o) {
    out = o.out.empty() ? stdout : std::fopen(o.out.c_str(), "wb");
    if (out == nullptr) return Error::Of<ErrorKind::kCannotWrite>({o.out, std::strerror(errno)});
    rejects = o.rejects.empty() ? stderr : std::fopen(o.rejects.c_str(), "wb");
    if (rejects == nullptr) return Error::Of<ErrorKind::kCannotWrite>({o.rejects, std::strerror(errno)});
    return std::nullopt;
  }
  std::optional<Error> Close(const Options& o) {
    std::optional<Error> failed;
    for (auto [file, path] : {std::pair{&out, &o.out}, {&rejects, &o.rejects}}) {
      if (*file != nullptr && *file != stdout && *file != stderr && std::fclose(*file) != 0 && !failed)
        failed = Error::Of<ErrorKind::kCannotWrite>({*path, std::strerror(errno)});
      *file = nullptr;
    }
    return failed;
  }
};

// Closes the events unless they are standard input.
struct EventsFd {
  int fd = -1;
  ~EventsFd() {
    if (fd > 0) close(fd);
  }
};

}  // namespace

std::optional<Error> CheckOptions(const Options& options) {
  if (options.events.empty()) return Error::Of<ErrorKind::kNeedsEvents>();
  if (options.lateness_ms < 0) return Error::Of<ErrorKind::kBadLateness>({FormatDuration(options.lateness_ms)});
  if (options.commit_every < 1) return Error::Of<ErrorKind::kNeedsPositive>({"--commit-every"});
  if (options.commit_ms < 1) return Error::Of<ErrorKind::kNeedsPositive>({"--commit-ms"});
  if (options.state_dir && options.state_dir->empty()) return Error::Of<ErrorKind::kStateNeedsDirectory>();
  if (options.state_dir && (options.out.empty() || options.rejects.empty()))
    return Error::Of<ErrorKind::kStateNeedsOutputs>();
  return std::nullopt;
}

std::optional<Error> ForEachEventLine(const std::string& events_path,
                                      const std::function<void(std::string_view)>& on_line) {
  Error error;
  EventsFd events{internal::OpenEvents(events_path, error)};
  if (events.fd < 0) return error;
  input::LineReader reader(events.fd);
  std::string_view line;
  int64_t number = 0;
  while (reader.Next(line)) {
    ++number;
    on_line(line);
  }
  if (reader.failed()) {
    Error why = reader.ReadError(internal::EventsName(events_path));
    return Error::Of<ErrorKind::kReadErrorAfterLine>(
        {Bilingual(why.Message(Lang::kEn), why.Message(Lang::kZh)), std::to_string(number)});
  }
  return std::nullopt;
}

Result Run(const Program& program, const Options& options, const Report& report) {
  if (std::optional<Error> wrong = CheckOptions(options)) return Fail(*wrong, true);
  // Before the state directory, which a first run creates, and before any output is opened.
  Error error;
  EventsFd events{internal::OpenEvents(options.events, error)};
  if (events.fd < 0) return Fail(error);
  if (std::optional<Error> clash = internal::CheckOutputs(options, program, events.fd)) return Fail(*clash, true);

  Result result;
  std::unique_ptr<internal::DurableRun> durable;
  std::unique_ptr<state::Store> memory;
  PlainOutputs plain;
  if (options.state_dir) {
    Failure failure;
    durable = internal::DurableRun::Open(program, options, report, failure);
    if (!durable) {
      result.failure = std::move(failure);
      return result;
    }
  } else {
    memory = state::MakeMemoryStore(program.ir());
    if (std::optional<Error> failed = plain.Open(options)) return Fail(*failed);
  }
  state::Store& store = durable ? durable->store() : *memory;
  std::FILE* out = durable ? durable->out() : plain.out;
  std::FILE* rejects = durable ? durable->rejects() : plain.rejects;

  std::string jit_error;
  std::unique_ptr<ir::Evaluator> evaluator = program.MakeEvaluator(options.engine, &jit_error);
  if (!evaluator) return Fail(Error::Of<ErrorKind::kJitFailed>({jit_error}));
  sink::FileSink sink(out, options.out.empty() ? Bilingual("standard output", "标准输出") : options.out, rejects,
                      options.rejects.empty() ? Bilingual("standard error", "标准错误") : options.rejects, [&](std::string_view warning) {
                        if (report.message)
                          report.message(Error::Of<ErrorKind::kWarning>({std::string(warning)}).Message(options.lang));
                      });
  engine::Engine engine(program.ir(), *evaluator, store, sink,
                        engine::Options{.tz_minutes = options.tz_minutes, .lateness_ms = options.lateness_ms});

  input::LineReader reader(events.fd);
  int64_t number = 0;
  if (durable) {
    if (std::optional<Error> failed = durable->Begin(reader)) return Fail(*failed);
    if (const std::optional<state::Checkpoint>& resumed = durable->resumed()) {
      number = resumed->input_lines;
      engine.Resume();
      engine.Restore(resumed->held, resumed->high_mark);
      if (report.message)
        report.message(Error::Of<ErrorKind::kContinuing>({*options.state_dir, std::to_string(number),
                                                           std::to_string(store.size()), store.size() == 1 ? "" : "s"})
                           .Message(options.lang));
    }
  }
  auto last_commit = Clock::now();
  int64_t uncommitted = 0;
  auto commit = [&]() -> bool {
    if (std::optional<Error> failed = durable->Commit(sink, reader, number, engine)) {
      result.failure = Failure{false, *failed, {}};
      return false;
    }
    uncommitted = 0;
    last_commit = Clock::now();
    return true;
  };
  if (durable)
    reader.OnIdle(options.commit_ms, [&] {
      if (uncommitted > 0 && !result.failure) commit();
    });

  auto start = Clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  std::string_view line;
  while (!result.failure && reader.Next(line)) {
    engine.ProcessLine(line, ++number);
    if (durable && !reader.ends_mid_line() &&
        (++uncommitted >= options.commit_every ||
         (number % 256 == 0 && Clock::now() - last_commit >= std::chrono::milliseconds(options.commit_ms))))
      commit();
    if (report.progress && number % 100000 == 0) report.progress(number, engine.stats(), seconds());
  }
  result.stats = engine.stats();
  if (result.failure) return result;
  // A read error is not the end of the input: what was read is written out,
  // but nothing is committed, no timer fires for --until, and the run fails.
  if (reader.failed()) {
    if (std::optional<Error> failed = sink.Flush(); failed && report.message)
      report.message("qm: " + failed->Message(options.lang));
    std::string why = reader.ReadError(internal::EventsName(options.events)).Message(options.lang);
    result.failure = Failure{false,
                             durable ? Error::Of<ErrorKind::kReadErrorKeepsCommit>(
                                           {why, std::to_string(number), *options.state_dir})
                                     : Error::Of<ErrorKind::kReadErrorAfterLine>({why, std::to_string(number)}),
                             {}};
    return result;
  }
  engine.ReleaseAll();  // D9: end of input, then C3
  if (options.until) engine.FireUntil(*options.until);
  if (durable && !commit()) return result;
  std::optional<Error> failed = sink.Flush();
  result.stats = engine.stats();
  result.seconds = seconds();
  result.finished = true;
  std::optional<Error> closed = durable ? durable->Close() : plain.Close(options);
  if (!failed) failed = closed;
  if (failed) result.failure = Failure{false, *failed, {}};
  return result;
}

}  // namespace qm::run

// The files of a run (`qm run`, the API's RunStream): the events read line
// by line and the two outputs, plain or continued from a state directory's
// last commit (docs/state.md). Every check on the files is made before
// anything is written. The run itself, engine and state, is a Runner's
// (api/stream.cc).
#ifndef QM_RUNTIME_RUN_RUN_H_
#define QM_RUNTIME_RUN_RUN_H_

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "compiler/program/program.h"
#include "runtime/input/line_reader.h"
#include "runtime/sink/sink.h"
#include "runtime/state/durable.h"

namespace qm::run {

struct Options {
  std::string events;                    // a path, or "-" for standard input
  std::string out, rejects;              // paths; empty for standard output / standard error
  std::optional<std::string> state_dir;  // a durable run; needs both output paths
  EngineKind engine = EngineKind::kJit;
  int tz_minutes = engine::kDefaultTzMinutes;
  std::optional<int64_t> until;  // fire the timers due by then at the end (B8)
  int64_t lateness_ms = 0;       // --lateness (D9)
  int64_t commit_every = 1000000;  // lines between commits of a durable run
  int64_t commit_ms = 1000;        // and at most this long between them
  Lang lang = Lang::kEn;           // of the messages along the way
};

// Why `options` contradict each other (a usage error).
std::optional<Error> CheckOptions(const Options& options);

class Files {
 public:
  // Opens the events and checks that no output is an input (a rule file of
  // `program`, the events, the other output, a file in the state directory):
  // a clash is a usage error. Writes nothing. Null, with `error`, when the
  // run cannot start.
  static std::unique_ptr<Files> Open(const Options& options, const Program& program, Error& error, bool& usage,
                                     std::function<void(std::string_view)> on_warning);
  ~Files();

  // A durable run, given what its state directory committed: opens the
  // outputs it continues, refused when shorter than `resumed` says, and
  // skips the input `resumed` consumed, checking that it is the same input.
  // Writes nothing.
  std::optional<Error> Continue(const std::optional<state::Checkpoint>& resumed);
  // Creates the outputs of a plain run, or cuts a durable run's back to its
  // last commit (a crash may have left more): the first write.
  std::optional<Error> Begin();

  input::LineReader& reader() { return *reader_; }
  // Where the engine writes; exists after Begin, or after Continue for a
  // durable run.
  sink::FileSink& sink() { return *sink_; }

  // Flushes and syncs the outputs, then fills in where the input and the
  // outputs stand, for a commit. Outputs reach the disk before the commit
  // that records their lengths, so a crash leaves them at least as long as
  // the state says.
  std::optional<Error> Sync(state::Checkpoint& checkpoint);
  // Writes what is buffered; returns the first error of any write.
  std::optional<Error> Flush() { return sink_->Flush(); }
  // A read error, naming the events.
  Error ReadError() const;
  // Writes what the sink holds and closes the outputs (the sink goes with
  // them); returns the first error.
  std::optional<Error> Close();

 private:
  explicit Files(const Options& options) : options_(options) {}
  const Options& options_;
  int events_fd_ = -1;
  std::unique_ptr<input::LineReader> reader_;
  std::FILE* out_ = nullptr;
  std::FILE* rejects_ = nullptr;
  std::optional<state::Checkpoint> resumed_;
  std::function<void(std::string_view)> on_warning_;
  std::unique_ptr<sink::FileSink> sink_;
};

// Reads the events `events` names ("-": standard input) line by line as a
// run reads them: only a file, pipe, socket or terminal; an overlong line
// handed on bounded (the engine rejects it); a read error is an error, never
// the end of the input. For `qm diff` and `qm explain`.
std::optional<Error> ForEachEventLine(const std::string& events, const std::function<void(std::string_view)>& on_line);

}  // namespace qm::run

#endif  // QM_RUNTIME_RUN_RUN_H_

// Run: a compiled rule set over an events stream into action and reject
// files, optionally kept in a state directory so that a run killed at any
// moment and run again writes exactly what one uninterrupted run writes
// (docs/state.md). What `qm run` does, for every host (the public API's
// RunStream). Every check on the input, the outputs and the state is made
// before anything is written.
#ifndef QM_RUNTIME_RUN_RUN_H_
#define QM_RUNTIME_RUN_RUN_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/program/program.h"
#include "runtime/engine/engine.h"

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

// What the person running it is told along the way. Both may be empty.
struct Report {
  // One line, as `qm` prints it, in Options::lang: notes on state changes,
  // the resumed position, cascade warnings, an output error behind a read
  // error.
  std::function<void(const std::string& line)> message;
  // Every 100,000 lines.
  std::function<void(int64_t lines, const engine::Stats& stats, double seconds)> progress;
};

struct Failure {
  bool usage = false;  // a contradiction in the options (`qm` exits 2), not a failure of the run
  Error error;
  std::vector<Diagnostic> changes;  // E0501: why these rules cannot continue the state
};

struct Result {
  std::optional<Failure> failure;
  bool finished = false;  // every line was read and processed (a failure may follow: closing)
  engine::Stats stats;
  double seconds = 0;
};

// Why `options` contradict each other (a usage error), checked by Run first.
std::optional<Error> CheckOptions(const Options& options);

// The entry point. A failure that leaves a durable run's state at its last
// commit says so; rerunning continues from there.
Result Run(const Program& program, const Options& options, const Report& report = {});

// Reads the events `events` names ("-": standard input) line by line as Run
// reads them: only a file, pipe, socket or terminal; an overlong line handed
// on bounded (the engine rejects it); a read error is an error, never the
// end of the input. For `qm diff` and `qm explain`.
std::optional<Error> ForEachEventLine(const std::string& events, const std::function<void(std::string_view)>& on_line);

}  // namespace qm::run

#endif  // QM_RUNTIME_RUN_RUN_H_

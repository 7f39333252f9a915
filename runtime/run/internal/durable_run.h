// The commit protocol of a run kept in a state directory (docs/state.md):
// open and check the state, the outputs and the input it continues, write
// nothing until all agree, then commit states, input position and output
// lengths in one atomic batch, outputs synced first.
#ifndef QM_RUNTIME_RUN_INTERNAL_DURABLE_RUN_H_
#define QM_RUNTIME_RUN_INTERNAL_DURABLE_RUN_H_

#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "runtime/input/line_reader.h"
#include "runtime/run/run.h"
#include "runtime/sink/sink.h"
#include "runtime/state/durable.h"

namespace qm::run::internal {

class DurableRun {
 public:
  // Reads the state directory for `program` and opens the outputs it
  // continues, refusing a different --tz or outputs shorter than committed.
  // Writes nothing. Null, with `failure`, when the run cannot continue.
  static std::unique_ptr<DurableRun> Open(const Program& program, const Options& options, const Report& report,
                                          Failure& failure);
  ~DurableRun();

  state::Store& store() { return *store_; }
  std::FILE* out() const { return out_; }
  std::FILE* rejects() const { return rejects_; }
  const std::optional<state::Checkpoint>& resumed() const { return resumed_; }

  // Skips the input the state has consumed (checking it is the same input),
  // then opens the directory for writing and cuts the outputs back to the
  // last commit (a crash may have left more).
  std::optional<Error> Begin(input::LineReader& reader);

  // Flushes and syncs the outputs, then commits every state touched since
  // the last commit with where the input and the outputs stand.
  // Commits the input position, the outputs' lengths, the customers' states
  // and the lines --lateness holds (D9).
  std::optional<Error> Commit(sink::FileSink& sink, const input::LineReader& reader, int64_t lines,
                              const engine::Engine& engine);

  // Closes the outputs; returns the first error.
  std::optional<Error> Close();

 private:
  DurableRun(const Options& options, std::unique_ptr<state::DurableStore> store);

  const Options& options_;
  std::unique_ptr<state::DurableStore> store_;
  std::optional<state::Checkpoint> resumed_;
  std::FILE* out_ = nullptr;
  std::FILE* rejects_ = nullptr;
};

}  // namespace qm::run::internal

#endif  // QM_RUNTIME_RUN_INTERNAL_DURABLE_RUN_H_

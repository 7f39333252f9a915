// What the API's own files share. Not installed.
#ifndef QM_API_INTERNAL_H_
#define QM_API_INTERNAL_H_

#include <memory>
#include <string>

#include "compiler/diag/diag.h"
#include "compiler/program/program.h"
#include "qianmian/qianmian.hpp"
#include "runtime/engine/engine.h"
#include "runtime/state/durable.h"

namespace qm::run {
class Files;
}
namespace qm::input {
class LineReader;
}

namespace qianmian {

struct RuleSet::Impl {
  qm::Compiled compiled;
  qm::Lang lang = qm::Lang::kEn;
  std::vector<Diagnostic> diagnostics;
};

namespace internal {

struct RuleSetAccess {
  using Impl = RuleSet::Impl;
  static RuleSet Make(std::shared_ptr<const Impl> impl) { return RuleSet(std::move(impl)); }
  static const Impl& Of(const RuleSet& rules) { return *rules.impl_; }
  static std::shared_ptr<const Impl> Share(const RuleSet& rules) { return rules.impl_; }
};

// How RunStream (`qm run`) keeps a Runner: its engine writes straight into
// the run's files and its position is theirs (Files::Sync), so nothing is
// ever taken back: a failed write fails the run, and a rerun continues from
// the last commit.
struct RunnerAccess {
  struct Failure {
    qm::Error error;
    std::vector<qm::Diagnostic> changes;  // E0501: why these rules cannot continue the state
  };
  // As Runner::Create, with `files` continued from what the state directory
  // committed before anything is written. `on_notice` hears the compatible
  // changes worth telling.
  // `threads`: how many to split customers over (runtime/shard) when the
  // rules allow it; `asked`: the user chose the number, so staying on one
  // thread is worth a notice.
  static std::unique_ptr<Runner> OpenForRun(const RuleSet& rules, const RunOptions& options, qm::run::Files& files,
                                            int threads, bool asked,
                                            const std::function<void(const qm::Error&)>& on_notice, Failure& failure);
  // Where the state directory's last commit left the run; nullopt for a new one.
  static const std::optional<qm::state::Checkpoint>& Resumed(const Runner& runner);
  // Processes every line fed and writes its output (a run split over
  // threads runs lines in batches): before the files are synced for a commit.
  static void Drain(Runner& runner);
  // Decodes the lines `reader` has whole in its buffer ahead of their
  // turn, as many as the engine takes (Engine::Ahead); Feed then runs them.
  static void Ahead(Runner& runner, qm::input::LineReader& reader);
  // Commits with `checkpoint`'s input and output fields, filled by Files::Sync.
  static std::optional<qm::Error> Commit(Runner& runner, qm::state::Checkpoint checkpoint);
};

Diagnostic Convert(const qm::Diagnostic& d, qm::Lang lang);
Stats Convert(const qm::engine::Stats& stats);
qm::EngineKind Convert(Engine engine);

}  // namespace internal
}  // namespace qianmian

#endif  // QM_API_INTERNAL_H_

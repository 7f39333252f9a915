// Shards: one rule set run over customers split by id across threads, writing
// byte for byte what one engine running every customer writes (SEMANTICS.md:
// the same events give the same bytes however the work is split;
// docs/runtime.md, "Threads").
//
// Each shard is an engine with its own evaluator and store. Lines are taken
// in batches: the shards decode a batch between them (decoding needs no
// state), then each walks the whole batch in order, processing its own
// customers' lines and firing its own timers where the others' lines would
// fire them in one engine. Every step's output carries its place in the
// one-engine order (engine::StepOrder), and the batches' outputs are merged
// by it while the shards run the next batch.
#ifndef QM_RUNTIME_SHARD_SHARD_H_
#define QM_RUNTIME_SHARD_SHARD_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "compiler/diag/diag.h"
#include "compiler/ir/ir.h"
#include "compiler/source/source.h"
#include "runtime/engine/engine.h"
#include "runtime/state/state.h"

namespace qm::shard {

// Which of `shards` shards a customer id belongs to (StableHash32).
inline size_t ShardOf(std::string_view customer, size_t shards) { return StableHash32(customer) % shards; }

// Why `program` cannot run sharded with `options`, or nullopt: identity
// merges (D11, D12) and segment ranks (D13) need every customer in one
// place. (An observer watches one engine: runs with one are never sharded.)
std::optional<Error> WhyNotSharded(const ir::Program& program, const engine::Options& options);

// Where a durable run continues: after `lines_before` lines, with the lines
// --lateness held (D9).
struct Resumed {
  int64_t lines_before = 0;
  std::vector<state::HeldLine> held;
  int64_t high_mark = state::kNever;
};

class Shards {
 public:
  struct Part {
    std::unique_ptr<ir::Evaluator> evaluator;
    state::Store* store;  // the states of the customers ShardOf gives this part; outlives the Shards
  };
  // One thread per part; `program` must be shardable. The stores may hold
  // states already (a durable run continued): their timers are queued
  // again. Lines are run in batches of `batch_lines` (tests make them small
  // to cross many).
  static constexpr size_t kBatchLines = 16384;
  Shards(const ir::Program& program, std::vector<Part> parts, engine::Output& out, engine::Options options,
         Resumed resumed = {}, size_t batch_lines = kBatchLines);
  ~Shards();

  // The next input line (without '\n'); lines are numbered from 1. Its
  // output reaches `out` a batch or two later, or at EndOfInput.
  void Feed(std::string_view line);
  // Processes every line fed and writes all output (Engine::ReleaseAll).
  void EndOfInput();
  // Fires every timer due by `until` (Engine::FireUntil); after EndOfInput.
  void FireUntil(int64_t until);
  // Processes every line fed and writes its output, for a commit: the stores
  // then hold the states after the last line fed.
  void Drain();

  // The counts of every line whose output was written, summed over shards.
  engine::Stats stats() const;
  int64_t customers() const;
  // What a commit keeps after Drain (Engine::held, Engine::high_mark).
  std::vector<state::HeldLine> held() const;
  int64_t high_mark() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qm::shard

#endif  // QM_RUNTIME_SHARD_SHARD_H_

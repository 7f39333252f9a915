#include "runtime/shard/shard.h"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <condition_variable>
#include <mutex>
#include <pthread.h>
#include <string>
#include <thread>

namespace qm::shard {

std::optional<Error> WhyNotSharded(const ir::Program& program, const engine::Options& options) {
  const check::Program& p = program.checked;
  if (!p.identity.empty()) return Error::Of<ErrorKind::kOneThreadIdentity>();
  if (!p.segments.empty()) return Error::Of<ErrorKind::kOneThreadSegments>();
  return std::nullopt;
}

namespace {

constexpr size_t kBatchBytes = 4 << 20;  // a batch ends at this many bytes if not at its lines

// One line of the batch being run: decoded by one shard, processed by its
// customer's shard, which tells the others whether it was accepted.
struct Slot {
  engine::Decoded decoded;
  enum : uint8_t { kUnknown, kAccepted, kRefused };
  std::atomic<uint8_t> verdict{kUnknown};
};

// What every shard reads of every line of the batch, kept apart from the
// decoded lines: each shard walks all of them, and a Slot spans several
// cache lines, half of them written on the other core.
struct Head {
  int64_t ts = 0;
  uint32_t owner = 0;
  bool accepted = false;  // decoded as an event (kAccepted)
};

// One shard's output, a batch at a time, cut into steps that carry their
// place in the one-engine order. Two buffers: the shard fills one while the
// other is merged.
class StepOutput final : public engine::Output {
 public:
  struct Chunk {
    engine::StepOrder order;
    size_t actions_from, actions_to, rejects_from, rejects_to, warnings_from, warnings_to;
  };
  struct Buffer {
    std::string actions, rejects;
    std::vector<std::string> warnings;
    std::vector<Chunk> chunks;
  };

  void Use(int b) {
    buffer_ = &buffers_[b];
    buffer_->actions.clear();
    buffer_->rejects.clear();
    buffer_->warnings.clear();
    buffer_->chunks.clear();
    open_ = false;
  }
  const Buffer& buffer(int b) const { return buffers_[b]; }

  void Step(const engine::StepOrder& order) override {
    step_ = order;
    open_ = false;
  }
  // Tells the other shards, which may be waiting for it.
  void Released(int64_t line, bool accepted) override {
    if (line < first_ || line - first_ >= count_) return;  // held from an earlier batch: nobody asks
    slots_[line - first_].verdict.store(accepted ? Slot::kAccepted : Slot::kRefused, std::memory_order_release);
  }
  void Batch(Slot* slots, int64_t first, int64_t count) {
    slots_ = slots;
    first_ = first;
    count_ = count;
  }
  void Action(std::string_view line) override {
    Chunk& c = Open();
    buffer_->actions += line;
    c.actions_to = buffer_->actions.size();
  }
  void Reject(std::string_view line) override {
    Chunk& c = Open();
    buffer_->rejects += line;
    c.rejects_to = buffer_->rejects.size();
  }
  void Warning(std::string_view message) override {
    Chunk& c = Open();
    buffer_->warnings.emplace_back(message);
    c.warnings_to = buffer_->warnings.size();
  }

 private:
  // A step that writes nothing leaves no chunk.
  Chunk& Open() {
    Buffer& b = *buffer_;
    if (!open_) {
      b.chunks.push_back({step_, b.actions.size(), b.actions.size(), b.rejects.size(), b.rejects.size(),
                          b.warnings.size(), b.warnings.size()});
      open_ = true;
    }
    return b.chunks.back();
  }
  Buffer buffers_[2];
  Buffer* buffer_ = &buffers_[0];
  engine::StepOrder step_;
  bool open_ = false;
  Slot* slots_ = nullptr;  // the batch being run, lines [first_, first_ + count_)
  int64_t first_ = 0, count_ = 0;
};

struct Batch {
  std::string bytes;
  std::vector<std::pair<size_t, size_t>> lines;  // offset, size in `bytes`
  int64_t first_line = 1;
  std::string_view line(size_t i) const { return std::string_view(bytes).substr(lines[i].first, lines[i].second); }
  void Clear() {
    bytes.clear();
    lines.clear();
  }
};

}  // namespace

struct Shards::Impl {
  struct Worker {
    Part part;
    StepOutput output;
    std::unique_ptr<engine::Engine> engine;
    std::thread thread;
    std::vector<uint32_t> owned;  // the batch's lines this worker runs, in order
  };
  enum class JobKind { kBatch, kEnd, kUntil, kQuit };
  struct Job {
    JobKind kind = JobKind::kQuit;
    const Batch* batch = nullptr;
    int buffer = 0;
    int64_t until = 0;
  };

  Impl(const ir::Program& program, std::vector<Part> parts, engine::Output& out, engine::Options options,
       Resumed resumed, size_t batch_lines)
      : out(out), workers(parts.size()), phase(static_cast<std::ptrdiff_t>(parts.size())), slots(batch_lines),
        heads(batch_lines) {
    options.order_steps = true;
    int64_t latest = state::kNever;
    for (size_t w = 0; w < parts.size(); ++w) {
      Worker& worker = workers[w];
      worker.part = std::move(parts[w]);
      worker.engine = std::make_unique<engine::Engine>(program, *worker.part.evaluator, *worker.part.store,
                                                       worker.output, options);
      worker.engine->Resume();
      const size_t shards = parts.size();
      worker.engine->Restore(resumed.held, resumed.high_mark,
                             [w, shards](const std::string& customer) { return ShardOf(customer, shards) == w; });
      worker.part.store->ForEach([&](state::CustomerState& s) { latest = std::max(latest, s.clock); });
    }
    for (Worker& worker : workers) worker.engine->BoundClocks(latest);
    batches[0].first_line = resumed.lines_before + 1;
    for (size_t w = 0; w < workers.size(); ++w) workers[w].thread = std::thread([this, w] { Loop(w); });
  }

  ~Impl() {
    Wait();  // a run that failed may leave a batch running: its output is dropped
    Start(Job{});  // kQuit
    for (Worker& w : workers) w.thread.join();
  }

  void Feed(std::string_view line) {
    Batch& b = batches[filling];
    b.lines.emplace_back(b.bytes.size(), line.size());
    b.bytes += line;
    if (b.lines.size() >= slots.size() || b.bytes.size() >= kBatchBytes) Dispatch();
  }

  // Runs the batch being filled while the previous one is merged.
  void Dispatch() {
    Batch& b = batches[filling];
    if (b.lines.empty()) return;
    Wait();
    int previous = pending;
    Start(Job{JobKind::kBatch, &b, filling, 0});
    pending = filling;
    if (previous >= 0) Merge(previous);
    filling ^= 1;
    batches[filling].Clear();
    batches[filling].first_line = b.first_line + static_cast<int64_t>(b.lines.size());
  }

  // Runs every batch fed and writes its output.
  void Drain() {
    Dispatch();
    Wait();
    if (pending >= 0) Merge(pending);
    pending = -1;
  }

  // Runs a job that comes after every batch, and writes all output.
  void Finish(Job job) {
    Drain();
    Start(job);
    Wait();
    Merge(job.buffer);
  }

  void Start(const Job& job) {
    next_run.store(0, std::memory_order_relaxed);  // the mutex publishes it with the job
    std::lock_guard<std::mutex> lock(mutex);
    this->job = job;
    running = workers.size();
    ++generation;
    start.notify_all();
  }

  void Wait() {
    std::unique_lock<std::mutex> lock(mutex);
    done.wait(lock, [&] { return running == 0; });
  }

  void Loop(size_t w) {
    // Named so that `top -H` and `perf report --sort comm` tell the shards apart.
    pthread_setname_np(pthread_self(), ("qm shard " + std::to_string(w)).c_str());
    uint64_t seen = 0;
    for (;;) {
      Job next;
      {
        std::unique_lock<std::mutex> lock(mutex);
        start.wait(lock, [&] { return generation != seen; });
        seen = generation;
        next = job;
      }
      if (next.kind == JobKind::kQuit) return;
      Worker& worker = workers[w];
      worker.output.Use(next.buffer);
      if (next.kind == JobKind::kBatch) {
        RunBatch(w, *next.batch);
      } else if (next.kind == JobKind::kEnd) {
        worker.engine->ReleaseAll();
      } else {
        worker.engine->FireUntil(next.until);
      }
      std::lock_guard<std::mutex> lock(mutex);
      if (--running == 0) done.notify_one();
    }
  }

  void RunBatch(size_t w, const Batch& b) {
    Worker& worker = workers[w];
    engine::Engine& engine = *worker.engine;
    const size_t n = b.lines.size(), shards = workers.size();
    // The shards decode the batch in runs they claim in turn: one held up
    // (the reading thread shares the cores) leaves its share to the others.
    // A run is contiguous, so no two shards write the same cache line.
    for (size_t from; (from = next_run.fetch_add(kDecodeRun, std::memory_order_relaxed)) < n;) {
      for (size_t i = from, end = std::min(n, from + kDecodeRun); i < end; ++i) {
        Slot& slot = slots[i];
        engine.Decode(b.line(i), b.first_line + static_cast<int64_t>(i), slot.decoded);
        const bool accepted = slot.decoded.kind == engine::LineOutcome::kAccepted;
        heads[i] = Head{.ts = accepted ? slot.decoded.event.ts : 0,
                        .owner = static_cast<uint32_t>(accepted ? ShardOf(slot.decoded.event.customer, shards) : i % shards),
                        .accepted = accepted};
        slot.verdict.store(Slot::kUnknown, std::memory_order_relaxed);
      }
    }
    phase.arrive_and_wait();
    worker.output.Batch(slots.data(), b.first_line, static_cast<int64_t>(n));
    std::vector<uint32_t>& owned = worker.owned;
    owned.clear();
    for (size_t i = 0; i < n; ++i)
      if (heads[i].owner == w) owned.push_back(static_cast<uint32_t>(i));
    size_t next = 0;  // in `owned`
    for (size_t i = 0; i < n; ++i) {
      const Head& head = heads[i];
      const int64_t number = b.first_line + static_cast<int64_t>(i);
      if (head.owner == w) {
        // The customers of the next three lines it runs, a stage each (Store::Prefetch).
        for (size_t stage = 0; stage < 3; ++stage)
          if (size_t k = next + 3 - stage; k < owned.size()) engine.Prefetch(slots[owned[k]].decoded, static_cast<int>(stage));
        ++next;
        engine.Process(slots[i].decoded, number);  // tells its verdict through StepOutput::Released
      } else if (head.accepted) {
        Slot& slot = slots[i];
        engine.Foreign(head.ts, number, [&slot] {
          uint8_t verdict;
          while ((verdict = slot.verdict.load(std::memory_order_acquire)) == Slot::kUnknown) std::this_thread::yield();
          return verdict == Slot::kAccepted;
        });
      }
    }
  }

  // Writes one buffer of every shard in the one-engine order: each time the
  // run of the shard whose next step comes first, up to the step another
  // shard has next. A shard's consecutive chunks are adjacent in its buffers,
  // so a run is written as one piece.
  void Merge(int b) {
    const size_t shards = workers.size();
    std::vector<size_t> at(shards, 0);
    auto chunks = [&](size_t w) -> const std::vector<StepOutput::Chunk>& { return workers[w].output.buffer(b).chunks; };
    for (;;) {
      int best = -1, next = -1;  // the shards with the first and the second next step
      for (size_t w = 0; w < shards; ++w) {
        if (at[w] == chunks(w).size()) continue;
        const engine::StepOrder& order = chunks(w)[at[w]].order;
        if (best < 0 || order < chunks(best)[at[best]].order) {
          next = best;
          best = static_cast<int>(w);
        } else if (next < 0 || order < chunks(next)[at[next]].order) {
          next = static_cast<int>(w);
        }
      }
      if (best < 0) break;
      const std::vector<StepOutput::Chunk>& run = chunks(best);
      size_t from = at[best], to = from + 1;
      while (to < run.size() && (next < 0 || run[to].order < chunks(next)[at[next]].order)) ++to;
      at[best] = to;
      const StepOutput::Buffer& buffer = workers[best].output.buffer(b);
      const StepOutput::Chunk &first = run[from], &last = run[to - 1];
      if (last.actions_to > first.actions_from)
        out.Action(std::string_view(buffer.actions).substr(first.actions_from, last.actions_to - first.actions_from));
      if (last.rejects_to > first.rejects_from)
        out.Reject(std::string_view(buffer.rejects).substr(first.rejects_from, last.rejects_to - first.rejects_from));
      for (size_t k = first.warnings_from; k < last.warnings_to; ++k) out.Warning(buffer.warnings[k]);
    }
  }

  engine::Output& out;
  std::vector<Worker> workers;
  std::barrier<> phase;
  std::vector<Slot> slots;
  std::vector<Head> heads;  // parallel to `slots`
  static constexpr size_t kDecodeRun = 256;  // lines
  std::atomic<size_t> next_run{0};           // the batch's first line no shard has claimed
  Batch batches[2];
  int filling = 0;   // the batch Feed appends to
  int pending = -1;  // the batch (and output buffer) running or not yet merged
  std::mutex mutex;
  std::condition_variable start, done;
  Job job;
  size_t running = 0;
  uint64_t generation = 0;
};

Shards::Shards(const ir::Program& program, std::vector<Part> parts, engine::Output& out, engine::Options options,
               Resumed resumed, size_t batch_lines)
    : impl_(std::make_unique<Impl>(program, std::move(parts), out, options, std::move(resumed), batch_lines)) {}

Shards::~Shards() = default;

void Shards::Feed(std::string_view line) { impl_->Feed(line); }

void Shards::EndOfInput() { impl_->Finish(Impl::Job{Impl::JobKind::kEnd}); }

void Shards::FireUntil(int64_t until) { impl_->Finish(Impl::Job{Impl::JobKind::kUntil, nullptr, 0, until}); }

void Shards::Drain() { impl_->Drain(); }

// Read while the workers wait for their next job.
engine::Stats Shards::stats() const {
  impl_->Wait();
  engine::Stats sum;
  for (const Impl::Worker& w : impl_->workers) {
    const engine::Stats& stats = w.engine->stats();
    sum.AddCounts(stats);
    sum.pending_timers += stats.pending_timers;
    sum.pending_deferred += stats.pending_deferred;
  }
  return sum;
}

int64_t Shards::customers() const {
  impl_->Wait();
  int64_t n = 0;
  for (const Impl::Worker& w : impl_->workers) n += static_cast<int64_t>(w.part.store->size());
  return n;
}

std::vector<state::HeldLine> Shards::held() const {
  impl_->Wait();
  std::vector<state::HeldLine> all;
  for (const Impl::Worker& w : impl_->workers) {
    std::vector<state::HeldLine> own = w.engine->held();
    all.insert(all.end(), std::make_move_iterator(own.begin()), std::make_move_iterator(own.end()));
  }
  std::sort(all.begin(), all.end(), [](const state::HeldLine& a, const state::HeldLine& b) {
    return std::pair{a.ts, a.line_number} < std::pair{b.ts, b.line_number};
  });
  return all;
}

int64_t Shards::high_mark() const {
  impl_->Wait();
  return impl_->workers[0].engine->high_mark();  // every shard sees every line's ts
}

}  // namespace qm::shard

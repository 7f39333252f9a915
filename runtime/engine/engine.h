// The engine: runs a lowered rule set over an event stream (SEMANTICS.md
// A18-A36): per-customer steps with snapshot evaluation, actions in file
// order, net-change cascades with a depth limit, `no ... for` and `after`
// timers in (due, customer) order, once-only pushes. Output is
// deterministic, byte for byte, whatever the Evaluator.
#ifndef QM_RUNTIME_ENGINE_ENGINE_H_
#define QM_RUNTIME_ENGINE_ENGINE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/ir/ir.h"
#include "runtime/event/decode.h"
#include "runtime/state/state.h"

namespace qm::engine {

// The output zone when none is given: +08:00, where Qianmian's users are.
inline constexpr int kDefaultTzMinutes = 8 * 60;

// Sees what the engine decides, for `qm explain` and `qm test --coverage`
// (docs/tooling.md). Every call comes during the step it is about; rules and
// actions are indexes into check::Program. Running with an observer never
// changes what the engine does.
class Observer {
 public:
  virtual ~Observer() = default;
  enum class StepKind : uint8_t { kEvent, kTimer, kCascade };
  struct StepInfo {
    StepKind kind;
    const std::string& customer;
    int64_t now;
    int64_t line = 0;          // kEvent: the input line
    int32_t event_type = -1;   // kEvent
    int depth = 0;             // kCascade: 1 for the first cascade step
  };
  // What became of one action of a rule that held.
  enum class Outcome : uint8_t {
    kApplied,      // its line was written
    kNoChange,     // set/add/tag/untag that changes nothing (A22)
    kUnsetValue,   // set/add of an unset value (A24, A25)
    kScheduled,    // `after`: due at `at`
    kAlreadySent,  // push/invite sent at `at` before, once only or within `every` (A26)
    kCapFull,      // a cap is full: the emissions in its window at `times`; `at` is the cap's index (D4)
    kDeferred,     // quiet hours: deferred to `at` (D5)
    kDropped,      // quiet hours: dropped (D5)
    kCascadeLimit, // a cascade went deeper than the limit (A30): the rule did not run
  };
  virtual void OnStep(const StepInfo& step) = 0;
  // The rules the step evaluated and, of them, those whose condition held.
  virtual void OnEvaluated(const std::vector<int32_t>& candidates, const std::vector<int32_t>& matched,
                           const ir::StepView& view) = 0;
  virtual void OnAction(int32_t rule, int32_t action, Outcome outcome, int64_t at,
                        const std::vector<int64_t>& times) = 0;
  // A pending `after` was cancelled by this step's event (A27, D7).
  virtual void OnCancelled(int32_t rule, int32_t action, int64_t due) = 0;
  // A `no` rule's timer was (re)armed to fire at `due` (A35).
  virtual void OnArmed(int32_t rule, int64_t due) = 0;
  // A delayed or deferred action fires in this timer step.
  virtual void OnFired(int32_t rule, int32_t action) = 0;
  virtual void OnLine(std::string_view line) = 0;
  virtual void OnReject(std::string_view line, std::string_view customer) = 0;
};

struct Options {
  int tz_minutes = kDefaultTzMinutes;  // output zone (--tz), A39
  int cascade_limit = 8;    // A30
  int64_t lateness_ms = 0;  // --lateness (D9): 0 processes each line as it arrives
  Observer* observer = nullptr;
  bool order_steps = false;  // tell Output::Step where each step falls (runtime/shard)
};

// Where a step falls in the output of one engine running every customer, so
// that engines running customers apart can merge their outputs into the same
// bytes (runtime/shard). Steps are ordered by input line, then the event
// released at it, then its timers (by due time, then customer, A32) before
// its own step.
struct StepOrder {
  static constexpr int64_t kAfterInput = std::numeric_limits<int64_t>::max();
  int64_t input_line = 0;  // the line being read; kAfterInput for the end of input and --until
  int64_t release_ts = std::numeric_limits<int64_t>::min(), release_line = std::numeric_limits<int64_t>::min();
  bool timer = false;
  int64_t due = 0;                        // timer steps
  const std::string* customer = nullptr;  // timer steps: the store's copy, stable for the run
  bool operator<(const StepOrder& o) const;
};

// Receives the engine's output. Lines end with '\n'.
class Output {
 public:
  virtual ~Output() = default;
  virtual void Action(std::string_view line) = 0;
  virtual void Reject(std::string_view line) = 0;
  virtual void Warning(std::string_view message) = 0;
  // With Options::order_steps: the lines that follow belong to this step.
  virtual void Step(const StepOrder&) {}
  // With Options::order_steps: this engine's line was released (D9) and
  // accepted or found late (A34).
  virtual void Released(int64_t line_number, bool accepted) {}
};

struct Stats {
  int64_t lines = 0;
  int64_t events = 0;  // accepted
  int64_t timer_steps = 0;
  std::map<std::string, int64_t> actions;  // by kind
  std::map<std::string, int64_t> rejects;  // by reason
  // Push/invite/notify attempts that emitted nothing, by reason: `once` and
  // `every` (A26), `cap` (D4), `quiet` (D5 drop).
  std::map<std::string, int64_t> suppressed;
  // By rule (in rule file order): steps in which it held and its actions ran.
  std::vector<int64_t> fired;
  // Still pending when the stats were read: `no` timers and `after`
  // actions, and actions deferred by quiet hours (D5).
  int64_t pending_timers = 0;
  int64_t pending_deferred = 0;

  // Adds what another engine counted: lines, events, timer steps, actions,
  // rejects, suppressed, fired (not its pending timers, a snapshot of its queue).
  void AddCounts(const Stats& other);
};

// What became of one input line.
struct LineOutcome {
  enum Kind : uint8_t {
    kAccepted,  // its step ran
    kHeld,      // --lateness holds it until the watermark passes it (D9)
    kRejected,  // a reject line was written
    kBlank,     // nothing to read on it (A40)
  };
  Kind kind = kBlank;
  int64_t ts = std::numeric_limits<int64_t>::min();  // the event's, once decoded
  std::string_view reason;        // kRejected: A38's reason (static text)
  std::string field, customer;    // kRejected: as its reject line names them (D8)
};

// A line decoded apart from its processing (Engine::Decode).
struct Decoded {
  LineOutcome::Kind kind = LineOutcome::kBlank;  // kAccepted: an event to process; kRejected by decoding
  std::string_view text;  // the line, trimmed (A40); views the caller's line
  event::Event event;
  std::string_view reason;
  std::string field, customer;  // kRejected, as LineOutcome
};

class Engine {
 public:
  // All references must outlive the engine.
  Engine(const ir::Program& program, ir::Evaluator& evaluator, state::Store& store, Output& output,
         Options options = {});
  ~Engine();

  // Processes one physical input line (without '\n'; A40's trimming and
  // skipping are done here). `line_number` counts from 1.
  LineOutcome ProcessLine(std::string_view line, int64_t line_number);
  // Decodes a line before ProcessLine is given it, and brings the state its
  // customer needs toward the cache while the lines before it run
  // (Store::Prefetch): with many customers each step otherwise waits on
  // memory several times. Lines come in order, each once, while AheadRoom()
  // says there is room; `line` must stay unchanged, at the same place, until
  // ProcessLine(line, line_number) takes it. ProcessLine given any other line
  // forgets the lines ahead. Changes nothing that can be seen.
  void Ahead(std::string_view line, int64_t line_number);
  size_t AheadRoom() const;
  // The same for a line decoded apart (Decode), in Store::Prefetch's stages:
  // give each line stage 0, 1 and 2, one processed line apart.
  void Prefetch(const Decoded& line, int stage) const;
  // ProcessLine in two parts, for engines running customers apart
  // (runtime/shard): Decode needs no state, so any engine may decode a line
  // that another processes; `line` must outlive the Process call.
  void Decode(std::string_view line, int64_t line_number, Decoded& out);
  LineOutcome Process(Decoded& line, int64_t line_number);
  // A decoded line that another engine processes: in one engine, when it is
  // released (D9) and accepted, the timers due by its ts fire before its
  // step (A32), so this engine fires its own. `accepted` says whether the
  // other engine accepted it; it is asked only when the line's ts is before
  // one already released and a timer is due by then, which in time-ordered
  // input never happens.
  void Foreign(int64_t ts, int64_t line_number, const std::function<bool()>& accepted);
  // For Foreign: no customer's clock, in any engine, is after `ts` (the
  // greatest of all engines' clocks when a run continues).
  void BoundClocks(int64_t ts);
  // Fires every pending timer due at or before `until`, in order (C3, B8).
  void FireUntil(int64_t until);
  // End of input: releases every line --lateness still holds (D9).
  void ReleaseAll();
  // The lines --lateness holds, in release order, and the greatest ts seen;
  // a durable run commits them and restores them when it continues.
  std::vector<state::HeldLine> held() const;
  int64_t high_mark() const;
  // With `mine`, the lines of customers it rejects are other engines': only
  // their place in the release order is kept (Foreign).
  void Restore(std::vector<state::HeldLine> held, int64_t high_mark,
               const std::function<bool(const std::string&)>& mine = nullptr);
  // D13: each segment's schedule and last refresh, which a durable run
  // commits and restores (by name) when it continues.
  std::vector<state::SegmentStatus> segments() const;
  void RestoreSegments(const std::vector<state::SegmentStatus>& saved);
  const Stats& stats() const;

  // Continues from a store loaded from a state directory: rebuilds the timer
  // queue from the states' pending timers.
  void Resume();

  // For hosts whose delivery of a call's lines can fail (docs/embedding.md):
  // from Mark(), the engine records what it changes; Undo() puts every
  // customer state, timer, held line and count back as it was at Mark() (and
  // Mark()s again), so running the same input again writes the same lines.
  // Undo rebuilds the timer queue: it costs a pass over every customer.
  void Mark();
  void Undo();

  // Removes every trace of `customer`: state, pending timers, held lines
  // (and the copies Mark keeps). False when there is no such customer.
  bool Forget(const std::string& customer);

  // With a store that can evict (a state directory): drops from memory the
  // customers whose clock is before `idle_before` and whose state is
  // committed; their pending timers stay queued by id, and an event or a
  // timer of theirs reads them back, so output is the same. Returns how many.
  int64_t Evict(int64_t idle_before);
  // Reads every evicted customer back (before a Reload remaps them).
  void WakeAll();
  // `customer`'s state, read back when evicted; null when there is none.
  state::CustomerState* Find(const std::string& customer);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  mutable Stats stats_;  // the pending counts are taken when read
};

}  // namespace qm::engine

#endif  // QM_RUNTIME_ENGINE_ENGINE_H_

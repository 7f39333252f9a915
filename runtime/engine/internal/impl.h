// The engine's implementation (Engine::Impl), declared for its parts:
// engine.cc (input), step.cc (what conditions read, internal/step.h), timers.cc,
// steps.cc (events and cascades), actions.cc (actions and their output
// lines). Private to runtime/engine.
#ifndef QM_RUNTIME_ENGINE_INTERNAL_IMPL_H_
#define QM_RUNTIME_ENGINE_INTERNAL_IMPL_H_

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <tuple>
#include <utility>
#include <vector>

#include "runtime/engine/engine.h"
#include "runtime/engine/internal/step.h"

namespace qm::engine_internal {

using state::AfterOrder;
using state::AggregateState;
using state::CustomerState;
using state::kNever;
using state::PendingAfter;
using state::Stored;

inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  return r;
}

inline int64_t SaturatingMul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return (a < 0) != (b < 0) ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  return r;
}

using ir::ConstantValue;
using ir::KindOf;

// A24/A25 conversions into a field of type `to`: int -> money/number, money -> number.
inline Value Convert(const Value& v, const check::Type& to) {
  ValueKind k = KindOf(to);
  if (v.kind == k || v.unset()) return v;
  if (k == ValueKind::kMoney && v.kind == ValueKind::kInt) return Value::Money(SaturatingMul(v.i, 100));
  if (k == ValueKind::kNumber) return Value::Number(ToDouble(v));
  return v;
}

// A25, A43: `from + by` in a field of type `kind` (unset `from` counts as 0);
// also how `merge sum` adds two persons' values (D12).
inline Value AddValues(const Value& from, const Value& by, check::TypeKind kind) {
  switch (kind) {
    case check::TypeKind::kNumber: return Value::Number((from.unset() ? 0.0 : from.d) + by.d);
    case check::TypeKind::kMoney: return Value::Money(SaturatingAdd(from.unset() ? 0 : from.i, by.i));
    default: return Value::Int(SaturatingAdd(from.unset() ? 0 : from.i, by.i));
  }
}

struct TimerKey {
  TimerKey(int64_t due, const std::string* customer, CustomerState* state, uint8_t kind, uint64_t id,
           int32_t unless = 0, bool deferred = false)
      : due(due), state(state), kind(kind), id(id), unless(unless), deferred(deferred) {
    Rebind(customer);
  }
  // Points the key at `id` (the same text, another copy, or null while it
  // is being built).
  void Rebind(const std::string* id) {
    customer = id;
    uint64_t head = 0;
    if (id != nullptr) std::memcpy(&head, id->data(), std::min<size_t>(id->size(), 8));
    customer_head = __builtin_bswap64(head);
  }
  int64_t due;
  const std::string* customer;  // the store's stable copy
  CustomerState* state;
  uint8_t kind;  // 0: `no` rule (id = quiet index), 1: `after` (id = seq)
  uint64_t id;
  int32_t unless = 0;  // an `after`'s, to find it in its customer's PendingAfters; not part of the order
  bool deferred = false;  // an action deferred by quiet hours (D5); not part of the order
  // The customer's first eight bytes, big-endian and zero-padded: ordered as
  // the bytes are, so most ties on `due` need no string compare.
  uint64_t customer_head;
  bool operator<(const TimerKey& o) const {
    if (due != o.due) return due < o.due;
    if (customer != o.customer) {
      if (customer_head != o.customer_head) return customer_head < o.customer_head;
      int c = customer->compare(*o.customer);  // A32: code point order = byte order
      if (c != 0) return c < 0;
    }
    if (kind != o.kind) return kind < o.kind;
    return id < o.id;
  }
};

// A timer step's work: a `no` rule's actions (kind 0) or a delayed action
// (kind 1, `index` in the fired afters), run in rule file order, then
// scheduling order.
struct TimerWork {
  int32_t rule;
  int kind;
  uint64_t seq;
  size_t index;
};

// What a step changed, to compute its net internal events (A29).
struct ChangeLog {
  std::vector<std::pair<int32_t, Stored>> fields;  // field, value at step start
  std::vector<std::pair<int32_t, uint8_t>> tags;   // tag, presence at step start
  void Field(int32_t f, const Stored& before) {
    for (auto& [k, v] : fields) if (k == f) return;
    fields.emplace_back(f, before);
  }
  void Tag(int32_t t, uint8_t before) {
    for (auto& [k, v] : tags) if (k == t) return;
    tags.emplace_back(t, before);
  }
  void clear() {
    fields.clear();
    tags.clear();
  }
};

}  // namespace qm::engine_internal

namespace qm::engine {

// The engine's helpers, unqualified in its files.
using namespace engine_internal;

class Engine::Impl {
 public:
  Impl(const ir::Program& program, ir::Evaluator& evaluator, state::Store& store, Output& output,
       Options options, Stats& stats)
      : program_(program), p_(program.checked), evaluator_(evaluator), store_(store), out_(output),
        options_(options), stats_(stats), observer_(options.observer), decoder_(program), step_(program.checked) {
    for (const check::Cap& cap : p_.caps) caps_window_ms_ = std::max(caps_window_ms_, cap.per_ms);
    for (const check::Segment& g : p_.segments) segments_.push_back({p_.tags[g.tag].name});
    MakeHeads();
  }

  // ---------------------------------------------------------------- input
  LineOutcome ProcessLine(std::string_view line, int64_t line_number);
  void Ahead(std::string_view line, int64_t line_number);
  size_t AheadRoom() const { return kAhead - ahead_count_; }
  void Prefetch(const Decoded& d, int stage) const {
    if (d.kind == LineOutcome::kAccepted) store_.Prefetch(d.event.customer, stage);
  }
  void Decode(std::string_view line, int64_t line_number, Decoded& out);
  LineOutcome Process(Decoded& line, int64_t line_number);

  void FireUntil(int64_t until) {
    order_line_ = release_ts_ = release_line_ = StepOrder::kAfterInput;
    FireDue(until);
  }
  void Foreign(int64_t ts, int64_t line_number, const std::function<bool()>& accepted);
  void BoundClocks(int64_t ts) { released_max_ = std::max(released_max_, ts); }
  void ReleaseAll() {
    order_line_ = StepOrder::kAfterInput;
    ReleaseThrough(std::numeric_limits<int64_t>::max());
  }
  int64_t NextDue() const { return timers_.empty() ? StepOrder::kAfterInput : timers_.begin()->due; }

  // D9: releases the held lines with ts <= watermark in (ts, line) order.
  // `accepted`: whether the line being read, another engine's, was
  // accepted (Foreign).
  void ReleaseThrough(int64_t watermark, const std::function<bool()>* accepted = nullptr);
  std::vector<state::HeldLine> Held() const;
  int64_t high_mark() const { return high_mark_; }
  void Restore(std::vector<state::HeldLine> held, int64_t high_mark,
               const std::function<bool(const std::string&)>& mine);

  // Pending timers live in the states; the queue is rebuilt from them. Only
  // the relative order of `after` sequence numbers matters (A33), so new ones
  // continue after the largest pending one.
  void Resume();
  // D11: rebuilds alias_ and owner_ from the states (Engine::Resume).
  void IndexPersons();

  // D13: each segment's schedule and last refresh, for a commit; restored by
  // name, through `renamed tag` (docs/state.md).
  std::vector<state::SegmentStatus> Segments() const { return segments_; }
  void RestoreSegments(const std::vector<state::SegmentStatus>& saved);

  void Mark();
  void Undo();
  bool Forget(const std::string& customer);
  int64_t Evict(int64_t idle_before);
  void WakeAll();
  // A customer's state, read back from the store when evicted.
  CustomerState* Lookup(const std::string& customer);

  // The counts Stats takes when it is read: pending timers, and suppressed
  // attempts (kept in an array here: they change on the hot path).
  void CountPending(Stats& stats) const {
    stats.pending_timers = stats.pending_deferred = 0;
    for (const TimerKey& k : timers_) ++(k.deferred ? stats.pending_deferred : stats.pending_timers);
    static constexpr const char* kReasons[] = {"once", "every", "cap", "quiet"};
    for (int r = 0; r < kSuppressReasons; ++r)
      if (suppressed_[r] > 0) stats.suppressed[kReasons[r]] = suppressed_[r];
  }

 private:
  // What v0.1 does with a decoded line: A34's check, the timers due by its
  // ts, its step (D9: on release).
  bool Release(const event::Event& e, int64_t line_number);
  void ReleaseForeign(int64_t ts, int64_t line_number, const std::function<bool()>* accepted);
  void Hold(event::Event&& e, std::string line, int64_t line_number);

  // With Options::order_steps: the output that follows belongs to this step.
  void MarkStep(bool timer, int64_t due = 0, const std::string* customer = nullptr) {
    if (options_.order_steps) [[unlikely]]
      out_.Step({order_line_, release_ts_, release_line_, timer, due, customer});
  }

  // A38's line; D8: with the customer as written once check 7 passed.
  void Reject(int64_t line_number, std::string_view reason, const std::string& field, std::string_view customer);

  // Every state a step changes passes here first (Mark/Undo).
  void Save(CustomerState& s) {
    if (undo_ != nullptr) [[unlikely]]
      if (s.undo_mark != undo_->mark) {
        s.undo_mark = undo_->mark;
        UndoLog& u = *undo_;
        if (u.saved_count == u.saved.size()) {
          u.saved.emplace_back(&s, s);
        } else {  // copied over an earlier call's copy, reusing its memory
          u.saved[u.saved_count].first = &s;
          u.saved[u.saved_count].second = s;
        }
        ++u.saved_count;
      }
  }
  // `key` is a static text (an action kind's spelling, a reject reason).
  void Count(std::map<std::string, int64_t>& counts, std::string_view key) {
    int64_t* n = nullptr;
    for (const Counter& c : counters_)
      if (c.key == key.data() && c.size == key.size() && c.counts == &counts) {
        n = c.n;
        break;
      }
    if (n == nullptr) {
      n = &counts[std::string(key)];
      if (counters_.size() < kCounters) counters_.push_back({&counts, key.data(), key.size(), n});
    }
    ++*n;
    if (undo_ != nullptr) [[unlikely]] undo_->counted.emplace_back(&counts, key);
  }
  // Count's entries by where their key is: keys are few static texts, so a
  // short scan finds one without the map's string compares, once per action
  // line. Map nodes stay put; Undo, which may erase one, empties this.
  struct Counter {
    const std::map<std::string, int64_t>* counts;
    const char* key;
    size_t size;
    int64_t* n;
  };
  static constexpr size_t kCounters = 32;
  std::vector<Counter> counters_;

  // --------------------------------------------------------------- timers
  void ArmQuiet(CustomerState& s, int32_t q, int64_t due);
  // A `no` timer that comes up where it was queued but is due later (re-armed
  // since) or disarmed moves there or goes: true when it did, nothing fired.
  bool Requeue(std::set<TimerKey>::iterator it);
  // A live customer's timers into the queue at their due times, or out of it.
  void Enqueue(CustomerState& s);
  void Dequeue(CustomerState& s);
  // Into the queue and out of it through spare nodes (spare_timers_), so that
  // a steady run allocates none.
  void Queue(const TimerKey& key);
  void Unqueue(const TimerKey& key);

  // A32: every pending timer due at or before `t`, by (due, customer).
  void FireDue(int64_t t);

  // A33: one customer's timers with one due time are one step.
  void FireGroup(CustomerState& s, int64_t due, const std::vector<TimerKey>& group);

  // D13: the earliest next refresh instant of any segment (kNever: none).
  int64_t NextRefresh() const;
  // Ranks every known customer for each segment due at `at`, on one
  // snapshot, then gives each customer whose membership changed one step.
  void Refresh(int64_t at);
  // At an accepted event: segments not yet scheduled refresh first at the
  // first instant after it.
  void ScheduleSegments(int64_t ts);

  // ---------------------------------------------------------------- steps
  void Begin(CustomerState& s, const event::Event* e, int64_t now);

  // `merged`: the event merged persons first, so `when merged` rules run
  // with its own (D12, E9).
  void RunEvent(CustomerState& s, const event::Event& e, bool merged);

  // ------------------------------------------------------------- identity
  // D11: the person an id names: its survivor once merged, else itself.
  const std::string& PersonOf(const std::string& id) const {
    if (alias_.empty()) return id;  // no merge yet: no hashing on the hot path
    auto it = alias_.find(id);
    return it == alias_.end() ? id : it->second;
  }
  // D11: maps the event's identity keys to `s`'s person, merging persons a
  // key already names (D12); `s` ends as the survivor. Whether any merged.
  bool Link(CustomerState*& s, const event::Event& e);
  // D12: `absorbed` joins `survivor`: the `merge` line, then one state.
  void Merge(CustomerState& survivor, CustomerState& absorbed, const std::string& key, int64_t ts);
  // A customer's queued timers (`no` rules, `after`s).
  std::vector<TimerKey> TimersOf(CustomerState& s) const;

  void AddToAggregates(CustomerState& s, const event::Event& e);

  // A29, A30: internal events of the net changes run as next steps.
  void Cascade(ChangeLog& log);

  // --------------------------------------------------------------- actions
  void ApplyRule(int32_t r, ChangeLog& log);

  // What an action reads when it applies or is scheduled: set/add's value
  // (A24, A27), a target and a message with their placeholders filled (D6).
  // The views point into the program's fixed texts or into `rendered_*`, so
  // a Resolved is filled in place and never moved.
  struct Resolved {
    Value value;
    std::string_view target, message;
    std::string rendered_target, rendered_message;
  };
  void Resolve(const check::Action& a, Resolved& r) const;
  // A template's text: the fixed one as it is, or rendered into `rendered`.
  std::string_view Text(const check::Template& t, std::string& rendered) const;
  Value Read(const check::ActionValue& v) const;
  std::string Render(const check::Template& t) const;

  // Queues a delayed or deferred action of the current step's customer.
  void Schedule(PendingAfter pending);

  void MakeHeads();
  // Starts line_ as `{"ts":"…","customer":"…"` of the step, then `head`.
  void StartLine(std::string_view head);
  // `,"rule":…,"action":"kind"` for rule name `rule`.
  static std::string Head(std::string_view rule, std::string_view kind);
  // Writes line_ as an action line.
  void Emit(std::string_view kind);

  // Applies rule r's action `index`, a set (`by` null) or add to profile
  // field `f`: prints its line (A28) unless nothing changes (A22), and
  // records the change for A29.
  bool ChangeField(int32_t r, int32_t index, int32_t f, const Value& to, const Value* by, ChangeLog& log);

  void Apply(int32_t r, int32_t index, const Resolved& resolved, ChangeLog& log);

  // D4: whether a cap covering this push/invite is full at the step time.
  // With `times`, the emissions counted against the full cap.
  bool CapFull(check::ActionKind kind, std::string_view target, std::vector<int64_t>* times = nullptr,
               int64_t* which = nullptr) const;
  void Observe(int32_t r, int32_t index, Observer::Outcome outcome, int64_t at = kNever,
               const std::vector<int64_t>& times = {}) {
    if (observer_ != nullptr) [[unlikely]] observer_->OnAction(r, index, outcome, at, times);
  }
  // D5: whether quiet hours hold the action now (dropped, or deferred to
  // the window's end).
  bool HeldByQuiet(int32_t r, int32_t index, check::ActionKind kind, const Resolved& resolved);

  const ir::Program& program_;
  const check::Program& p_;
  ir::Evaluator& evaluator_;
  state::Store& store_;
  Output& out_;
  Options options_;
  Stats& stats_;
  Observer* observer_;  // null unless explaining or measuring coverage
  int64_t line_number_ = 0;  // of the event being run
  event::Decoder decoder_;
  Decoded decoded_;  // ProcessLine's, reused
  // Lines decoded ahead (Ahead), oldest first, in a ring. Four: three stages
  // of Store::Prefetch a line apart, and the line about to run.
  struct AheadLine {
    std::string_view line;
    int64_t number = 0;
    Decoded decoded;
  };
  static constexpr size_t kAhead = 4;
  std::array<AheadLine, kAhead> ahead_;
  size_t ahead_first_ = 0, ahead_count_ = 0;
  // Where the current step falls (StepOrder): the input line, the released line.
  int64_t order_line_ = 0, release_ts_ = kNever, release_line_ = kNever;
  // The greatest ts of any line released so far, this engine's or another's:
  // no clock is later (Foreign).
  int64_t released_max_ = kNever;
  std::set<TimerKey> timers_;
  uint64_t next_seq_ = 1;
  int64_t caps_window_ms_ = 0;
  enum SuppressReason { kOnce, kEvery, kCap, kQuiet, kSuppressReasons };
  int64_t suppressed_[kSuppressReasons] = {};
  struct HeldEvent {
    event::Event event;
    std::string line;  // for a durable run's commit
    bool foreign = false;  // another engine's line (Engine::Foreign): its place in the release order only
  };
  using HeldEvents = std::map<std::pair<int64_t, int64_t>, HeldEvent>;
  HeldEvents held_;  // by (ts, line number) (D9)

  // What changed since Mark(): enough to put it all back.
  struct UndoLog {
    Stats stats;  // the scalar counts only
    int64_t suppressed[kSuppressReasons];
    int64_t high_mark;
    uint64_t mark = 0;  // which Mark() this is: states saved under it carry it
    // [0, saved_count): the states as they were. The copies past it are
    // earlier calls', kept (up to kKeptCopies) so that the next copies reuse
    // their memory instead of allocating: a copy per call made from fresh
    // allocations cost a third more time and fragmented the heap.
    std::vector<std::pair<CustomerState*, CustomerState>> saved;
    size_t saved_count = 0;
    static constexpr size_t kKeptCopies = 16;
    std::vector<std::string> created;
    std::vector<std::pair<std::map<std::string, int64_t>*, std::string>> counted;
    std::vector<int32_t> fired;  // rules whose Stats::fired went up
    std::vector<std::pair<int64_t, int64_t>> held_added;
    std::vector<HeldEvents::node_type> released;
    std::vector<std::string> woken;  // evicted again by Undo
    std::vector<state::SegmentStatus> segments;
    // D12: merged persons as they were, recreated by Undo.
    std::vector<std::pair<std::string, CustomerState>> absorbed;
    uint64_t next_person = 0;
    // alias_ and owner_ entries as they were, in the order they changed.
    std::vector<std::tuple<std::unordered_map<std::string, std::string>*, std::string, std::optional<std::string>>> index;
  };
  // Sets an entry of alias_ or owner_, noting what it was for Undo.
  void SetIndex(std::unordered_map<std::string, std::string>& index, const std::string& key, const std::string& value) {
    if (undo_ != nullptr) [[unlikely]] {
      auto it = index.find(key);
      undo_->index.emplace_back(&index, key, it == index.end() ? std::nullopt : std::optional<std::string>(it->second));
    }
    index[key] = value;
  }
  // Evicts one state, its timers queued by id (sleeping_ids_) meanwhile.
  bool EvictState(CustomerState& s);
  // The ids evicted customers' queued timers point at (stable nodes).
  std::set<std::string, std::less<>> sleeping_ids_;
  std::unique_ptr<UndoLog> undo_;  // null unless a host asked for Mark()
  std::vector<state::SegmentStatus> segments_;  // by check::Program::segments (D13)
  // D11, D12: every absorbed id's survivor, and the id each (key '\0' value)
  // was first mapped to (a person, or an alias of one). Both are derived from
  // the states' `aliases` and `keys` (IndexPersons), so a durable run keeps
  // them by committing the states.
  std::unordered_map<std::string, std::string> alias_;
  std::unordered_map<std::string, std::string> owner_;
  uint64_t next_person_ = 1;  // CustomerState::first_seq of the next new person
  int64_t high_mark_ = kNever;  // the longest cap window: older emissions are dropped (D4)

  // The step whose `{"ts":…,"customer":…` begins line_, and its length: the
  // lines of a step start from it without copying it (StartLine).
  int64_t prefix_time_ = 0;
  const std::string* prefix_customer_ = nullptr;  // null: line_ holds no prefix
  size_t prefix_size_ = 0;
  // A step's scratch, kept so that a step allocates nothing: no step runs
  // inside another (a cascade is a loop, timers fire between steps).
  ChangeLog log_, next_log_;
  std::vector<int32_t> matched_, triggered_;
  std::vector<TimerKey> group_;  // FireDue's, and FireGroup's below
  std::vector<int32_t> quiet_candidates_, timer_matched_;
  std::vector<PendingAfter> fired_afters_;
  std::vector<TimerWork> work_;
  // Queue nodes of timers that fired or went, reused by the next ones queued.
  // Every timer is queued through them, so queue and spares together hold
  // no more nodes than the queue held at its largest.
  std::vector<std::set<TimerKey>::node_type> spare_timers_;
  // The same for the customers' pending `after` actions.
  std::vector<state::PendingAfters::node_type> spare_afters_;
  // Keys of capped emissions that left their window, reused by the next ones
  // sent (past 15 bytes a key is an allocation). A customer's own expire
  // when it sends next, so a few are ever waiting.
  static constexpr size_t kSpareKeys = 64;
  std::vector<std::string> spare_keys_;
  // The line being written, reused so that a line allocates nothing.
  std::string line_;
  // By rule and action: what its lines hold after the prefix that never
  // changes: `,"rule":…,"action":"set","field":…`, a tag line up to its
  // end, a push's up to its target.
  std::vector<std::vector<std::string>> heads_;

  Step step_;  // the current step
};

}  // namespace qm::engine

#endif  // QM_RUNTIME_ENGINE_INTERNAL_IMPL_H_

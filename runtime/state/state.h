// Per-customer state: profile, tags, aggregates, `since` times, push
// history, pending timers and the customer's clock. The engine owns the
// semantics; a Store only keeps CustomerState objects: in memory for a run,
// or in memory backed by a RocksDB directory that a checkpoint commits to
// atomically (runtime/state/durable.h, docs/state.md).
#ifndef QM_RUNTIME_STATE_STATE_H_
#define QM_RUNTIME_STATE_STATE_H_

#include <algorithm>
#include <bit>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "compiler/diag/diag.h"
#include "compiler/ir/ir.h"

namespace qm::state {

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::min();

using qm::Stored;  // a profile value as the state keeps it (compiler/value)

// A customer's values of one kind, as many as the program declares: a view
// of part of the customer's one block of them (StateBlock).
template <class T>
class Slots {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }

 private:
  friend class StateBlock;
  T* data_ = nullptr;
  uint32_t size_ = 0;
};

// The fold every aggregate is (A19): how many values, their exact sum (int,
// money in cents), their sum as numbers in processing order, min and max.
struct Totals {
  int64_t count = 0;
  __int128 sum = 0;
  double dsum = 0;
  int64_t min_i = 0, max_i = 0;
  double min_d = 0, max_d = 0;

  void Add(int64_t i, double d) {
    if (count++ == 0) min_i = max_i = i, min_d = max_d = d;
    sum += i;
    dsum += d;
    min_i = std::min(min_i, i), max_i = std::max(max_i, i);
    min_d = std::min(min_d, d), max_d = std::max(max_d, d);
  }
  // The exact sum, saturated to int64 (A19).
  int64_t ClampedSum() const {
    constexpr __int128 kMax = std::numeric_limits<int64_t>::max(), kMin = std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(sum > kMax ? kMax : sum < kMin ? kMin : sum);
  }
};

// An optional T owned by value: copies copy the T. Parts that most states
// never need cost one pointer.
template <class T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(const Boxed& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  Boxed& operator=(const Boxed& o) {
    p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(Boxed&&) noexcept = default;
  T* get() const { return p_.get(); }
  T* operator->() const { return p_.get(); }
  T& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }
  T& Make() {
    if (!p_) p_ = std::make_unique<T>();
    return *p_;
  }

 private:
  std::unique_ptr<T> p_;
};

// A container that costs one pointer until something is put in it (and
// again after clear() or assigning an empty one): most customers never have
// a pending `after`, a capped emission, a merged id or an identity key.
// Reads see an empty container; writes go through Make().
template <class C>
class Sparse {
 public:
  Sparse& operator=(C c) {
    if (c.empty()) box_ = Boxed<C>();
    else box_.Make() = std::move(c);
    return *this;
  }
  const C& operator*() const { return box_ ? *box_ : Empty(); }
  const C* operator->() const { return &**this; }
  C& Make() { return box_.Make(); }
  bool empty() const { return !box_ || box_->empty(); }
  size_t size() const { return box_ ? box_->size() : 0; }
  auto begin() const { return (**this).begin(); }
  auto end() const { return (**this).end(); }
  decltype(auto) operator[](size_t i) const { return (**this)[i]; }
  void clear() { box_ = Boxed<C>(); }

 private:
  static const C& Empty() {
    static const C kEmpty;
    return kEmpty;
  }
  Boxed<C> box_;
};

// Per quiet rule (`no E for D`): when it is due, kNever when disarmed; and,
// in memory only, where the engine's timer queue holds it. A re-arm to a
// later time leaves the queued entry where it was (no search of the queue on
// every event); the entry moves to the due time when it comes up. Both halves
// share one allocation; iterating, size() and data() see the due times.
class QuietDue {
 public:
  size_t size() const { return times_.size() / 2; }
  int64_t& operator[](size_t q) { return times_[q]; }
  int64_t operator[](size_t q) const { return times_[q]; }
  const int64_t* data() const { return times_.data(); }
  const int64_t* begin() const { return times_.data(); }
  const int64_t* end() const { return times_.data() + size(); }
  // Where the queue holds rule q's timer: at or before its due time, kNever
  // when not queued (a state read from the store, or disarmed).
  int64_t& queued(size_t q) { return times_[size() + q]; }

 private:
  friend class StateBlock;
  Slots<int64_t> times_;
};

// A customer's tags, a bit each: up to 64 in the set itself (16 bytes),
// more in one array on the heap, whose address the same word holds.
class TagSet {
 public:
  TagSet() = default;
  explicit TagSet(size_t n) : size_(static_cast<uint32_t>(n)) {
    if (!Inline()) bits_ = std::bit_cast<uint64_t>(new uint64_t[Words()]());
  }
  TagSet(const TagSet& o) : bits_(o.bits_), size_(o.size_) {
    if (!Inline()) {
      uint64_t* words = new uint64_t[Words()];
      std::copy_n(o.Data(), Words(), words);
      bits_ = std::bit_cast<uint64_t>(words);
    }
  }
  TagSet(TagSet&& o) noexcept : bits_(std::exchange(o.bits_, 0)), size_(std::exchange(o.size_, 0)) {}
  TagSet& operator=(TagSet o) noexcept {
    std::swap(bits_, o.bits_);
    std::swap(size_, o.size_);
    return *this;
  }
  ~TagSet() {
    if (!Inline()) delete[] Heap();
  }

  size_t size() const { return size_; }
  bool operator[](size_t t) const { return (Data()[t >> 6] >> (t & 63)) & 1; }
  void Set(size_t t, bool on) {
    uint64_t* words = Inline() ? &bits_ : Heap();  // not `(… ? … : …)[i]`: GCC 12's UBSan computes that wrong
    uint64_t& w = words[t >> 6];
    uint64_t bit = uint64_t{1} << (t & 63);
    w = on ? w | bit : w & ~bit;
  }
  // Every tag of `o` (a set of the same size) set here too.
  TagSet& operator|=(const TagSet& o) {
    uint64_t* w = Inline() ? &bits_ : Heap();
    for (size_t k = 0; k < Words(); ++k) w[k] |= o.Data()[k];
    return *this;
  }

 private:
  bool Inline() const { return size_ <= 64; }
  size_t Words() const { return (size_ + 63) / 64; }
  uint64_t* Heap() const { return std::bit_cast<uint64_t*>(bits_); }
  const uint64_t* Data() const { return Inline() ? &bits_ : Heap(); }
  uint64_t bits_ = 0;  // the tags, or the address of Words() words of them
  uint32_t size_ = 0;
};
static_assert(sizeof(TagSet) == 16);

// One aggregate of one customer. Every aggregate keeps its whole-history
// count and exact sum inline: a count, the aggregate rules use most, needs
// nothing else (32 bytes). The rest is boxed (`Rest`): the whole-history
// double sum, min and max of the other aggregates (A19); a windowed aggregate's accepted
// events inside the window, exactly (timestamps and values), evicted as the
// customer's time moves on, so memory is bounded by the events a window can
// hold and results are exact (docs/runtime.md); a distinct one's values.
struct AggregateState {
  struct Entry {
    int64_t ts;
    int64_t i;  // int or cents
    double d;   // number
  };
  // count(distinct …) only (D10).
  struct Distinct {
    std::set<std::string> seen;        // whole history: every value seen
    std::vector<std::string> window;   // windowed: each entry's value, parallel to `window`
    // How many live entries hold each value: the distinct count of the whole
    // live window, which is what a read right after an event asks for.
    std::unordered_map<std::string, int32_t> counts;
  };
  // E16, windowed aggregates of a merged person only: which history each
  // entry came from and when it was processed there, so that a double sum
  // adds each absorbed history's own sum as one value. History 0 is the
  // person's own; an absorbed one hangs under the history it merged into,
  // after that history's entries processed before the merge.
  struct Merged {
    struct History {
      uint32_t parent = 0;
      uint64_t position = 0;  // the parent's processing count at the merge
    };
    std::vector<History> histories{History{}};
    uint64_t next = 0;                // the own history's processing count
    std::vector<uint32_t> history;    // parallel to `window`
    std::vector<uint64_t> order;      // parallel to `window`: processing count in its history
    // The double sum of the entries [begin, end) of `window`, E16's way.
    double Sum(const std::vector<Entry>& window, size_t begin, size_t end) const;
  };
  // Absent, it reads as all zeros and empty: what the codec reads back
  // for an aggregate that never needed it.
  struct Rest {
    double dsum = 0;
    int64_t min_i = 0, max_i = 0;
    double min_d = 0, max_d = 0;
    std::vector<Entry> window;  // sorted by ts; [head, size) is live
    uint32_t head = 0;
    Boxed<Distinct> distinct;
    Boxed<Merged> merged;
  };
  // 8-byte aligned, so the state is three words and a pointer.
  typedef __int128 Sum __attribute__((aligned(8)));

  int64_t count = 0;
  Sum sum = 0;
  Boxed<Rest> rest;

  const std::vector<Entry>& window() const {
    static const std::vector<Entry> kNone;
    return rest ? rest->window : kNone;
  }
  uint32_t head() const { return rest ? rest->head : 0; }
  const Distinct* distinct() const { return rest ? rest->distinct.get() : nullptr; }
  const Merged* merged() const { return rest ? rest->merged.get() : nullptr; }

  bool empty() const {
    return count == 0 && head() >= window().size() && (distinct() == nullptr || distinct()->seen.empty());
  }

  // The whole-history totals (A19). Without `rest_too` only the count and
  // the exact sum, all that a count, or a sum or average of ints or money,
  // is read from: the rest lies elsewhere on the heap, a cache miss.
  Totals Whole(bool rest_too = true) const {
    Totals t;
    t.count = count;
    t.sum = sum;
    if (const Rest* r = rest_too ? rest.get() : nullptr)
      t.dsum = r->dsum, t.min_i = r->min_i, t.max_i = r->max_i, t.min_d = r->min_d, t.max_d = r->max_d;
    return t;
  }
  void SetWhole(const Totals& t) {
    count = t.count;
    sum = t.sum;
    auto zero = [](double d) { return std::bit_cast<uint64_t>(d) == 0; };  // -0 is kept
    if (!rest && zero(t.dsum) && t.min_i == 0 && t.max_i == 0 && zero(t.min_d) && zero(t.max_d)) return;
    Rest& r = rest.Make();
    r.dsum = t.dsum, r.min_i = t.min_i, r.max_i = t.max_i, r.min_d = t.min_d, r.max_d = t.max_d;
  }

  // Adds an accepted event's value to the whole-history totals; `full` for
  // an aggregate that needs more than its count and exact sum.
  void Add(int64_t i, double d, bool full) {
    if (full) {
      Rest& r = rest.Make();
      if (count == 0) r.min_i = r.max_i = i, r.min_d = r.max_d = d;
      r.min_i = std::min(r.min_i, i), r.max_i = std::max(r.max_i, i);
      r.min_d = std::min(r.min_d, d), r.max_d = std::max(r.max_d, d);
      r.dsum += d;
    }
    ++count;
    sum += i;
  }
  void AddSeen(std::string value) { rest.Make().distinct.Make().seen.insert(std::move(value)); }

  // Adds an accepted event (in ts order; after the entries of equal ts), with its
  // value (DistinctKey) for a distinct aggregate, and drops the entries
  // before `from`, which no later read can see.
  void Push(Entry e, int64_t from, std::optional<std::string> value = std::nullopt) {
    Rest& r = rest.Make();
    std::vector<Entry>& window = r.window;
    uint32_t& head = r.head;
    Distinct* d = r.distinct.get();
    for (; head < window.size() && window[head].ts < from; ++head) {
      if (d == nullptr) continue;
      auto it = d->counts.find(d->window[head]);
      if (--it->second == 0) d->counts.erase(it);
    }
    if (head > 32 && head * 2 > window.size()) {
      window.erase(window.begin(), window.begin() + head);
      if (d != nullptr) d->window.erase(d->window.begin(), d->window.begin() + head);
      if (Merged* m = r.merged.get()) {
        m->history.erase(m->history.begin(), m->history.begin() + head);
        m->order.erase(m->order.begin(), m->order.begin() + head);
      }
      head = 0;
    }
    // E4: after a merge the window may hold events later than this one.
    size_t at = window.size();
    if (at > head && window.back().ts > e.ts)
      at = std::upper_bound(window.begin() + head, window.end(), e.ts,
                            [](int64_t t, const Entry& x) { return t < x.ts; }) - window.begin();
    window.insert(window.begin() + static_cast<std::ptrdiff_t>(at), e);
    if (Merged* m = r.merged.get()) {
      m->history.insert(m->history.begin() + static_cast<std::ptrdiff_t>(at), 0);
      m->order.insert(m->order.begin() + static_cast<std::ptrdiff_t>(at), m->next++);
    }
    if (value) {
      d = &r.distinct.Make();
      ++d->counts[*value];
      d->window.insert(d->window.begin() + static_cast<std::ptrdiff_t>(at), std::move(*value));
    }
  }

  // The number of distinct values among the live entries with from <= ts <= to.
  int64_t DistinctIn(int64_t from, int64_t to) const {
    const Distinct* d = distinct();
    if (d == nullptr) return 0;
    const std::vector<Entry>& window = rest->window;
    auto begin = std::lower_bound(window.begin() + rest->head, window.end(), from,
                                  [](const Entry& e, int64_t t) { return e.ts < t; });
    if (begin == window.begin() + rest->head && (begin == window.end() || window.back().ts <= to))
      return static_cast<int64_t>(d->counts.size());  // every live entry is inside
    // A later read (a timer step): sorted views of the entries inside.
    thread_local std::vector<std::string_view> seen;
    seen.clear();
    for (auto it = begin; it != window.end() && it->ts <= to; ++it) seen.push_back(d->window[it - window.begin()]);
    std::sort(seen.begin(), seen.end());
    return std::unique(seen.begin(), seen.end()) - seen.begin();
  }
  int64_t DistinctSeen() const { return distinct() ? static_cast<int64_t>(distinct()->seen.size()) : 0; }

  // The totals of the live entries with from <= ts <= to (A18). Inline: it
  // runs for every windowed aggregate a condition reads.
  Totals Window(int64_t from, int64_t to) const {
    Totals totals;
    if (!rest) return totals;
    const std::vector<Entry>& window = rest->window;
    auto begin = std::lower_bound(window.begin() + rest->head, window.end(), from,
                                  [](const Entry& e, int64_t t) { return e.ts < t; });
    auto it = begin;
    for (; it != window.end() && it->ts <= to; ++it) totals.Add(it->i, it->d);
    if (const Merged* m = rest->merged.get()) [[unlikely]]
      totals.dsum = m->Sum(window, static_cast<size_t>(begin - window.begin()), static_cast<size_t>(it - window.begin()));
    return totals;
  }
};
static_assert(sizeof(AggregateState) == 32);

// A value's identity for count(distinct …): equal keys for values equal as
// A16 says (D10, E22: text exactly, a number 0 and -0 alike, every NaN alike).
std::string DistinctKey(const Value& v);

// A pending `after` action (A27), or one deferred by quiet hours (D5).
struct PendingAfter {
  uint64_t seq;          // scheduling order
  int64_t due;
  int32_t rule;
  int32_t action;        // index in the rule's actions
  int32_t unless;        // check::kNoUnless, check::kAnyEvent, or an event type
  Stored value;          // set/add value, evaluated when scheduled
  // push/invite/notify target and notify message, resolved when scheduled
  // (D6); absent in records from before v0.2, whose texts were all fixed.
  std::optional<std::string> target, message;
  bool deferred = false;  // by quiet hours (D5), not by `after`
};

// An input line held by `--lateness` until the watermark passes it (D9).
// It passed checks 1-9 of A38 on arrival and is decoded again on release.
struct HeldLine {
  int64_t ts;
  int64_t line_number;
  std::string text;  // as decoded: after A40's trimming
};

// An emitted push or invite, kept while a cap's window can see it (D4).
struct Emission {
  int64_t ts;
  std::string key;  // check::TargetKey: kind and target
};

// Pending `after`s ordered by (unless, seq): an event cancels its own range in
// O(log n + k), and a firing timer finds its action in O(log n), so a
// customer with 100,000 pending actions costs no more per step than one with
// ten (docs/runtime.md, hostile input).
struct AfterOrder {
  using is_transparent = void;
  using Key = std::pair<int32_t, uint64_t>;  // (unless, seq)
  static Key KeyOf(const PendingAfter& a) { return {a.unless, a.seq}; }
  static Key KeyOf(const Key& k) { return k; }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const { return KeyOf(a) < KeyOf(b); }
};
using PendingAfters = std::set<PendingAfter, AfterOrder>;

// A segment's schedule and what its last refresh found (D13); the engine's,
// committed with the checkpoint.
struct SegmentStatus {
  std::string name;
  int64_t next = kNever;  // the next refresh instant; kNever before the first accepted event
  int64_t last = kNever;  // the last refresh instant
  int64_t ranked = 0;     // customers with X set at the last refresh
  int64_t members = 0;
  std::string threshold;  // the k-th value as output spells it; empty when there are no members
};

// The values of a customer whose count the program fixes, in one allocation:
// the profile, the aggregates, the `since` times and the `no` timers. One
// block instead of four is a malloc header and a cache miss less each, and
// what a step reads first lies together (CustomerState::PrefetchParts).
//
// A block is on the heap, or in storage its holder owns (ShapeIn: a memory
// store keeps it right after the state, one page walk for both). Copies and
// moves between blocks of one shape copy or move the values in place, so a
// block keeps its storage; a block never hands storage it does not own to
// another block.
class StateBlock {
 public:
  Slots<Stored> profile;
  Slots<AggregateState> aggregates;
  Slots<int64_t> last_event;  // per event type: ts of the latest accepted one (since, A20)
  QuietDue quiet_due;         // per quiet rule: due time, kNever when disarmed

  // Replaces the block with one of `fields` unset profile values,
  // `aggregate_count` empty aggregates, `events` since times and `quiet_rules` timers, all kNever.
  void Shape(size_t fields, size_t aggregate_count, size_t events, size_t quiet_rules);
  // Replaces the block with one shaped like `like`'s, unset as Shape leaves
  // it, in `storage`: bytes() of `like`, aligned for any type, kept by the
  // caller until this block is destroyed.
  void ShapeIn(const StateBlock& like, std::byte* storage);
  // The size of the block's values.
  size_t bytes() const;

  StateBlock() = default;
  StateBlock(const StateBlock& o);
  StateBlock(StateBlock&& o) noexcept;
  StateBlock& operator=(const StateBlock& o);
  StateBlock& operator=(StateBlock&& o) noexcept;
  ~StateBlock();

 private:
  bool SameShape(const StateBlock& o) const;
  void Swap(StateBlock& o) noexcept;
  void Allocate(size_t fields, size_t aggregate_count, size_t events, size_t quiet_rules);
  void Carve(std::byte* at, size_t fields, size_t aggregate_count, size_t events, size_t quiet_rules);
  void ConstructUnset();
  std::byte* block_ = nullptr;
  bool owned_ = true;  // false: block_ is storage the holder owns
};

struct CustomerState : StateBlock {
  TagSet tags;
  int64_t last_any = kNever;
  std::vector<std::pair<std::string, int64_t>> pushes;  // (check::TargetKey, last emission), A26
  Sparse<std::vector<Emission>> emissions;  // in time order, for caps (D4)
  Sparse<PendingAfters> afters;
  int64_t clock = kNever;            // A34
  // D11, D12: the order in which persons had their first accepted event
  // (the older survives a merge; 0 for states kept before v0.2's identity),
  // the ids merged into this person, and the (key, value) pairs that name it.
  uint64_t first_seq = 0;
  Sparse<std::vector<std::string>> aliases;
  Sparse<std::vector<std::pair<std::string, std::string>>> keys;
  bool seen = false;                 // has had an accepted event
  bool dirty = false;                // changed since the last commit (DurableStore)
  uint64_t undo_mark = 0;            // the engine's Mark() it was last saved under (Engine::Mark)
  const std::string* id = nullptr;   // the customer id, owned by the Store

  // Brings toward the cache what a step reads besides the state itself
  // (Store::Prefetch's last stage).
  void PrefetchParts() const;
};

// Keeps customer states. Implementations own the storage; references stay
// valid until the store is destroyed.
class Store {
 public:
  virtual ~Store() = default;
  // The state of `customer`, or null when it has none yet.
  virtual CustomerState* Find(const std::string& customer) = 0;
  // Creates the state of a new customer, initialized from `program`, with
  // `id` pointing at the store's stable copy of the customer id.
  virtual CustomerState& Create(const std::string& customer) = 0;
  // Removes `customer`'s state; false when there is none. Its reference
  // (and its id's) is invalid afterwards.
  virtual bool Erase(const std::string& customer) = 0;
  // Removes the state of a customer merged into another person (D12): the
  // same as Erase, but what it held lives on in the survivor, so a durable
  // store deletes its record at the next commit without scrubbing its files.
  virtual bool Absorb(const std::string& customer) { return Erase(customer); }
  virtual size_t size() const = 0;
  // Every state, in creation order.
  virtual void ForEach(const std::function<void(CustomerState&)>& visit) = 0;
  // A hint for a customer an upcoming line names, given in three stages,
  // one line apart, so each stage reads only what the one before brought
  // toward the cache: 0 the table slot, 1 the state, 2 its parts. A step
  // then finds them there instead of waiting on each in turn (with 100,000
  // customers every step's first touch is a miss). Changes nothing.
  virtual void Prefetch(std::string_view customer, int stage) const {
    (void)customer;
    (void)stage;
  }
  // The engine is about to change `state` (called once per step).
  virtual void Touch(CustomerState& state) { (void)state; }

  // Stores that keep states elsewhere too (a state directory) can drop a
  // customer from memory and read them back when they are needed again.
  // Evict drops `customer`, whose state is as last committed (it forgets any
  // change since); false when it cannot. Wake reads an evicted customer
  // back; null when `customer` is not evicted or cannot be read (error()).
  virtual bool Evict(const std::string& customer) { (void)customer; return false; }
  virtual CustomerState* Wake(const std::string& customer) { (void)customer; return nullptr; }
  virtual std::vector<std::string> Evicted() const { return {}; }
  virtual size_t evicted() const { return 0; }
};

// A fresh state: defaults applied, nothing seen (A21: defaults are not changes).
CustomerState NewCustomer(const ir::Program& program);

std::unique_ptr<Store> MakeMemoryStore(const ir::Program& program);

}  // namespace qm::state

#endif  // QM_RUNTIME_STATE_STATE_H_

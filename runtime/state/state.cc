#include "runtime/state/state.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include <sys/mman.h>

#include "compiler/source/source.h"

namespace qm::state {
namespace {

// Brings [p, p + n) toward the cache, a line at a time. The empty asm is
// the loop's side effect: without it GCC deletes a loop of prefetches (C++
// lets it assume a loop with no side effects finishes, and drops it).
void PrefetchBytes(const void* p, size_t n) {
  const char* at = static_cast<const char*>(p);
  for (size_t k = 0; k < n; k += 64) {
    __builtin_prefetch(at + k);
    asm volatile("");
  }
  if (n > 0) __builtin_prefetch(at + n - 1);
}

// Memory for records read at random, in 2 MiB pieces, on huge pages where
// the kernel offers them (madvise; Debian's default) when `huge` says so.
// With 4 KiB pages, a hundred thousand customers span tens of thousands of
// pages, and most steps first walked the page table to find their record.
// A huge page is resident whole once touched, so small stores use small
// pages.
constexpr size_t kHugePage = size_t{2} << 20;
struct FreeBytes {
  void operator()(std::byte* p) const { std::free(p); }
};
using HugeBytes = std::unique_ptr<std::byte[], FreeBytes>;
HugeBytes AllocateHuge(size_t bytes, bool huge) {
  bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  auto* p = static_cast<std::byte*>(std::aligned_alloc(kHugePage, bytes));
  if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  if (huge) madvise(p, bytes, MADV_HUGEPAGE);  // a hint: without it the pages are small
#endif
  return HugeBytes(p);
}

// For a vector read at random, such as a table of slots: its large arrays on
// huge pages (AllocateHuge), its small ones as usual.
template <class T>
struct HugeAllocator {
  using value_type = T;
  HugeAllocator() = default;
  template <class U>
  HugeAllocator(const HugeAllocator<U>&) {}
  static bool Huge(size_t n) { return n * sizeof(T) >= kHugePage; }
  T* allocate(size_t n) {
    if (!Huge(n)) return std::allocator<T>().allocate(n);
    return reinterpret_cast<T*>(AllocateHuge(n * sizeof(T), true).release());
  }
  void deallocate(T* p, size_t n) {
    if (Huge(n)) FreeBytes()(reinterpret_cast<std::byte*>(p));
    else std::allocator<T>().deallocate(p, n);
  }
  friend bool operator==(const HugeAllocator&, const HugeAllocator&) { return true; }
};

// Dense storage with stable references, like std::deque, in blocks of 2 MiB
// (AllocateHuge; huge pages from the second block on): the table of blocks
// stays small enough to stay cached. Each record is a T constructed in its
// place when it is added, then `extra` bytes for it (aligned for any type),
// its to use.
template <class T>
class Records {
 public:
  explicit Records(size_t extra)
      : stride_(Round(Round(sizeof(T)) + extra)),
        per_block_(std::max<size_t>(2, kHugePage / stride_)),
        inverse_(UINT64_MAX / per_block_ + 1) {}
  Records(const Records&) = delete;
  Records& operator=(const Records&) = delete;
  ~Records() {
    for (size_t i = 0; i < size_; ++i) std::destroy_at(&(*this)[i]);
  }
  T& operator[](size_t i) const { return *std::launder(reinterpret_cast<T*>(At(i))); }
  std::byte* extra(size_t i) const { return At(i) + Round(sizeof(T)); }
  size_t size() const { return size_; }
  template <class... Args>
  T& emplace_back(Args&&... args) {
    // The first block on small pages: a store of a few customers stays a
    // few pages (an embedder may hold many).
    if (size_ % per_block_ == 0) blocks_.push_back(AllocateHuge(per_block_ * stride_, !blocks_.empty()));
    T* at = std::construct_at(reinterpret_cast<T*>(At(size_)), std::forward<Args>(args)..., extra(size_));
    ++size_;
    return *at;
  }

 private:
  static constexpr size_t Round(size_t n) {
    constexpr size_t kAlign = alignof(std::max_align_t);
    return (n + kAlign - 1) / kAlign * kAlign;
  }
  std::byte* At(size_t i) const {
    // i / per_block_ as a multiply (Lemire et al., "Faster remainder by
    // direct computation", 2019): exact for every 32-bit i, and the slots
    // hold 32-bit indexes.
    const size_t block = static_cast<size_t>((static_cast<unsigned __int128>(inverse_) * i) >> 64);
    return blocks_[block].get() + (i - block * per_block_) * stride_;
  }
  size_t stride_;
  size_t per_block_;  // at least 2, so that inverse_ fits in 64 bits
  uint64_t inverse_;  // 2^64 / per_block_, rounded up
  std::vector<HugeBytes> blocks_;
  size_t size_ = 0;
};

// Customers in an open-addressing table of (hash, index) slots over dense
// vectors: a lookup touches the slot array and the id's bytes, not a chain of
// heap nodes (the node-based std::unordered_map cost a quarter of `qm run`).
class MemoryStore final : public Store {
 public:
  explicit MemoryStore(const ir::Program& program)
      : template_(NewCustomer(program)), slots_(1024), customers_(template_.bytes()) {}

  CustomerState* Find(const std::string& customer) override {
    size_t i = SlotOf(customer);
    return i == kNoSlot ? nullptr : &customers_[slots_[i].index].state;
  }

  CustomerState& Create(const std::string& customer) override {
    if ((used_slots_ + 1) * 4 > slots_.size() * 3) Grow();
    uint32_t index;
    if (free_.empty()) {
      index = static_cast<uint32_t>(customers_.size());
      customers_.emplace_back(template_, customer);
    } else {  // an erased customer's place
      index = free_.back();
      free_.pop_back();
      Customer& c = customers_[index];
      std::destroy_at(&c);
      std::construct_at(&c, template_, customer, customers_.extra(index));
    }
    Insert(Slot{Hash(customer), index});
    return customers_[index].state;
  }

  bool Erase(const std::string& customer) override {
    size_t i = SlotOf(customer);
    if (i == kNoSlot) return false;
    uint32_t index = slots_[i].index;
    slots_[i] = Slot{};
    slots_[i].index = kErased;  // lookups probe on past it
    Customer& c = customers_[index];
    c.state = CustomerState{};  // id null: ForEach skips it
    c.id = std::string();
    c.id.shrink_to_fit();
    free_.push_back(index);
    return true;
  }

  size_t size() const override { return customers_.size() - free_.size(); }

  void ForEach(const std::function<void(CustomerState&)>& visit) override {
    for (size_t i = 0; i < customers_.size(); ++i)
      if (customers_[i].state.id != nullptr) visit(customers_[i].state);
  }

  void Prefetch(std::string_view customer, int stage) const override {
    if (stage == 0) {
      PrefetchBytes(&slots_[Hash(customer) & (slots_.size() - 1)], sizeof(Slot));
      return;
    }
    // Stage 1 guesses the slot (the record that would check the id is what
    // it fetches); stage 2 finds it.
    const size_t i = SlotOf(customer, /*guess=*/stage == 1);
    if (i == kNoSlot) return;
    const Customer& c = customers_[slots_[i].index];
    if (stage == 1) PrefetchBytes(&c, sizeof c);
    else c.state.PrefetchParts();
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  static constexpr uint32_t kErased = UINT32_MAX - 1;
  static constexpr size_t kNoSlot = SIZE_MAX;
  // A customer's state, id and block side by side: a step reads them all
  // (every output line writes the id), so they share a page and the first
  // two mostly a cache line. The state points at the id, which never moves.
  struct Customer {
    Customer(const CustomerState& s, const std::string& customer_id, std::byte* block) : id(customer_id) {
      state.ShapeIn(s, block);
      state = s;  // the same shape: the values are copied into `block`
      state.id = &id;
    }
    CustomerState state;
    std::string id;
  };
  // Eight bytes a slot, the id left in the customer's record, which a step
  // reads anyway: 100,000 customers' table is 2 MiB, few enough pages for the
  // TLB to keep and few enough lines for the last-level cache.
  struct Slot {
    uint32_t hash = 0;  // the low half of the id's hash: the table never has 2^32 slots
    uint32_t index = kEmpty;
  };
  static_assert(sizeof(Slot) == 8);
  static uint32_t Hash(std::string_view s) { return static_cast<uint32_t>(TableHash(s)); }
  // The slot of `customer`, or kNoSlot. A guess takes the first slot of the
  // id's hash without reading the id: nearly always the id's, and good
  // enough for a hint.
  size_t SlotOf(std::string_view customer, bool guess = false) const {
    uint32_t h = Hash(customer);
    for (size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      const Slot& slot = slots_[i];
      if (slot.index == kEmpty) return kNoSlot;
      if (slot.hash == h && slot.index != kErased && (guess || SameBytes(customers_[slot.index].id, customer)))
        return i;
    }
  }
  void Insert(const Slot& slot) {
    size_t i = slot.hash & (slots_.size() - 1);
    while (slots_[i].index != kEmpty && slots_[i].index != kErased) i = (i + 1) & (slots_.size() - 1);
    if (slots_[i].index == kEmpty) ++used_slots_;
    slots_[i] = slot;
  }
  // Doubles the table when live customers fill half of it; otherwise only
  // rebuilds it without the erased slots.
  void Grow() {
    std::vector<Slot, HugeAllocator<Slot>> old = std::move(slots_);
    slots_.assign(size() * 2 >= old.size() ? old.size() * 2 : old.size(), Slot{});
    used_slots_ = 0;
    for (const Slot& s : old)
      if (s.index != kEmpty && s.index != kErased) Insert(s);
  }

  CustomerState template_;
  // On huge pages once large; its size is a power of two, at most 3/4 used
  // (erased slots count).
  std::vector<Slot, HugeAllocator<Slot>> slots_;
  size_t used_slots_ = 0;
  std::vector<uint32_t> free_;  // erased customers' indexes, reused first
  Records<Customer> customers_;  // each with its block (template_.bytes())
};

}  // namespace

void CustomerState::PrefetchParts() const {
  // The block, from the profile to the timers' queued times.
  PrefetchBytes(profile.data(), reinterpret_cast<const std::byte*>(quiet_due.data() + 2 * quiet_due.size()) -
                                    reinterpret_cast<const std::byte*>(profile.data()));
  PrefetchBytes(pushes.data(), pushes.size() * sizeof(pushes[0]));
  // The id (its bytes, when short), which every output line of the step
  // writes: next to the state in a MemoryStore, but not in every copy.
  if (id != nullptr) PrefetchBytes(id, sizeof *id);
}

namespace {
size_t BlockBytes(size_t fields, size_t aggregate_count, size_t events, size_t quiet_rules) {
  static_assert(alignof(Stored) <= alignof(std::max_align_t) && alignof(AggregateState) <= alignof(std::max_align_t));
  static_assert(sizeof(Stored) % alignof(AggregateState) == 0 && sizeof(AggregateState) % alignof(int64_t) == 0);
  return fields * sizeof(Stored) + aggregate_count * sizeof(AggregateState) + (events + 2 * quiet_rules) * sizeof(int64_t);
}
}  // namespace

size_t StateBlock::bytes() const {
  return BlockBytes(profile.size(), aggregates.size(), last_event.size(), quiet_due.size());
}

bool StateBlock::SameShape(const StateBlock& o) const {
  return profile.size() == o.profile.size() && aggregates.size() == o.aggregates.size() &&
         last_event.size() == o.last_event.size() && quiet_due.size() == o.quiet_due.size();
}

void StateBlock::Carve(std::byte* at, size_t fields, size_t aggregate_count, size_t events, size_t quiet_rules) {
  block_ = at;
  auto carve = [&at]<class T>(Slots<T>& slots, size_t n) {
    slots.data_ = reinterpret_cast<T*>(at);
    slots.size_ = static_cast<uint32_t>(n);
    at += n * sizeof(T);
  };
  carve(profile, fields);
  carve(aggregates, aggregate_count);
  carve(last_event, events);
  carve(quiet_due.times_, 2 * quiet_rules);
}

void StateBlock::Allocate(size_t fields, size_t aggregate_count, size_t events, size_t quiet_rules) {
  const size_t bytes = BlockBytes(fields, aggregate_count, events, quiet_rules);
  Carve(bytes == 0 ? nullptr : static_cast<std::byte*>(::operator new(bytes)), fields, aggregate_count, events,
        quiet_rules);
  owned_ = true;
}

// Constructs every value of a carved block, unset.
void StateBlock::ConstructUnset() {
  std::uninitialized_value_construct_n(profile.data(), profile.size());
  std::uninitialized_value_construct_n(aggregates.data(), aggregates.size());
  std::uninitialized_fill_n(last_event.data(), last_event.size(), kNever);
  std::uninitialized_fill_n(quiet_due.times_.data(), quiet_due.times_.size(), kNever);
}

void StateBlock::Shape(size_t fields, size_t aggregate_count, size_t events, size_t quiet_rules) {
  if (profile.size() == fields && aggregates.size() == aggregate_count && last_event.size() == events &&
      quiet_due.size() == quiet_rules) {  // in place: the block keeps its storage
    std::fill_n(profile.data(), fields, Stored{});
    std::fill_n(aggregates.data(), aggregate_count, AggregateState{});
    std::fill_n(last_event.data(), events, kNever);
    std::fill_n(quiet_due.times_.data(), 2 * quiet_rules, kNever);
    return;
  }
  StateBlock shaped;
  shaped.Allocate(fields, aggregate_count, events, quiet_rules);
  shaped.ConstructUnset();
  Swap(shaped);
}

void StateBlock::ShapeIn(const StateBlock& like, std::byte* storage) {
  StateBlock shaped;
  shaped.Carve(storage, like.profile.size(), like.aggregates.size(), like.last_event.size(), like.quiet_due.size());
  shaped.owned_ = false;
  shaped.ConstructUnset();
  Swap(shaped);
}

StateBlock::StateBlock(const StateBlock& o) {
  Allocate(o.profile.size(), o.aggregates.size(), o.last_event.size(), o.quiet_due.size());
  std::uninitialized_copy_n(o.profile.data(), o.profile.size(), profile.data());
  std::uninitialized_copy_n(o.aggregates.data(), o.aggregates.size(), aggregates.data());
  std::uninitialized_copy_n(o.last_event.data(), o.last_event.size(), last_event.data());
  std::uninitialized_copy_n(o.quiet_due.times_.data(), o.quiet_due.times_.size(), quiet_due.times_.data());
}

StateBlock::StateBlock(StateBlock&& o) noexcept {
  if (o.owned_) {
    Swap(o);
    return;
  }
  // Its storage is its holder's: the values move to a block of our own.
  Allocate(o.profile.size(), o.aggregates.size(), o.last_event.size(), o.quiet_due.size());
  std::uninitialized_move_n(o.profile.data(), o.profile.size(), profile.data());
  std::uninitialized_move_n(o.aggregates.data(), o.aggregates.size(), aggregates.data());
  std::uninitialized_copy_n(o.last_event.data(), o.last_event.size(), last_event.data());
  std::uninitialized_copy_n(o.quiet_due.times_.data(), o.quiet_due.times_.size(), quiet_due.times_.data());
}

StateBlock& StateBlock::operator=(const StateBlock& o) {
  if (this == &o) return *this;
  if (!SameShape(o)) {
    StateBlock copy(o);
    Swap(copy);  // our old block dies with `copy`
    return *this;
  }
  std::copy_n(o.profile.data(), o.profile.size(), profile.data());
  std::copy_n(o.aggregates.data(), o.aggregates.size(), aggregates.data());
  std::copy_n(o.last_event.data(), o.last_event.size(), last_event.data());
  std::copy_n(o.quiet_due.times_.data(), o.quiet_due.times_.size(), quiet_due.times_.data());
  return *this;
}

StateBlock& StateBlock::operator=(StateBlock&& o) noexcept {
  if (this == &o) return *this;
  if (!SameShape(o)) {
    StateBlock taken(std::move(o));
    Swap(taken);  // our old block dies with `taken`
    return *this;
  }
  std::move(o.profile.begin(), o.profile.end(), profile.begin());
  std::move(o.aggregates.begin(), o.aggregates.end(), aggregates.begin());
  std::copy_n(o.last_event.data(), o.last_event.size(), last_event.data());
  std::copy_n(o.quiet_due.times_.data(), o.quiet_due.times_.size(), quiet_due.times_.data());
  return *this;
}

StateBlock::~StateBlock() {
  std::destroy_n(profile.data(), profile.size());
  std::destroy_n(aggregates.data(), aggregates.size());
  if (owned_) ::operator delete(block_);
}

void StateBlock::Swap(StateBlock& o) noexcept {
  std::swap(profile, o.profile);
  std::swap(aggregates, o.aggregates);
  std::swap(last_event, o.last_event);
  std::swap(quiet_due.times_, o.quiet_due.times_);
  std::swap(block_, o.block_);
  std::swap(owned_, o.owned_);
}

CustomerState NewCustomer(const ir::Program& program) {
  const check::Program& p = program.checked;
  CustomerState s;
  s.Shape(p.profile.size(), p.aggregates.size(), p.events.size(), program.quiet_rules.size());
  for (size_t f = 0; f < p.profile.size(); ++f) {
    if (p.profile[f].default_value) s.profile[f] = Stored::Of(ir::ConstantValue(*p.profile[f].default_value));
  }
  s.tags = TagSet(p.tags.size());
  return s;
}

std::unique_ptr<Store> MakeMemoryStore(const ir::Program& program) {
  return std::make_unique<MemoryStore>(program);
}

double AggregateState::Merged::Sum(const std::vector<Entry>& window, size_t begin, size_t end) const {
  // Each history folds its own entries in processing order, with each
  // history merged into it added as one value where it merged. A history's
  // parent has a smaller index, so one pass from the last history up is
  // bottom-up.
  const size_t n = histories.size();
  std::vector<std::vector<std::pair<uint64_t, double>>> own(n);
  for (size_t k = begin; k < end; ++k) own[history[k]].emplace_back(order[k], window[k].d);
  std::vector<std::vector<uint32_t>> children(n);
  for (uint32_t h = 1; h < n; ++h) children[histories[h].parent].push_back(h);
  std::vector<double> sum(n, 0.0);
  std::vector<uint8_t> any(n, 0);
  for (size_t h = n; h-- > 0;) {
    std::vector<std::pair<uint64_t, double>>& mine = own[h];
    std::sort(mine.begin(), mine.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    const std::vector<uint32_t>& kids = children[h];  // by index: in merge order
    size_t i = 0, j = 0;
    while (i < mine.size() || j < kids.size()) {
      if (j < kids.size() && (i == mine.size() || histories[kids[j]].position <= mine[i].first)) {
        uint32_t kid = kids[j++];
        if (any[kid]) sum[h] += sum[kid], any[h] = 1;
      } else {
        sum[h] += mine[i++].second;
        any[h] = 1;
      }
    }
  }
  return sum[0];
}

std::string DistinctKey(const Value& v) {
  if (v.kind == ValueKind::kText) return std::string(v.text);
  uint64_t bits;
  if (v.kind == ValueKind::kNumber) {
    double d = v.d == 0 ? 0.0 : v.d;  // -0 is 0
    if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
    std::memcpy(&bits, &d, sizeof bits);
  } else {
    bits = static_cast<uint64_t>(v.i);
  }
  return std::string(reinterpret_cast<const char*>(&bits), sizeof bits);
}

}  // namespace qm::state

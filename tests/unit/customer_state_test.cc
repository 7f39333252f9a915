// The compact parts of a customer's state (runtime/state/state.h): what they
// hold reads back the same through copies, moves, merges and the codec.
#include <cstddef>
#include <cstring>
#include <string>

#include "compiler/program/program.h"
#include "gtest/gtest.h"
#include "runtime/state/durable.h"
#include "runtime/state/internal/codec.h"

namespace {

using qm::state::AggregateState;
using qm::state::CustomerState;
using qm::state::TagSet;

std::string Bits(const TagSet& tags) {
  std::string out;
  for (size_t t = 0; t < tags.size(); ++t) out += tags[t] ? '1' : '0';
  return out;
}

// Past 64 tags the bits live on the heap: set, copied, moved and or-ed alike.
TEST(CustomerState, TagSetsOfAnySize) {
  for (size_t n : {1, 63, 64, 65, 200}) {
    TagSet tags(n);
    std::string want(n, '0');
    for (size_t t : {size_t{0}, n / 2, n - 1}) tags.Set(t, true), want[t] = '1';
    EXPECT_EQ(Bits(tags), want) << n;
    if (n > 2) {
      tags.Set(n / 2, false), want[n / 2] = '0';
      EXPECT_EQ(Bits(tags), want) << n;
    }
    TagSet copy = tags;
    copy.Set(n - 1, false);
    EXPECT_EQ(Bits(tags), want) << n << ": a copy has its own bits";
    TagSet other(n);
    other.Set(n - 1, true);
    copy |= other;
    EXPECT_EQ(Bits(copy), want) << n;
    TagSet moved = std::move(copy);
    EXPECT_EQ(Bits(moved), want) << n;
    copy = moved;
    EXPECT_EQ(Bits(copy), want) << n;
  }
}

// A count keeps nothing but its count and sum; a min grows the boxed rest,
// and whole-history totals read back through Whole() and SetWhole().
TEST(CustomerState, AggregatesKeepWhatTheyRead) {
  AggregateState count, min;
  count.Add(7, 0, false);
  count.Add(5, 0, false);
  EXPECT_EQ(count.rest.get(), nullptr);
  EXPECT_EQ(count.Whole().count, 2);
  min.Add(7, 0, true);
  min.Add(5, 0, true);
  ASSERT_NE(min.rest.get(), nullptr);
  EXPECT_EQ(min.Whole().min_i, 5);
  EXPECT_EQ(min.Whole().max_i, 7);
  EXPECT_EQ(static_cast<int64_t>(min.Whole().sum), 12);
  AggregateState copy;
  copy.SetWhole(min.Whole());
  EXPECT_EQ(copy.Whole().min_i, 5);
  AggregateState zero;
  zero.SetWhole(count.Whole());
  EXPECT_EQ(zero.rest.get(), nullptr) << "all-zero extras need no box";
}

// A block in storage its holder owns (how a memory store keeps it, next to
// the state) keeps that storage through copies and moves of its own shape,
// and never lends it: a block moved or assigned from it has its own, so
// clobbering the storage afterwards changes nothing they read (ASan also
// sees a heap block freed twice or a holder's storage freed).
TEST(CustomerState, BlocksInTheirHoldersStorageAreNeverLent) {
  CustomerState shaped;
  shaped.Shape(3, 2, 4, 1);
  shaped.profile[1] = qm::Stored::Of(qm::Value::Text("一段超过十五个字节的文字，放在堆上"));
  shaped.aggregates[0].Add(7, 7, true);
  shaped.last_event[2] = 42;
  shaped.quiet_due[0] = 9;
  const size_t bytes = shaped.bytes();
  ASSERT_EQ(bytes, 3 * sizeof(qm::Stored) + 2 * sizeof(AggregateState) + (4 + 2) * sizeof(int64_t));
  auto expect_values = [](const CustomerState& s, const char* what) {
    ASSERT_EQ(s.profile.size(), 3u) << what;
    EXPECT_EQ(s.profile[1].text, "一段超过十五个字节的文字，放在堆上") << what;
    EXPECT_EQ(s.aggregates[0].Whole().max_i, 7) << what;
    EXPECT_EQ(s.last_event[2], 42) << what;
    EXPECT_EQ(s.quiet_due[0], 9) << what;
  };

  alignas(std::max_align_t) std::byte storage[3][512];
  ASSERT_LE(bytes, sizeof storage[0]);
  CustomerState held;
  held.ShapeIn(shaped, storage[0]);
  EXPECT_EQ(static_cast<void*>(held.profile.data()), static_cast<void*>(storage[0]));
  EXPECT_EQ(held.profile[1].kind, qm::ValueKind::kUnset);
  EXPECT_EQ(held.last_event[2], qm::state::kNever);
  held = shaped;  // the same shape: copied into the storage
  EXPECT_EQ(static_cast<void*>(held.profile.data()), static_cast<void*>(storage[0]));
  expect_values(held, "copied in place");
  held.Shape(3, 2, 4, 1);  // the same shape: reset in place
  EXPECT_EQ(static_cast<void*>(held.profile.data()), static_cast<void*>(storage[0]));
  EXPECT_EQ(held.profile[1].kind, qm::ValueKind::kUnset);
  held = CustomerState(shaped);  // moved in place
  EXPECT_EQ(static_cast<void*>(held.profile.data()), static_cast<void*>(storage[0]));
  expect_values(held, "moved in place");

  CustomerState moved(std::move(held));  // from a holder's storage: to a block of its own
  EXPECT_NE(static_cast<void*>(moved.profile.data()), static_cast<void*>(storage[0]));
  expect_values(moved, "move-constructed");

  CustomerState other;
  other.ShapeIn(shaped, storage[1]);
  other = shaped;
  CustomerState small;
  small.Shape(1, 0, 0, 0);
  small = std::move(other);  // another shape, from a holder's storage
  EXPECT_NE(static_cast<void*>(small.profile.data()), static_cast<void*>(storage[1]));
  CustomerState wider;
  wider.ShapeIn(shaped, storage[2]);
  wider.Shape(5, 0, 0, 0);  // another shape: to the heap, the holder's storage left alone
  EXPECT_NE(static_cast<void*>(wider.profile.data()), static_cast<void*>(storage[2]));
  held = CustomerState();  // another shape: the held values die in place, the storage is left
  other = CustomerState();
  std::memset(storage, 0xAB, sizeof storage);
  expect_values(moved, "after the storage is clobbered");
  expect_values(small, "after the storage is clobbered");
  EXPECT_EQ(wider.profile.size(), 5u);
}

// A state with 70 tags, pending afters and a merged id reads back from the
// codec as it was written.
TEST(CustomerState, CodecRoundTripsTheCompactParts) {
  std::string rules = "event order { amount: money }\n";
  for (int t = 0; t < 70; ++t) rules += "tag t" + std::to_string(t) + " \"tag " + std::to_string(t) + "\"\n";
  rules += "when order and count(order) >= 1 and min(order.amount) >= 0 then tag t0, tag t69\n";
  qm::Compiled compiled = qm::CompileText("r.qm", rules);
  ASSERT_NE(compiled.program, nullptr);
  const qm::ir::Program& program = compiled.program->ir();
  CustomerState s = qm::state::NewCustomer(program);
  s.tags.Set(0, true);
  s.tags.Set(69, true);
  s.aggregates[0].Add(0, 0, false);
  s.aggregates[1].Add(1234, 0, true);
  s.aliases = std::vector<std::string>{"merged-id"};
  s.seen = true;
  std::string bytes;
  qm::state_internal::EncodeState(s, bytes);
  CustomerState back = qm::state::NewCustomer(program);
  ASSERT_TRUE(qm::state_internal::DecodeState(bytes, qm::state::Schema::Of(program), back));
  EXPECT_EQ(Bits(back.tags), Bits(s.tags));
  EXPECT_EQ(back.aggregates[0].Whole().count, 1);
  EXPECT_EQ(back.aggregates[0].rest.get(), nullptr);
  EXPECT_EQ(back.aggregates[1].Whole().min_i, 1234);
  ASSERT_EQ(back.aliases.size(), 1u);
  EXPECT_EQ(back.aliases[0], "merged-id");
  EXPECT_TRUE(back.afters.empty());
}

}  // namespace

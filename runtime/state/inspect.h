// What a state directory holds, read without the rule set (`qm state`):
// states are decoded against the schema stored with them.
#ifndef QM_RUNTIME_STATE_INSPECT_H_
#define QM_RUNTIME_STATE_INSPECT_H_

#include <optional>
#include <string>
#include <vector>

#include "runtime/state/durable.h"

namespace qm::state {

// One customer's state as a JSON object (no '\n'): clock, profile, tags,
// aggregates (windowed ones as of the customer's latest event, A18), last
// events, pushes sent and pending timers by due time. Values and times are
// spelled as `qm run` spells them, times at `tz_minutes`.
std::string CustomerJson(const Schema& schema, const std::string& id, const CustomerState& state, int tz_minutes);

// Recency, frequency and monetary value over the first whole-history sum
// of a money field, `sum(E.f)` (`qm report`): frequency is how many E it
// summed, monetary its total, recency the days from the customer's last E
// to the latest E of anyone. Absent when the rules keep no such sum.
struct RfmGrid {
  static constexpr int kBuckets = 5;
  static constexpr int64_t kRecencyDays[kBuckets - 1] = {7, 30, 90, 180};  // upper bounds; the last: more
  static constexpr int64_t kFrequency[kBuckets] = {1, 2, 3, 5, 10};        // lower bounds
  std::string by;  // `sum(order.amount)`
  int64_t customers[kBuckets][kBuckets] = {};  // [recency][frequency]
  int64_t cents[kBuckets][kBuckets] = {};      // the sums' total per cell
  int64_t without = 0;                         // customers with no E
};

struct Summary {
  int64_t customers = 0;
  int64_t pending_timers = 0;
  int64_t merged = 0;  // ids merged into another person (D12)
  Checkpoint checkpoint;
  std::vector<int64_t> tagged;  // customers per tag, as schema.tags
  struct Members {
    size_t field;                  // an enum-typed profile field, in schema.fields
    std::vector<int64_t> counts;   // customers per member; the last, unset
  };
  std::vector<Members> fields;
  std::optional<RfmGrid> rfm;
};

// Counts over every customer of `readers`: one state directory, or the
// partitions of a worker's (docs/scale-out.md), which must have been
// written by the same rules; their commits' counts and tallies are summed
// (the input lines: the furthest any partition read, as they number the
// lines of one published input).
// An error for a record that cannot be read.
std::optional<Error> Summarize(const std::vector<StateReader*>& readers, Summary& summary);

}  // namespace qm::state

#endif  // QM_RUNTIME_STATE_INSPECT_H_

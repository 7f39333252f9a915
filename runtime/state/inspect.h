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
};

// Counts over every customer; an error for a record that cannot be read.
std::optional<Error> Summarize(StateReader& reader, Summary& summary);

}  // namespace qm::state

#endif  // QM_RUNTIME_STATE_INSPECT_H_

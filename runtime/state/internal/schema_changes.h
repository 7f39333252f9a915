// How a state written under one rule set continues under the next: the
// index maps between two schemas, the changes that would lose data (E0501)
// and those worth a note (docs/state.md, "Changing the rules").
#ifndef QM_RUNTIME_STATE_INTERNAL_SCHEMA_CHANGES_H_
#define QM_RUNTIME_STATE_INTERNAL_SCHEMA_CHANGES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compiler/diag/diag.h"
#include "runtime/state/durable.h"

namespace qm::state_internal {

using state::CustomerState;
using state::Schema;

// How states written under `old` map onto `program` (indexes old -> new, -1
// where the new rule set has no such thing).
struct Remap {
  std::vector<int32_t> fields, tags, aggregates, events, quiet, rules;
  std::vector<std::vector<int32_t>> members;  // per old field: its enum's members, old -> new
  std::vector<std::vector<bool>> after_kept;  // per old rule, per action: same action in the new rule
  std::vector<int32_t> new_quiet;             // quiet rules the old schema did not have
  std::map<std::string, std::string> target_keys;  // renamed push/invite histories (D14), old -> new key
};

// `old` as the renames of `program` (D14) spell it: each rename whose old
// name the state holds (and whose new name it does not) renames it there,
// so what follows matches by the new names. Says what it renamed in
// `notices`; `target_keys` receives the push history keys to rewrite.
Schema Renamed(const Schema& old, const ir::Program& program, std::map<std::string, std::string>& target_keys,
               std::vector<Error>& notices);

Remap MakeRemap(const Schema& old, const Schema& now);
// Moves `old` (decoded under the old schema) into `to` (a fresh state of the
// new one); returns how many pending `after`s were dropped.
int64_t RemapState(CustomerState&& old, const Remap& m, const ir::Program& program, CustomerState& to);
// The schema changes that would lose what states keep (E0501).
std::vector<Diagnostic> IncompatibleChanges(const Schema& old, const ir::Program& program, const std::string& dir);
bool SharesAnything(const Schema& a, const Schema& b);
void DescribeChanges(const Schema& old, const Schema& now, std::vector<Error>& notices);
std::string Join(const std::vector<std::string>& items);

}  // namespace qm::state_internal

#endif  // QM_RUNTIME_STATE_INTERNAL_SCHEMA_CHANGES_H_

// One customer's stored record (the value of `c:<id>` in a state directory),
// for the tests and fuzz targets that craft records; DurableStore is the
// only other user.
#ifndef QM_RUNTIME_STATE_INTERNAL_RECORD_H_
#define QM_RUNTIME_STATE_INTERNAL_RECORD_H_

#include <string>
#include <string_view>

#include "runtime/state/state.h"

namespace qm::state_internal {

// The record DurableStore writes for `s`.
std::string EncodeRecord(const state::CustomerState& s);
// Decodes a record written under `program`'s own schema and checks it as a
// load does. False exactly when a run would refuse it as corrupt; a record
// that passes is safe for both engines.
bool DecodeRecord(std::string_view bytes, const ir::Program& program, state::CustomerState& s);

}  // namespace qm::state_internal

#endif  // QM_RUNTIME_STATE_INTERNAL_RECORD_H_

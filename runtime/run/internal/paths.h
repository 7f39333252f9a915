// The files of a run, checked before anything is written: the events must be
// a stream that ends, and no output may be an input (docs/hostile-input.md).
#ifndef QM_RUNTIME_RUN_INTERNAL_PATHS_H_
#define QM_RUNTIME_RUN_INTERNAL_PATHS_H_

#include <optional>
#include <string>

#include "runtime/run/run.h"

namespace qm::run::internal {

// How messages name the events.
std::string EventsName(const std::string& events);

// Opens the events: a regular file, a pipe, a socket or a terminal. Devices
// such as /dev/zero (which never end) and directories are refused. Returns
// the descriptor, or -1 and `error`.
int OpenEvents(const std::string& events, Error& error);

// Outputs never destroy inputs: an output that is the events (by any name:
// path, symlink, hard link, standard input on `events_fd`), a rule file, the
// other output or a file inside the state directory is refused (a usage
// error).
std::optional<Error> CheckOutputs(const Options& options, const Program& program, int events_fd);

}  // namespace qm::run::internal

#endif  // QM_RUNTIME_RUN_INTERNAL_PATHS_H_

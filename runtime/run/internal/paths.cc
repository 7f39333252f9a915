#include "runtime/run/internal/paths.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

namespace qm::run::internal {
namespace {

// What a path names: the file's identity when it exists, else its absolute
// path with every existing directory resolved (`F` and `./F` alike). Only
// regular files (and files not yet created) can clash: writing to a device
// such as /dev/null, a terminal or a pipe destroys nothing that is read.
struct PathIdentity {
  std::optional<std::pair<dev_t, ino_t>> file;
  std::string path;
  bool stream = false;  // exists and is not a regular file
  bool Same(const PathIdentity& o) const {
    if (stream || o.stream) return false;
    return file && o.file ? *file == *o.file : path == o.path;
  }
};

PathIdentity IdentityOf(const std::string& path) {
  PathIdentity id;
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) {
    id.file = std::make_pair(st.st_dev, st.st_ino);
    id.stream = !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
  }
  std::error_code ec;
  id.path = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec).string();
  return id;
}

}  // namespace

std::string EventsName(const std::string& events) { return events == "-" ? "- (standard input)" : events; }

int OpenEvents(const std::string& events, Error& error) {
  int fd = events == "-" ? 0 : open(events.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    error = Error::Of<ErrorKind::kCannotOpenEvents>({EventsName(events), std::strerror(errno)});
    if (fd > 0) close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !isatty(fd)) {
    error = S_ISDIR(st.st_mode) ? Error::Of<ErrorKind::kEventsIsDirectory>({EventsName(events)})
                                : Error::Of<ErrorKind::kEventsIsDevice>({EventsName(events)});
    if (fd > 0) close(fd);
    return -1;
  }
  return fd;
}

std::optional<Error> CheckOutputs(const Options& options, const Program& program, int events_fd) {
  struct Input {
    ErrorKind clash;   // what an output that is this input is told
    std::string name;  // its path, for the message
    PathIdentity id;
  };
  std::vector<Input> inputs;
  if (options.events == "-") {
    struct stat st {};
    if (fstat(events_fd, &st) == 0)
      inputs.push_back({ErrorKind::kOutputIsStandardInput, {}, {std::make_pair(st.st_dev, st.st_ino), {}}});
  } else {
    inputs.push_back({ErrorKind::kOutputIsEvents, options.events, IdentityOf(options.events)});
  }
  for (const auto& source : program.sources())
    inputs.push_back({ErrorKind::kOutputIsRuleFile, source->name(), IdentityOf(source->name())});
  std::optional<PathIdentity> state;
  if (options.state_dir) state = IdentityOf(*options.state_dir);
  std::vector<std::pair<std::string, PathIdentity>> outputs;
  if (!options.out.empty()) outputs.emplace_back("--out", IdentityOf(options.out));
  if (!options.rejects.empty()) outputs.emplace_back("--rejects", IdentityOf(options.rejects));
  for (const auto& [flag, id] : outputs) {
    const std::string& path = flag == "--out" ? options.out : options.rejects;
    for (const Input& in : inputs) {
      if (!id.Same(in.id)) continue;
      std::vector<std::string> args = {flag, path};
      if (in.clash != ErrorKind::kOutputIsStandardInput) args.push_back(in.name);
      return Error{in.clash, std::move(args)};
    }
    if (state && (id.path == state->path || id.path.rfind(state->path + "/", 0) == 0))
      return Error::Of<ErrorKind::kOutputInStateDirectory>({flag, path, *options.state_dir});
  }
  if (outputs.size() == 2 && outputs[0].second.Same(outputs[1].second))
    return Error::Of<ErrorKind::kOutputsAreOneFile>({options.out, options.rejects});
  return std::nullopt;
}

}  // namespace qm::run::internal

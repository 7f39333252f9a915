#include "runtime/sink/sink.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

namespace qm::sink {

constexpr size_t kBufferBytes = 1 << 20;

FileSink::FileSink(std::FILE* actions, std::string actions_name, std::FILE* rejects, std::string rejects_name,
                   std::function<void(std::string_view)> on_warning, bool synced)
    : actions_{actions, std::move(actions_name), {}}, rejects_{rejects, std::move(rejects_name), {}},
      on_warning_(std::move(on_warning)) {
  actions_.buffer.reserve(kBufferBytes);
  if (synced)
    for (Target* t : {&actions_, &rejects_}) t->written = ftello(t->file);
}

FileSink::~FileSink() { Flush(); }

// Once a write failed, nothing more is written: the outputs end where the
// error happened, and the run reports it.
void FileSink::Write(Target& t) {
  if (!error_ && std::fwrite(t.buffer.data(), 1, t.buffer.size(), t.file) != t.buffer.size())
    error_ = Error::Of<ErrorKind::kCannotWrite>({t.name, std::strerror(errno)});
  // Write-behind: the kernel starts writing these bytes to disk now, while
  // the run goes on. Only a hint: a pipe or a failure leaves the sync to do it.
  if (!error_ && t.written >= 0 && std::fflush(t.file) == 0) {
    sync_file_range(fileno(t.file), t.written, static_cast<off_t>(t.buffer.size()), SYNC_FILE_RANGE_WRITE);
    t.written += static_cast<int64_t>(t.buffer.size());
  }
  t.buffer.clear();
}

void FileSink::Action(std::string_view line) {
  actions_.buffer.append(line);
  if (actions_.buffer.size() >= kBufferBytes) Write(actions_);
}

void FileSink::Reject(std::string_view line) {
  rejects_.buffer.append(line);
  if (rejects_.buffer.size() >= kBufferBytes) Write(rejects_);
}

void FileSink::Warning(std::string_view message) {
  if (on_warning_) on_warning_(message);
}

std::optional<Error> FileSink::Flush() {
  for (Target* t : {&actions_, &rejects_}) {
    if (!t->buffer.empty()) Write(*t);
    if (!error_ && std::fflush(t->file) != 0) error_ = Error::Of<ErrorKind::kCannotWrite>({t->name, std::strerror(errno)});
  }
  return error_;
}

}  // namespace qm::sink

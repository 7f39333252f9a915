#include "runtime/run/run.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/run/internal/paths.h"

namespace qm::run {
namespace {

// Opens an output a durable run continues, refused when shorter than the
// state says it is (it was cut or replaced). Nothing is cut yet: see CutBack.
std::FILE* OpenContinued(const std::string& path, int64_t committed, const std::string& state_dir, Error& error) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    error = Error::Of<ErrorKind::kCannotWrite>({path, std::strerror(errno)});
    if (fd >= 0) close(fd);
    return nullptr;
  }
  if (!S_ISREG(st.st_mode)) {
    error = Error::Of<ErrorKind::kOutputNotRegular>({path});
    close(fd);
    return nullptr;
  }
  if (st.st_size < committed) {
    error = Error::Of<ErrorKind::kOutputShorterThanState>(
        {path, std::to_string(st.st_size), state_dir, std::to_string(committed)});
    close(fd);
    return nullptr;
  }
  return fdopen(fd, "wb");
}

// Cuts an output back to what the state committed and positions it there.
std::optional<Error> CutBack(std::FILE* file, const std::string& path, int64_t committed) {
  if (ftruncate(fileno(file), committed) != 0 || fseeko(file, committed, SEEK_SET) != 0)
    return Error::Of<ErrorKind::kCannotWrite>({path, std::strerror(errno)});
  return std::nullopt;
}

}  // namespace

std::optional<Error> CheckOptions(const Options& options) {
  if (options.events.empty()) return Error::Of<ErrorKind::kNeedsEvents>();
  if (options.lateness_ms < 0) return Error::Of<ErrorKind::kBadLateness>({FormatDuration(options.lateness_ms)});
  if (options.commit_every < 1) return Error::Of<ErrorKind::kNeedsPositive>({"--commit-every"});
  if (options.commit_ms < 1) return Error::Of<ErrorKind::kNeedsPositive>({"--commit-ms"});
  if (options.state_dir && options.state_dir->empty()) return Error::Of<ErrorKind::kStateNeedsDirectory>();
  if (options.state_dir && (options.out.empty() || options.rejects.empty()))
    return Error::Of<ErrorKind::kStateNeedsOutputs>();
  return std::nullopt;
}

std::unique_ptr<Files> Files::Open(const Options& options, const Program& program, Error& error, bool& usage,
                                   std::function<void(std::string_view)> on_warning) {
  usage = false;
  std::unique_ptr<Files> files(new Files(options));
  files->on_warning_ = std::move(on_warning);
  files->events_fd_ = internal::OpenEvents(options.events, error);
  if (files->events_fd_ < 0) return nullptr;
  if (std::optional<Error> clash = internal::CheckOutputs(options, program, files->events_fd_)) {
    error = *clash;
    usage = true;
    return nullptr;
  }
  files->reader_ = std::make_unique<input::LineReader>(files->events_fd_);
  return files;
}

Files::~Files() {
  Close();
  if (events_fd_ > 0) close(events_fd_);
}

std::optional<Error> Files::Continue(const std::optional<state::Checkpoint>& resumed) {
  const std::string& dir = *options_.state_dir;
  resumed_ = resumed;
  Error error;
  out_ = OpenContinued(options_.out, resumed ? resumed->actions_bytes : 0, dir, error);
  if (out_ != nullptr) rejects_ = OpenContinued(options_.rejects, resumed ? resumed->rejects_bytes : 0, dir, error);
  if (rejects_ == nullptr) return error;
  if (resumed) {
    if (std::optional<Error> refused = reader_->Resume(*resumed, internal::EventsName(options_.events)))
      return Error::Of<ErrorKind::kResumeRefused>({refused->Message(options_.lang), dir});
  }
  sink_ = std::make_unique<sink::FileSink>(out_, options_.out, rejects_, options_.rejects, on_warning_,
                                         /*synced=*/true);
  return std::nullopt;
}

std::optional<Error> Files::Begin() {
  if (options_.state_dir) {
    std::optional<Error> failed = CutBack(out_, options_.out, resumed_ ? resumed_->actions_bytes : 0);
    if (!failed) failed = CutBack(rejects_, options_.rejects, resumed_ ? resumed_->rejects_bytes : 0);
    return failed;
  }
  out_ = options_.out.empty() ? stdout : std::fopen(options_.out.c_str(), "wb");
  if (out_ == nullptr) return Error::Of<ErrorKind::kCannotWrite>({options_.out, std::strerror(errno)});
  rejects_ = options_.rejects.empty() ? stderr : std::fopen(options_.rejects.c_str(), "wb");
  if (rejects_ == nullptr) return Error::Of<ErrorKind::kCannotWrite>({options_.rejects, std::strerror(errno)});
  sink_ = std::make_unique<sink::FileSink>(
      out_, options_.out.empty() ? Bilingual("standard output", "标准输出") : options_.out, rejects_,
      options_.rejects.empty() ? Bilingual("standard error", "标准错误") : options_.rejects, on_warning_);
  return std::nullopt;
}

std::optional<Error> Files::Sync(state::Checkpoint& c) {
  std::optional<Error> failed = sink_->Flush();
  for (auto [file, name] : {std::pair{out_, &options_.out}, {rejects_, &options_.rejects}})
    if (!failed && fdatasync(fileno(file)) != 0)
      failed = Error::Of<ErrorKind::kCannotWrite>({*name, std::strerror(errno)});
  if (failed) return failed;
  // A last line without '\n' counts as complete only if the events still end
  // there now, at the commit: a writer may have been in the middle of it.
  if (reader_->ends_mid_line() && !reader_->StillEndsHere())
    return Error::Of<ErrorKind::kLastLineChanged>({internal::EventsName(options_.events)});
  c.input_bytes = reader_->consumed();
  c.input_ends_mid_line = reader_->ends_mid_line();
  c.input_head_hash = reader_->head_hash();
  c.input_tail_hash = reader_->tail_hash();
  c.actions_bytes = ftello(out_);
  c.rejects_bytes = ftello(rejects_);
  return std::nullopt;
}

Error Files::ReadError() const { return reader_->ReadError(internal::EventsName(options_.events)); }

std::optional<Error> Files::Close() {
  std::optional<Error> failed;
  if (sink_) {  // its last writes go before the files close, never after
    failed = sink_->Flush();
    sink_.reset();
  }
  for (auto [file, name] : {std::pair{&out_, &options_.out}, {&rejects_, &options_.rejects}}) {
    if (*file != nullptr && *file != stdout && *file != stderr && std::fclose(*file) != 0 && !failed)
      failed = Error::Of<ErrorKind::kCannotWrite>({*name, std::strerror(errno)});
    *file = nullptr;
  }
  return failed;
}

std::optional<Error> ForEachEventLine(const std::string& events_path,
                                      const std::function<void(std::string_view)>& on_line) {
  Error error;
  int fd = internal::OpenEvents(events_path, error);
  if (fd < 0) return error;
  struct Closer {
    int fd;
    ~Closer() {
      if (fd > 0) close(fd);
    }
  } closer{fd};
  input::LineReader reader(fd);
  std::string_view line;
  int64_t number = 0;
  while (reader.Next(line)) {
    ++number;
    on_line(line);
  }
  if (reader.failed()) {
    Error why = reader.ReadError(internal::EventsName(events_path));
    return Error::Of<ErrorKind::kReadErrorAfterLine>(
        {Bilingual(why.Message(Lang::kEn), why.Message(Lang::kZh)), std::to_string(number)});
  }
  return std::nullopt;
}

}  // namespace qm::run

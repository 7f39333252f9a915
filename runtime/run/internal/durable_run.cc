#include "runtime/run/internal/durable_run.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "compiler/value/value.h"
#include "runtime/run/internal/paths.h"

namespace qm::run::internal {
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

DurableRun::DurableRun(const Options& options, std::unique_ptr<state::DurableStore> store)
    : options_(options), store_(std::move(store)), resumed_(store_->checkpoint()) {}

DurableRun::~DurableRun() { Close(); }

std::unique_ptr<DurableRun> DurableRun::Open(const Program& program, const Options& options, const Report& report,
                                             Failure& failure) {
  const std::string& dir = *options.state_dir;
  state::DurableStore::OpenResult opened = state::DurableStore::Open(dir, program.ir());
  if (!opened.changes.empty()) {
    failure.changes = std::move(opened.changes);
    size_t n = failure.changes.size();
    failure.error = Error::Of<ErrorKind::kCannotContinueState>({dir, std::to_string(n), n == 1 ? "" : "s"});
    return nullptr;
  }
  if (!opened.store) {
    failure.error = opened.error.value_or(Error{});
    return nullptr;
  }
  if (report.message)
    for (const Error& notice : opened.notices)
      report.message(Error::Of<ErrorKind::kNote>({notice.Message(options.lang)}).Message(options.lang));
  std::unique_ptr<DurableRun> run(new DurableRun(options, std::move(opened.store)));
  const std::optional<state::Checkpoint>& resumed = run->resumed_;
  if (resumed && resumed->host_position) {
    failure.error = Error::Of<ErrorKind::kStateKeptByHost>({dir});
    return nullptr;
  }
  if (resumed && resumed->tz_minutes != options.tz_minutes) {
    failure.error = Error::Of<ErrorKind::kTzDiffers>(
        {dir, FormatTime(0, resumed->tz_minutes).substr(19)});  // `+08:00`, as --tz takes it
    return nullptr;
  }
  if (resumed && resumed->lateness_ms != options.lateness_ms) {
    failure.error = Error::Of<ErrorKind::kLatenessDiffers>({dir, FormatDuration(resumed->lateness_ms)});
    return nullptr;
  }
  run->out_ = OpenContinued(options.out, resumed ? resumed->actions_bytes : 0, dir, failure.error);
  if (run->out_ != nullptr)
    run->rejects_ = OpenContinued(options.rejects, resumed ? resumed->rejects_bytes : 0, dir, failure.error);
  if (run->rejects_ == nullptr) return nullptr;
  return run;
}

std::optional<Error> DurableRun::Begin(input::LineReader& reader) {
  if (resumed_) {
    if (std::optional<Error> refused = reader.Resume(*resumed_, EventsName(options_.events)))
      return Error::Of<ErrorKind::kResumeRefused>({refused->Message(options_.lang), *options_.state_dir});
  }
  // Every check passed: only now is anything written.
  std::optional<Error> failed = store_->BeginWriting();
  if (!failed) failed = CutBack(out_, options_.out, resumed_ ? resumed_->actions_bytes : 0);
  if (!failed) failed = CutBack(rejects_, options_.rejects, resumed_ ? resumed_->rejects_bytes : 0);
  return failed;
}

// Outputs reach the disk before the commit that records their lengths, so a
// crash leaves them at least as long as the state says.
std::optional<Error> DurableRun::Commit(sink::FileSink& sink, const input::LineReader& reader, int64_t lines,
                                        const engine::Engine& engine) {
  std::optional<Error> failed = sink.Flush();
  for (auto [file, name] : {std::pair{out_, &options_.out}, {rejects_, &options_.rejects}})
    if (!failed && fdatasync(fileno(file)) != 0)
      failed = Error::Of<ErrorKind::kCannotWrite>({*name, std::strerror(errno)});
  if (failed) return failed;
  // A last line without '\n' counts as complete only if the events still end
  // there now, at the commit: a writer may have been in the middle of it.
  if (reader.ends_mid_line() && !reader.StillEndsHere())
    return Error::Of<ErrorKind::kLastLineChanged>({EventsName(options_.events)});
  state::Checkpoint c;
  c.input_bytes = reader.consumed();
  c.input_lines = lines;
  c.input_ends_mid_line = reader.ends_mid_line();
  c.input_head_hash = reader.head_hash();
  c.input_tail_hash = reader.tail_hash();
  c.actions_bytes = ftello(out_);
  c.rejects_bytes = ftello(rejects_);
  c.tz_minutes = options_.tz_minutes;
  c.lateness_ms = options_.lateness_ms;
  c.high_mark = engine.high_mark();
  c.held = engine.held();
  return store_->Commit(c);
}

std::optional<Error> DurableRun::Close() {
  std::optional<Error> failed;
  for (auto [file, name] : {std::pair{&out_, &options_.out}, {&rejects_, &options_.rejects}}) {
    if (*file != nullptr && std::fclose(*file) != 0 && !failed)
      failed = Error::Of<ErrorKind::kCannotWrite>({*name, std::strerror(errno)});
    *file = nullptr;
  }
  return failed;
}

}  // namespace qm::run::internal

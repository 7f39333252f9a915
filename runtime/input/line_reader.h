// Line input for `qm run`: an events stream read in large blocks and handed
// out as physical lines, with what a durable run needs to commit a position
// and to recognise the same input when it resumes.
#ifndef QM_RUNTIME_INPUT_LINE_READER_H_
#define QM_RUNTIME_INPUT_LINE_READER_H_

#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "runtime/state/durable.h"

namespace qm::input {

// Reads file descriptor `fd` in large blocks and hands out physical lines
// (A40), so a 140 MB stream never sits in memory at once. For durable runs it
// knows how many bytes it has consumed and keeps what identifies them: the
// first Checkpoint::kHeadBytes and the last Checkpoint::kTailBytes. On a pipe
// that has nothing to read for `idle_ms`, it calls `on_idle` (a durable run
// commits then, so a live stream's actions do not wait for the next line).
//
// Hostile input (docs/hostile-input.md): a read error ends the lines and is kept in
// error(), never taken for the end of input; a line longer than
// event::kMaxLineBytes is handed out as its last kMaxLineBytes + 1 bytes (the
// engine rejects it by its length) without being held whole; a last line
// without '\n' is complete only at the end of a pipe, or of a regular file
// whose size is still where the reader stopped.
class LineReader {
 public:
  // Reads `fd`, which it does not own.
  explicit LineReader(int fd);
  void OnIdle(int64_t idle_ms, std::function<void()> on_idle) {
    idle_ms_ = idle_ms;
    on_idle_ = std::move(on_idle);
  }

  // The next physical line, without its '\n'; valid until the next call.
  // False at the end of the input, or after a read error (failed()).
  bool Next(std::string_view& line);
  // The line after the last one handed out or peeked, when it is whole in
  // the buffer: never reads. Its view stays valid until Next hands it out
  // (Next reads more only past every whole line buffered), so a caller can
  // decode lines ahead of processing them.
  bool Peek(std::string_view& line);

  // Skips the input a checkpoint says was consumed, checking that it is the
  // same input.
  std::optional<Error> Resume(const state::Checkpoint& c, const std::string& name);

  // Why reading stopped early (failed()), naming the events.
  Error ReadError(const std::string& name) const;
  bool failed() const { return error_ != 0; }
  // Whether a regular file still ends where the reader stopped (pipes do).
  bool StillEndsHere() const;
  int64_t consumed() const { return consumed_; }
  bool ends_mid_line() const { return ends_mid_line_; }
  uint64_t head_hash() const {
    return StableHash(std::string_view(head_).substr(0, std::min(consumed_, state::Checkpoint::kHeadBytes)));
  }
  uint64_t tail_hash() const {
    size_t n = std::min<size_t>(pos_, state::Checkpoint::kTailBytes);
    return StableHash(std::string_view(buffer_.data() + pos_ - n, n));
  }

 private:
  // Consumes `n` buffered bytes: a whole line, with what was dropped of it.
  void Consume(size_t n);
  // The first kHeadBytes of the input, in order, whether kept or dropped.
  void AppendHead(const char* bytes, size_t n);
  ssize_t Read(char* into, size_t n);
  // False at a read error (kept in error_) or the end of input.
  bool ReadExactly(std::string& into, int64_t n);
  // From offset `at` to `to`: a seek for files, reading through for pipes.
  bool SkipTo(int64_t at, int64_t to);

  int fd_;
  bool regular_ = false;
  int64_t idle_ms_ = 0;
  std::function<void()> on_idle_;
  std::string buffer_;
  size_t pos_ = 0, end_ = 0;
  size_t peeked_ = 0;  // where the next Peek starts, when past pos_
  bool eof_ = false;
  int error_ = 0;           // errno of the read that failed
  int64_t shrunk_to_ = -1;  // the size of a regular file found shorter than what was read
  int64_t consumed_ = 0;
  int64_t dropped_ = 0;     // bytes of the current overlong line no longer buffered
  bool ends_mid_line_ = false;
  std::string head_;
};

}  // namespace qm::input

#endif  // QM_RUNTIME_INPUT_LINE_READER_H_

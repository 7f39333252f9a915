#include "runtime/input/line_reader.h"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "runtime/event/decode.h"

namespace qm::input {

LineReader::LineReader(int fd) : fd_(fd) {
  buffer_.resize(1 << 20);
  struct stat st {};
  regular_ = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

bool LineReader::Next(std::string_view& line) {
  for (;;) {
    const char* start = buffer_.data() + pos_;
    const char* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
    if (nl != nullptr) {
      line = std::string_view(start, nl - start);
      Consume(nl - start + 1);
      ends_mid_line_ = false;
      return true;
    }
    if (error_ != 0) return false;
    if (eof_) {
      if (pos_ == end_) return false;
      line = std::string_view(start, end_ - pos_);
      Consume(end_ - pos_);
      ends_mid_line_ = true;
      return true;
    }
    // An overlong line keeps only its last kMaxLineBytes + 1 bytes (at
    // least the tail the checkpoint hashes): what it dropped is counted.
    size_t partial = end_ - pos_;
    if (partial > event::kMaxLineBytes + 1) {
      size_t drop = partial - (event::kMaxLineBytes + 1);
      AppendHead(start, drop);
      dropped_ += drop;
      pos_ += drop;
      partial -= drop;
      start = buffer_.data() + pos_;
    }
    // Move the partial line (and the tail the checkpoint hashes) to the front and read more.
    size_t keep = dropped_ > 0 ? 0 : std::min<size_t>(pos_, state::Checkpoint::kTailBytes);
    std::memmove(buffer_.data(), start - keep, partial + keep);
    pos_ = keep;
    peeked_ = 0;  // every line peeked was whole, so handed out before this
    end_ = partial + keep;
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    if (on_idle_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(idle_ms_)) == 0) on_idle_();
    }
    ssize_t n = Read(buffer_.data() + end_, buffer_.size() - end_);
    if (n > 0) {
      end_ += n;
    } else if (n < 0) {
      error_ = errno;
    } else if (end_ > pos_ && regular_) {
      // A last line without '\n' in a regular file: complete only if the file
      // still ends here; a growing file is read on, a shrunk one is an error.
      struct stat st {};
      off_t offset = lseek(fd_, 0, SEEK_CUR);
      if (fstat(fd_, &st) != 0 || offset < 0) error_ = errno;
      else if (st.st_size < offset) shrunk_to_ = st.st_size, error_ = EIO;
      else if (st.st_size == offset) eof_ = true;
    } else {
      eof_ = true;
    }
  }
}

bool LineReader::Peek(std::string_view& line) {
  size_t from = std::max(peeked_, pos_);
  const char* start = buffer_.data() + from;
  const char* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - from));
  if (nl == nullptr) return false;
  line = std::string_view(start, nl - start);
  peeked_ = nl - buffer_.data() + 1;
  return true;
}

std::optional<Error> LineReader::Resume(const state::Checkpoint& c, const std::string& name) {
  auto failed = [&]() -> Error {
    if (error_ != 0) return ReadError(name);
    return Error::Of<ErrorKind::kEventsShorterThanState>({name, std::to_string(c.input_bytes)});
  };
  int64_t head_len = std::min(c.input_bytes, state::Checkpoint::kHeadBytes);
  std::string head;
  if (!ReadExactly(head, head_len)) return failed();
  int64_t tail_len = std::min(c.input_bytes, state::Checkpoint::kTailBytes);
  int64_t tail_start = c.input_bytes - tail_len;
  std::string tail;
  if (tail_start < head_len) {
    tail = head.substr(tail_start);
    if (!ReadExactly(tail, c.input_bytes - head_len)) return failed();
  } else {
    if (!SkipTo(head_len, tail_start) || !ReadExactly(tail, tail_len)) return failed();
  }
  if (StableHash(head) != c.input_head_hash || StableHash(tail) != c.input_tail_hash)
    return Error::Of<ErrorKind::kEventsDiffer>({name, std::to_string(c.input_bytes)});
  head_ = std::move(head);
  std::memcpy(buffer_.data(), tail.data(), tail.size());
  pos_ = end_ = tail.size();
  peeked_ = 0;
  consumed_ = c.input_bytes;
  ends_mid_line_ = c.input_ends_mid_line;
  if (ends_mid_line_) {  // the last line had no '\n': only a '\n' may continue it
    char next;
    ssize_t n = Read(&next, 1);
    if (n < 0) {
      error_ = errno;
      return ReadError(name);
    }
    if (n == 0) return std::nullopt;
    if (next != '\n')
      return Error::Of<ErrorKind::kEventsContinueLastLine>({name, std::to_string(c.input_lines)});
    buffer_[end_++] = '\n';
    Consume(1);
    ends_mid_line_ = false;
  }
  return std::nullopt;
}

Error LineReader::ReadError(const std::string& name) const {
  if (shrunk_to_ >= 0) return Error::Of<ErrorKind::kEventsShrank>({name, std::to_string(shrunk_to_)});
  return Error::Of<ErrorKind::kCannotReadEvents>({name, std::strerror(error_)});
}

bool LineReader::StillEndsHere() const {
  struct stat st {};
  off_t offset = lseek(fd_, 0, SEEK_CUR);
  return !regular_ || (fstat(fd_, &st) == 0 && offset >= 0 && st.st_size == offset);
}

void LineReader::Consume(size_t n) {
  AppendHead(buffer_.data() + pos_, n);
  pos_ += n;
  consumed_ += static_cast<int64_t>(n) + dropped_;
  dropped_ = 0;
}

void LineReader::AppendHead(const char* bytes, size_t n) {
  size_t room = static_cast<size_t>(state::Checkpoint::kHeadBytes) - std::min(head_.size(), size_t{state::Checkpoint::kHeadBytes});
  head_.append(bytes, std::min(n, room));
}

ssize_t LineReader::Read(char* into, size_t n) {
  for (;;) {
    ssize_t got = read(fd_, into, n);
    if (got >= 0 || errno != EINTR) return got;
  }
}

bool LineReader::ReadExactly(std::string& into, int64_t n) {
  size_t at = into.size();
  into.resize(at + n);
  for (int64_t done = 0; done < n;) {
    ssize_t got = Read(into.data() + at + done, n - done);
    if (got < 0) error_ = errno;
    if (got <= 0) return false;
    done += got;
  }
  return true;
}

bool LineReader::SkipTo(int64_t at, int64_t to) {
  if (lseek(fd_, to, SEEK_SET) == to) return true;
  std::string discard;
  for (int64_t left = to - at; left > 0;) {
    discard.clear();
    int64_t n = std::min<int64_t>(left, 1 << 20);
    if (!ReadExactly(discard, n)) return false;
    left -= n;
  }
  return true;
}

}  // namespace qm::input

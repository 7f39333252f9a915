#include "runtime/sink/sink.h"

namespace qm::sink {

constexpr size_t kBufferBytes = 1 << 20;

FileSink::FileSink(std::FILE* actions, std::FILE* rejects, std::FILE* warnings)
    : actions_(actions), rejects_(rejects), warnings_(warnings) {
  action_buffer_.reserve(kBufferBytes);
}

FileSink::~FileSink() { Flush(); }

void FileSink::Write(std::FILE* f, std::string& buffer, std::string_view line) {
  buffer.append(line);
  if (buffer.size() >= kBufferBytes) {
    ok_ &= std::fwrite(buffer.data(), 1, buffer.size(), f) == buffer.size();
    buffer.clear();
  }
}

void FileSink::Action(std::string_view line) { Write(actions_, action_buffer_, line); }
void FileSink::Reject(std::string_view line) { Write(rejects_, reject_buffer_, line); }

void FileSink::Warning(std::string_view message) {
  std::fprintf(warnings_, "qm: warning: %.*s\n", static_cast<int>(message.size()), message.data());
}

bool FileSink::Flush() {
  for (auto [f, buffer] : {std::pair{actions_, &action_buffer_}, {rejects_, &reject_buffer_}}) {
    if (!buffer->empty()) ok_ &= std::fwrite(buffer->data(), 1, buffer->size(), f) == buffer->size();
    buffer->clear();
    ok_ &= std::fflush(f) == 0;
  }
  return ok_;
}

}  // namespace qm::sink

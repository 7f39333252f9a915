// Sinks: where the engine's JSON Lines go. A FileSink writes actions and
// rejects to two files (or stdout/stderr) through large buffers.
#ifndef QM_RUNTIME_SINK_SINK_H_
#define QM_RUNTIME_SINK_SINK_H_

#include <cstdio>
#include <string>

#include "runtime/engine/engine.h"

namespace qm::sink {

class FileSink final : public engine::Output {
 public:
  // Takes ownership of neither file; `warnings` receives cascade warnings.
  FileSink(std::FILE* actions, std::FILE* rejects, std::FILE* warnings);
  ~FileSink() override;
  void Action(std::string_view line) override;
  void Reject(std::string_view line) override;
  void Warning(std::string_view message) override;
  // Writes buffered output; returns false on a write error.
  bool Flush();

 private:
  void Write(std::FILE* f, std::string& buffer, std::string_view line);
  std::FILE* actions_;
  std::FILE* rejects_;
  std::FILE* warnings_;
  std::string action_buffer_, reject_buffer_;
  bool ok_ = true;
};

// Collects everything in memory (tests, embedding).
class StringSink final : public engine::Output {
 public:
  void Action(std::string_view line) override { actions.append(line); }
  void Reject(std::string_view line) override { rejects.append(line); }
  void Warning(std::string_view message) override { (warnings += message) += "\n"; }
  std::string actions, rejects, warnings;
};

}  // namespace qm::sink

#endif  // QM_RUNTIME_SINK_SINK_H_

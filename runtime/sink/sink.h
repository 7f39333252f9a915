// Sinks: where the engine's JSON Lines go. A FileSink writes actions and
// rejects to two files (or stdout/stderr) through large buffers.
#ifndef QM_RUNTIME_SINK_SINK_H_
#define QM_RUNTIME_SINK_SINK_H_

#include <cstdio>
#include <functional>
#include <optional>
#include <string>

#include "runtime/engine/engine.h"

namespace qm::sink {

class FileSink final : public engine::Output {
 public:
  // Takes ownership of neither file; the names are for messages ("standard
  // output" is fine). `on_warning` receives cascade warnings. `synced`: the
  // files will be synced (a durable run's commits), so each write also
  // starts the disk writing it, and a sync finds little left to wait for.
  FileSink(std::FILE* actions, std::string actions_name, std::FILE* rejects, std::string rejects_name,
           std::function<void(std::string_view)> on_warning, bool synced = false);
  ~FileSink() override;
  void Action(std::string_view line) override;
  void Reject(std::string_view line) override;
  void Warning(std::string_view message) override;
  // Writes buffered output. After the first failed write, returns why,
  // naming the file (`cannot write `out.jsonl`: No space left on device`).
  std::optional<Error> Flush();

 private:
  struct Target {
    std::FILE* file;
    std::string name;
    std::string buffer;
    int64_t written = -1;  // bytes handed to the file; -1 when not known (not a regular file)
  };
  void Write(Target& t);
  Target actions_, rejects_;
  std::function<void(std::string_view)> on_warning_;
  std::optional<Error> error_;
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

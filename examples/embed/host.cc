// A complete service host (docs/embedding.md): runs a rule set over an
// events file into action and reject files, keeping customers' states in a
// state directory, so that killed at any moment and started again it writes
// exactly what one uninterrupted run writes — as `qm run --state` does, but
// through the public API only.
//
//   host RULES.qm EVENTS.jsonl ACTIONS.jsonl REJECTS.jsonl STATE_DIR
//        [--engine jit|interp] [--lateness 2h] [--until TIME] [--commit-every N]
//        [--evict-idle 30d]
//
// The position it commits is its own: the events offset and the lengths of
// its two outputs, which it cuts back to on restart (the lines after a
// commit are delivered again, identically).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <qianmian/qianmian.hpp>

namespace {

struct Output {
  std::FILE* file = nullptr;
  long length = 0;
  bool Open(const std::string& path, long committed) {
    file = std::fopen(path.c_str(), committed > 0 ? "r+b" : "w+b");
    if (file == nullptr || ftruncate(fileno(file), committed) != 0 || std::fseek(file, committed, SEEK_SET) != 0)
      return false;
    length = committed;
    return true;
  }
  void Append(std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), file);
    std::fputc('\n', file);
    length += static_cast<long>(line.size()) + 1;
  }
  bool Sync() { return std::fflush(file) == 0 && fdatasync(fileno(file)) == 0; }
};

int Fail(const std::string& why) {
  std::fprintf(stderr, "host: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: host RULES EVENTS ACTIONS REJECTS STATE_DIR [--engine E] [--lateness D] "
                         "[--until T] [--commit-every N] [--evict-idle D]\n");
    return 2;
  }
  qianmian::RunOptions options;
  options.state_dir = argv[5];
  std::string until;
  long commit_every = 1000;
  for (int i = 6; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--engine") options.engine = value == "interp" ? qianmian::Engine::kInterpreter : qianmian::Engine::kJit;
    else if (flag == "--lateness") options.lateness = value;
    else if (flag == "--until") until = value;
    else if (flag == "--commit-every") commit_every = std::atol(value.c_str());
    else if (flag == "--evict-idle") options.evict_idle = value;
    else return Fail("unknown option " + flag);
  }

  qianmian::RuleSet rules = qianmian::RuleSet::FromFiles({argv[1]});
  for (const qianmian::Diagnostic& d : rules.diagnostics()) std::fputs(d.rendered.c_str(), stderr);
  if (!rules.ok()) return 1;

  Output actions, rejects;
  std::string error;
  auto runner = qianmian::Runner::Create(
      rules, options,
      [&](const qianmian::Batch& batch) {
        for (std::string_view line : batch.actions) actions.Append(line);
        for (std::string_view line : batch.rejects) rejects.Append(line);
        return std::ferror(actions.file) == 0 && std::ferror(rejects.file) == 0;
      },
      &error);
  if (!runner) return Fail(error);

  // Where the last commit stands: "EVENTS_OFFSET ACTIONS_LENGTH REJECTS_LENGTH".
  long offset = 0, committed_actions = 0, committed_rejects = 0;
  if (std::optional<std::string> position = runner->committed_position())
    std::sscanf(position->c_str(), "%ld %ld %ld", &offset, &committed_actions, &committed_rejects);
  if (!actions.Open(argv[3], committed_actions) || !rejects.Open(argv[4], committed_rejects))
    return Fail(std::string("cannot open the outputs: ") + std::strerror(errno));
  std::ifstream events(argv[2], std::ios::binary);
  if (!events || !events.seekg(offset)) return Fail(std::string("cannot read ") + argv[2]);

  auto commit = [&]() -> bool {
    // The outputs reach the disk before the commit that records their lengths.
    if (!actions.Sync() || !rejects.Sync()) return false;
    qianmian::Runner::Committed c = runner->Commit(std::to_string(offset) + " " + std::to_string(actions.length) +
                                                   " " + std::to_string(rejects.length));
    if (!c.status.ok()) std::fprintf(stderr, "host: %s\n", c.status.error.c_str());
    return c.status.ok();
  };
  long uncommitted = 0;
  for (std::string line; std::getline(events, line);) {
    offset += static_cast<long>(line.size()) + (events.eof() ? 0 : 1);
    qianmian::FeedResult fed = runner->Feed(line);
    if (!fed.ok()) return Fail(fed.status.error);  // the outputs failed: nothing of this line counts
    if (++uncommitted >= commit_every) {
      if (!commit()) return 1;
      uncommitted = 0;
    }
  }
  if (qianmian::Status s = runner->EndOfInput(); !s.ok()) return Fail(s.error);
  if (!until.empty())
    if (qianmian::Status s = runner->FireUntil(until); !s.ok()) return Fail(s.error);
  if (!commit()) return 1;
  qianmian::Stats stats = runner->stats();
  std::fprintf(stderr, "host: %lld lines, %lld events, %lld customers in memory, %lld evicted\n",
               static_cast<long long>(stats.lines), static_cast<long long>(stats.events),
               static_cast<long long>(stats.customers), static_cast<long long>(stats.customers_evicted));
  return 0;
}

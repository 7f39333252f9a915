// `qm run`: rules + JSON Lines events -> actions and rejects (LANGUAGE.md 6).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "compiler/driver/driver.h"
#include "compiler/interp/interp.h"
#include "compiler/jit/jit.h"
#include "runtime/event/decode.h"
#include "runtime/input/line_reader.h"
#include "runtime/sink/sink.h"
#include "runtime/state/durable.h"

namespace qm::cli {
namespace {

struct RunArgs {
  std::vector<std::string> rules;
  std::string events, out, rejects, engine = "jit";
  std::optional<std::string> state_dir;
  int tz_minutes = engine::kDefaultTzMinutes;
  std::optional<int64_t> until;
  bool dump_ir = false;
  int64_t commit_every = 1000000;  // lines
  int64_t commit_ms = 1000;
};

// B8: RFC 3339 or epoch seconds as a JSON number, floored to the millisecond.
std::optional<int64_t> ParseUntil(const std::string& text) {
  if (auto t = ParseRfc3339(text)) return t;
  return event::EpochMillisFromNumber(text);
}

void PrintSummary(const engine::Stats& stats, double seconds, std::FILE* to) {
  std::fprintf(to, "qm run: %lld lines, %lld events accepted, %lld timer steps in %.2f s (%.0f events/s)\n",
               static_cast<long long>(stats.lines), static_cast<long long>(stats.events),
               static_cast<long long>(stats.timer_steps), seconds,
               seconds > 0 ? static_cast<double>(stats.events) / seconds : 0.0);
  std::string actions, rejects;
  int64_t total_actions = 0, total_rejects = 0;
  for (const auto& [kind, n] : stats.actions) {
    actions += " " + kind + "=" + std::to_string(n);
    total_actions += n;
  }
  for (const auto& [reason, n] : stats.rejects) {
    rejects += " " + reason + "=" + std::to_string(n);
    total_rejects += n;
  }
  std::fprintf(to, "  actions: %lld%s\n", static_cast<long long>(total_actions), actions.c_str());
  std::fprintf(to, "  rejects: %lld%s\n", static_cast<long long>(total_rejects), rejects.c_str());
}

// Opens an output a durable run continues, refused when shorter than the
// state says it is (it was cut or replaced). Nothing is cut yet: see CutBack.
std::FILE* OpenContinued(const std::string& path, int64_t committed, const std::string& state_dir,
                         std::string& error) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    error = "cannot write `" + path + "`: " + std::strerror(errno);
    if (fd >= 0) close(fd);
    return nullptr;
  }
  if (!S_ISREG(st.st_mode)) {
    error = "`" + path + "` is not a regular file: a durable run cuts its outputs back to the last commit " +
            "when it resumes";
    close(fd);
    return nullptr;
  }
  if (st.st_size < committed) {
    error = "`" + path + "` has " + std::to_string(st.st_size) + " bytes, but the state in `" + state_dir +
            "` has written " + std::to_string(committed) + " to it: it was cut or replaced since; restore it, " +
            "or give --state a new directory";
    close(fd);
    return nullptr;
  }
  return fdopen(fd, "wb");
}

// Cuts an output back to what the state committed (a crash may have left
// more) and positions it there.
std::optional<std::string> CutBack(std::FILE* file, const std::string& path, int64_t committed) {
  if (ftruncate(fileno(file), committed) != 0 || fseeko(file, committed, SEEK_SET) != 0)
    return "cannot write `" + path + "`: " + std::strerror(errno);
  return std::nullopt;
}

// What a path names: the file's identity when it exists, else its absolute
// path with every existing directory resolved (`F` and `./F` alike).
struct PathIdentity {
  std::optional<std::pair<dev_t, ino_t>> file;
  std::string path;
  bool Same(const PathIdentity& o) const { return file && o.file ? *file == *o.file : path == o.path; }
};

PathIdentity IdentityOf(const std::string& path) {
  PathIdentity id;
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) id.file = std::make_pair(st.st_dev, st.st_ino);
  std::error_code ec;
  id.path = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec).string();
  return id;
}

// Outputs never destroy inputs (docs/runtime.md): an output that is the events
// (by any name: path, symlink, hard link, standard input), a rule file, the
// other output or a file inside the state directory is refused before
// anything is opened for writing. Returns the usage message.
std::optional<std::string> CheckOutputs(const RunArgs& a, const driver::Compilation& compilation, int events_fd) {
  struct Input {
    std::string what;
    PathIdentity id;
  };
  std::vector<Input> inputs;
  if (a.events == "-") {
    struct stat st {};
    if (fstat(events_fd, &st) == 0) inputs.push_back({"the events (standard input)", {std::make_pair(st.st_dev, st.st_ino), {}}});
  } else {
    inputs.push_back({"the events `" + a.events + "`", IdentityOf(a.events)});
  }
  for (const auto& source : compilation.sources)
    inputs.push_back({"the rule file `" + source->name() + "`", IdentityOf(source->name())});
  std::optional<PathIdentity> state;
  if (a.state_dir) state = IdentityOf(*a.state_dir);
  std::vector<std::pair<std::string, PathIdentity>> outputs;
  if (!a.out.empty()) outputs.emplace_back("--out", IdentityOf(a.out));
  if (!a.rejects.empty()) outputs.emplace_back("--rejects", IdentityOf(a.rejects));
  for (const auto& [flag, id] : outputs) {
    const std::string& path = flag == "--out" ? a.out : a.rejects;
    for (const Input& in : inputs)
      if (id.Same(in.id)) return flag + " `" + path + "` is " + in.what + ": writing it would destroy what is being read";
    if (state && (id.path == state->path || id.path.rfind(state->path + "/", 0) == 0))
      return flag + " `" + path + "` is inside the state directory `" + *a.state_dir + "`, which only qm may write";
  }
  if (outputs.size() == 2 && outputs[0].second.Same(outputs[1].second))
    return "--out `" + a.out + "` and --rejects `" + a.rejects + "` are the same file: give two files";
  return std::nullopt;
}

// Opens the events: a regular file, a pipe, a socket or a terminal. Devices
// such as /dev/zero (which never end) and directories are refused.
int OpenEvents(const std::string& events, std::string& error) {
  int fd = events == "-" ? 0 : open(events.c_str(), O_RDONLY | O_CLOEXEC);
  std::string name = events == "-" ? "- (standard input)" : events;
  struct stat st {};
  if (fd < 0 || fstat(fd, &st) != 0) {
    error = "cannot open events `" + name + "`: " + std::strerror(errno);
    if (fd > 0) close(fd);
    return -1;
  }
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode) && !isatty(fd)) {
    error = "cannot read events `" + name + "`: " +
            (S_ISDIR(st.st_mode) ? std::string("it is a directory") : "it is a device, not a file, pipe or terminal");
    if (fd > 0) close(fd);
    return -1;
  }
  return fd;
}

// Parses `qm run`'s arguments into `a`; returns an exit code on a usage error.
std::optional<int> ParseRunArgs(const std::vector<std::string>& args, RunArgs& a, Lang& lang) {
  Flags flags;
  if (auto usage = SplitFlags(args,
                              {"--events", "--out", "--rejects", "--state", "--engine", "--tz", "--until", "--lang",
                               "--commit-every", "--commit-ms"},
                              {"--dump-ir"}, "run", flags))
    return Usage(*usage);
  a.rules = flags.positional;
  a.dump_ir = flags.switches.count("--dump-ir") > 0;
  for (const auto& [flag, v] : flags.values) {
    if (flag == "--events") a.events = v;
    else if (flag == "--out") a.out = v;
    else if (flag == "--rejects") a.rejects = v;
    else if (flag == "--state") a.state_dir = v;
    else if (flag == "--engine") a.engine = v;
    else if (flag == "--commit-every" || flag == "--commit-ms") {
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1) return Usage(flag + " takes a positive whole number, not `" + v + "`");
      (flag == "--commit-every" ? a.commit_every : a.commit_ms) = n;
    } else if (flag == "--lang") {
      std::optional<Lang> chosen = ParseLang(v);
      if (!chosen) return Usage("--lang takes `zh` or `en`");
      lang = *chosen;
    } else if (flag == "--tz") {
      std::optional<int> tz = ParseOffset(v);
      if (!tz) return Usage("--tz takes an offset such as `+08:00` or `Z`, not `" + v + "`");
      a.tz_minutes = *tz;
    } else {  // --until
      a.until = ParseUntil(v);
      if (!a.until) return Usage("--until takes an RFC 3339 time or epoch seconds, not `" + v + "`");
    }
  }
  if (a.rules.empty()) return Usage("run needs at least one rule file");
  if (a.events.empty() && !a.dump_ir) return Usage("run needs --events FILE (or - for standard input)");
  if (a.engine != "interp" && a.engine != "jit") return Usage("--engine takes `jit` or `interp`");
  if (a.state_dir && a.state_dir->empty()) return Usage("--state needs a directory, not an empty name");
  if (a.state_dir && (a.out.empty() || a.rejects.empty()))
    return Usage("--state needs --out and --rejects, two files: a resumed run continues them where the state left off");
  return std::nullopt;
}

// Opens the state directory for `program`, printing why when it cannot be
// continued (E0501 diagnostics, or one message); notes compatible changes.
std::unique_ptr<state::DurableStore> OpenState(const std::string& dir, const ir::Program& program, Lang lang) {
  state::DurableStore::OpenResult opened = state::DurableStore::Open(dir, program);
  for (const Diagnostic& d : opened.changes) std::fputs(RenderText(d, lang).c_str(), stderr);
  if (!opened.changes.empty()) {
    std::fprintf(stderr, "qm: these rules cannot continue the state in `%s`: %zu incompatible change%s\n", dir.c_str(),
                 opened.changes.size(), opened.changes.size() == 1 ? "" : "s");
    return nullptr;
  }
  if (!opened.store) {
    std::fprintf(stderr, "qm: %s\n", opened.error.c_str());
    return nullptr;
  }
  for (const std::string& notice : opened.notices) std::fprintf(stderr, "qm: note: %s\n", notice.c_str());
  return std::move(opened.store);
}

}  // namespace

int RunCommand(const std::vector<std::string>& args, Lang lang) {
  RunArgs a;
  if (std::optional<int> usage = ParseRunArgs(args, a, lang)) return *usage;

  auto compilation = driver::CompileFiles(a.rules);
  for (const Diagnostic& d : compilation->diags.all()) std::fputs(RenderText(d, lang).c_str(), stderr);
  if (!compilation->program) return 1;  // A45: no event is read

  if (a.dump_ir) {  // the JIT's LLVM IR, before optimization; no event is read
    std::fputs(jit::DumpIr(ir::Lower(std::move(*compilation->program))).c_str(), stdout);
    return 0;
  }

  // Before the state directory, which a first run creates, and before any output is opened.
  std::string error;
  int in = OpenEvents(a.events, error);
  if (in < 0) {
    std::fprintf(stderr, "qm: %s\n", error.c_str());
    return 1;
  }
  if (std::optional<std::string> clash = CheckOutputs(a, *compilation, in)) return Usage(*clash);
  const std::string events_name = a.events == "-" ? "- (standard input)" : a.events;

  ir::Program program = ir::Lower(std::move(*compilation->program));
  std::unique_ptr<state::Store> store;
  state::DurableStore* durable = nullptr;
  if (a.state_dir) {
    std::unique_ptr<state::DurableStore> opened = OpenState(*a.state_dir, program, lang);
    if (!opened) return 1;
    durable = opened.get();
    store = std::move(opened);
  } else {
    store = state::MakeMemoryStore(program);
  }
  const std::string state_dir = a.state_dir.value_or("");
  const std::optional<state::Checkpoint> resumed = durable != nullptr ? durable->checkpoint() : std::nullopt;
  engine::Options options{a.tz_minutes};
  if (resumed && resumed->tz_minutes != options.tz_minutes) {
    std::fprintf(stderr, "qm: the state in `%s` was written with --tz %s; give the same --tz to continue it\n",
                 state_dir.c_str(), FormatTime(0, resumed->tz_minutes).substr(19).c_str());  // `+08:00`, as --tz takes it
    return 1;
  }

  std::FILE* out = nullptr;
  std::FILE* rejects = nullptr;
  if (durable != nullptr) {
    out = OpenContinued(a.out, resumed ? resumed->actions_bytes : 0, state_dir, error);
    if (out != nullptr) rejects = OpenContinued(a.rejects, resumed ? resumed->rejects_bytes : 0, state_dir, error);
    if (rejects == nullptr) {
      std::fprintf(stderr, "qm: %s\n", error.c_str());
      return 1;
    }
  } else {
    out = a.out.empty() ? stdout : std::fopen(a.out.c_str(), "wb");
    rejects = a.rejects.empty() ? stderr : std::fopen(a.rejects.c_str(), "wb");
    if (out == nullptr || rejects == nullptr) {
      std::fprintf(stderr, "qm: cannot write `%s`: %s\n", out == nullptr ? a.out.c_str() : a.rejects.c_str(),
                   std::strerror(errno));
      return 1;
    }
  }
  const std::string out_name = a.out.empty() ? "standard output" : a.out;
  const std::string rejects_name = a.rejects.empty() ? "standard error" : a.rejects;

  std::unique_ptr<ir::Evaluator> evaluator;
  if (a.engine == "jit") {
    evaluator = jit::MakeJit(program, &error);
    if (!evaluator) {
      std::fprintf(stderr, "qm: the JIT engine failed: %s (try --engine interp)\n", error.c_str());
      return 1;
    }
  } else {
    evaluator = interp::MakeInterpreter(program);
  }
  sink::FileSink sink(out, out_name, rejects, rejects_name, stderr);
  engine::Engine engine(program, *evaluator, *store, sink, options);

  input::LineReader reader(in);
  int64_t number = 0;
  if (resumed) {
    if (auto refused = reader.Resume(*resumed, events_name)) {
      std::fprintf(stderr, "qm: %s (state `%s`)\n", refused->c_str(), state_dir.c_str());
      return 1;
    }
  }
  // Every check passed: only now is anything written (docs/state.md).
  if (durable != nullptr) {
    std::optional<std::string> failed = durable->BeginWriting();
    if (!failed) failed = CutBack(out, a.out, resumed ? resumed->actions_bytes : 0);
    if (!failed) failed = CutBack(rejects, a.rejects, resumed ? resumed->rejects_bytes : 0);
    if (failed) {
      std::fprintf(stderr, "qm: %s\n", failed->c_str());
      return 1;
    }
  }
  if (resumed) {
    number = resumed->input_lines;
    engine.Resume();
    std::fprintf(stderr, "qm run: continuing the state in `%s` after line %lld (%zu customer%s)\n",
                 state_dir.c_str(), static_cast<long long>(number), store->size(), store->size() == 1 ? "" : "s");
  }
  // Outputs reach the disk before the commit that records their lengths, so
  // a crash leaves them at least as long as the state says (docs/state.md).
  auto last_commit = std::chrono::steady_clock::now();
  int64_t uncommitted = 0;
  bool commit_failed = false;
  auto commit = [&]() -> bool {
    std::optional<std::string> failed = sink.Flush();
    for (auto [file, name] : {std::pair{out, &out_name}, {rejects, &rejects_name}})
      if (!failed && fdatasync(fileno(file)) != 0) failed = "cannot write `" + *name + "`: " + std::strerror(errno);
    // A last line without '\n' counts as complete only if the events still
    // end there now, at the commit (docs/state.md): a writer may have been
    // in the middle of it.
    if (!failed && reader.ends_mid_line() && !reader.StillEndsHere())
      failed = "events `" + events_name + "` changed while their last line, which has no newline, was read: " +
               "it is not committed; run again to continue";
    if (!failed) {
      state::Checkpoint c;
      c.input_bytes = reader.consumed();
      c.input_lines = number;
      c.input_ends_mid_line = reader.ends_mid_line();
      c.input_head_hash = reader.head_hash();
      c.input_tail_hash = reader.tail_hash();
      c.actions_bytes = ftello(out);
      c.rejects_bytes = ftello(rejects);
      c.tz_minutes = options.tz_minutes;
      failed = durable->Commit(c);
    }
    if (failed) {
      std::fprintf(stderr, "qm: %s\n", failed->c_str());
      commit_failed = true;
      return false;
    }
    uncommitted = 0;
    last_commit = std::chrono::steady_clock::now();
    return true;
  };
  if (durable != nullptr)
    reader.OnIdle(a.commit_ms, [&] {
      if (uncommitted > 0 && !commit_failed) commit();
    });

  // Live progress on a terminal, unless rejects are printed there too.
  bool progress = isatty(fileno(stderr)) && !a.rejects.empty();
  auto start = std::chrono::steady_clock::now();
  std::string_view line;
  while (!commit_failed && reader.Next(line)) {
    engine.ProcessLine(line, ++number);
    if (durable != nullptr && !reader.ends_mid_line() &&
        (++uncommitted >= a.commit_every ||
         (number % 256 == 0 && std::chrono::steady_clock::now() - last_commit >= std::chrono::milliseconds(a.commit_ms))))
      commit();
    if (progress && number % 100000 == 0) {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "\r%lld lines, %.0f events/s, %lld rejects   ", static_cast<long long>(number),
                   s > 0 ? static_cast<double>(engine.stats().events) / s : 0.0,
                   static_cast<long long>(number - engine.stats().events));
    }
  }
  if (commit_failed) return 1;
  if (progress && number >= 100000) std::fputc('\n', stderr);
  // A read error is not the end of the input: what was read is written out,
  // but nothing is committed, no timer fires for --until, and the run fails.
  if (reader.failed()) {
    if (std::optional<std::string> failed = sink.Flush()) std::fprintf(stderr, "qm: %s\n", failed->c_str());
    std::fprintf(stderr, "qm: %s (after line %lld)%s\n", reader.Error(events_name).c_str(),
                 static_cast<long long>(number),
                 durable != nullptr ? ("; the state in `" + state_dir + "` keeps its last commit").c_str() : "");
    return 1;
  }
  if (a.until) engine.FireUntil(*a.until);
  if (durable != nullptr && !commit()) return 1;
  std::optional<std::string> failed = sink.Flush();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PrintSummary(engine.stats(), seconds, stderr);
  if (in != 0) close(in);
  for (auto [file, name] : {std::pair{out, &out_name}, {rejects, &rejects_name}})
    if (file != stdout && file != stderr && std::fclose(file) != 0 && !failed)
      failed = "cannot write `" + *name + "`: " + std::strerror(errno);
  if (failed) {
    std::fprintf(stderr, "qm: %s\n", failed->c_str());
    return 1;
  }
  return 0;
}

}  // namespace qm::cli

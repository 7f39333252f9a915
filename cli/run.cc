// `qm run`: rules + JSON Lines events -> actions and rejects (LANGUAGE.md 6).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "compiler/driver/driver.h"
#include "compiler/interp/interp.h"
#include "compiler/jit/jit.h"
#include "runtime/event/decode.h"
#include "runtime/sink/sink.h"

namespace qm::cli {
namespace {

struct RunArgs {
  std::vector<std::string> rules;
  std::string events, out, rejects, state_dir, engine = "jit";
  int tz_minutes = 8 * 60;
  std::optional<int64_t> until;
  bool dump_ir = false;
};

// B8: RFC 3339 or epoch seconds as a JSON number, floored to the millisecond.
std::optional<int64_t> ParseUntil(const std::string& text) {
  if (auto t = ParseRfc3339(text)) return t;
  return event::EpochMillisFromNumber(text);
}

// Reads `in` in large blocks and hands out physical lines (A40), so a 140 MB
// stream never sits in memory at once.
class LineReader {
 public:
  explicit LineReader(std::FILE* in) : in_(in) { buffer_.resize(1 << 20); }
  bool Next(std::string_view& line) {
    for (;;) {
      const char* start = buffer_.data() + pos_;
      const char* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
      if (nl != nullptr) {
        line = std::string_view(start, nl - start);
        pos_ = nl - buffer_.data() + 1;
        return true;
      }
      if (eof_) {
        if (pos_ == end_) return false;
        line = std::string_view(start, end_ - pos_);
        pos_ = end_;
        return true;
      }
      // Move the partial line to the front and read more.
      size_t partial = end_ - pos_;
      std::memmove(buffer_.data(), start, partial);
      pos_ = 0;
      end_ = partial;
      if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
      size_t n = std::fread(buffer_.data() + end_, 1, buffer_.size() - end_, in_);
      end_ += n;
      if (n == 0) eof_ = true;
    }
  }

 private:
  std::FILE* in_;
  std::string buffer_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
};

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

}  // namespace

int RunCommand(const std::vector<std::string>& args, Lang lang) {
  RunArgs a;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    auto value = [&]() -> const std::string* { return i + 1 < args.size() ? &args[++i] : nullptr; };
    if (flag == "--events" || flag == "--out" || flag == "--rejects" || flag == "--state" || flag == "--engine" ||
        flag == "--tz" || flag == "--until" || flag == "--lang") {
      const std::string* v = value();
      if (v == nullptr) return Usage(flag + " needs a value");
      if (flag == "--events") a.events = *v;
      else if (flag == "--out") a.out = *v;
      else if (flag == "--rejects") a.rejects = *v;
      else if (flag == "--state") a.state_dir = *v;
      else if (flag == "--engine") a.engine = *v;
      else if (flag == "--lang") {
        if (*v != "zh" && *v != "en") return Usage("--lang takes `zh` or `en`");
        lang = *v == "zh" ? Lang::kZh : Lang::kEn;
      } else if (flag == "--tz") {
        std::optional<int> tz = ParseOffset(*v);
        if (!tz) return Usage("--tz takes an offset such as `+08:00` or `Z`, not `" + *v + "`");
        a.tz_minutes = *tz;
      } else {
        a.until = ParseUntil(*v);
        if (!a.until) return Usage("--until takes an RFC 3339 time or epoch seconds, not `" + *v + "`");
      }
    } else if (flag == "--dump-ir") {
      a.dump_ir = true;
    } else if (flag.size() > 1 && flag[0] == '-') {
      return Usage("unknown option `" + flag + "` for run");
    } else {
      a.rules.push_back(flag);
    }
  }
  if (a.rules.empty()) return Usage("run needs at least one rule file");
  if (a.events.empty() && !a.dump_ir) return Usage("run needs --events FILE (or - for standard input)");
  if (a.engine != "interp" && a.engine != "jit") return Usage("--engine takes `jit` or `interp`");
  if (!a.state_dir.empty()) return Usage("--state is not supported yet: state is kept in memory for the run");

  auto compilation = driver::CompileFiles(a.rules);
  for (const Diagnostic& d : compilation->diags.all()) std::fputs(RenderText(d, lang).c_str(), stderr);
  if (!compilation->program) return 1;  // A45: no event is read

  if (a.dump_ir) {  // the JIT's LLVM IR, before optimization; no event is read
    std::fputs(jit::DumpIr(ir::Lower(std::move(*compilation->program))).c_str(), stdout);
    return 0;
  }

  std::FILE* in = a.events == "-" ? stdin : std::fopen(a.events.c_str(), "rb");
  if (in == nullptr) {
    std::fprintf(stderr, "qm: cannot open events `%s`: %s\n", a.events.c_str(), std::strerror(errno));
    return 1;
  }
  std::FILE* out = a.out.empty() ? stdout : std::fopen(a.out.c_str(), "wb");
  std::FILE* rejects = a.rejects.empty() ? stderr : std::fopen(a.rejects.c_str(), "wb");
  if (out == nullptr || rejects == nullptr) {
    std::fprintf(stderr, "qm: cannot write `%s`: %s\n", out == nullptr ? a.out.c_str() : a.rejects.c_str(),
                 std::strerror(errno));
    return 1;
  }

  ir::Program program = ir::Lower(std::move(*compilation->program));
  std::unique_ptr<ir::Evaluator> evaluator;
  if (a.engine == "jit") {
    std::string error;
    evaluator = jit::MakeJit(program, &error);
    if (!evaluator) {
      std::fprintf(stderr, "qm: the JIT engine failed: %s (try --engine interp)\n", error.c_str());
      return 1;
    }
  } else {
    evaluator = interp::MakeInterpreter(program);
  }
  std::unique_ptr<state::Store> store = state::MakeMemoryStore(program);
  sink::FileSink sink(out, rejects, stderr);
  engine::Engine engine(program, *evaluator, *store, sink, engine::Options{a.tz_minutes});

  // Live progress on a terminal, unless rejects are printed there too.
  bool progress = isatty(fileno(stderr)) && !a.rejects.empty();
  auto start = std::chrono::steady_clock::now();
  LineReader reader(in);
  std::string_view line;
  int64_t number = 0;
  while (reader.Next(line)) {
    engine.ProcessLine(line, ++number);
    if (progress && number % 100000 == 0) {
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "\r%lld lines, %.0f events/s, %lld rejects   ", static_cast<long long>(number),
                   s > 0 ? static_cast<double>(engine.stats().events) / s : 0.0,
                   static_cast<long long>(number - engine.stats().events));
    }
  }
  if (progress && number >= 100000) std::fputc('\n', stderr);
  if (a.until) engine.FireUntil(*a.until);
  bool ok = sink.Flush();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  PrintSummary(engine.stats(), seconds, stderr);
  if (in != stdin) std::fclose(in);
  if (out != stdout) ok &= std::fclose(out) == 0;
  if (rejects != stderr) ok &= std::fclose(rejects) == 0;
  if (!ok) {
    std::fprintf(stderr, "qm: writing the output failed: %s\n", std::strerror(errno));
    return 1;
  }
  return 0;
}

}  // namespace qm::cli

// Allocations per event in the steady state (issue 15), counted by replacing
// the global operator new: `qm run`'s path (RunStream, one thread unless
// THREADS is given) runs the first LINES lines of a stream once, twice and
// three times, each pass a month after the one before (the same customers,
// all known after the first). Every run compiles the same rules, so the
// difference between runs is what the extra pass allocates: its events and
// the timer steps between them. (A warm-up run goes first: the process's
// one-time allocations are not the events'.)
//   allocations RULES STREAM [LINES] [THREADS]
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include "qianmian/qianmian.hpp"

namespace {

std::atomic<long long> g_allocations{0};

void* Allocate(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

// The first `lines` lines of `in`, written `passes` times, each pass with
// `"ts":` moved a month later than the one before (the reference stream
// spells ts as integer epoch seconds first on each line).
constexpr long long kMonth = 31LL * 86400;
bool Write(const std::string& in, const std::string& out, long lines, int passes) {
  std::ifstream src(in);
  std::ofstream dst(out);
  std::string line;
  std::vector<std::string> kept;
  for (long n = 0; n < lines && std::getline(src, line); ++n) kept.push_back(line);
  for (int pass = 0; pass < passes; ++pass) {
    for (const std::string& l : kept) {
      size_t at = l.find("\"ts\":");
      if (at == std::string::npos) return false;
      size_t digits = at + 5, end = digits;
      while (end < l.size() && l[end] >= '0' && l[end] <= '9') ++end;
      if (end == digits) return false;
      dst << l.substr(0, digits) << std::stoll(l.substr(digits, end - digits)) + pass * kMonth << l.substr(end) << '\n';
    }
  }
  return static_cast<bool>(dst);
}

struct Counted {
  long long allocations;
  qianmian::Stats stats;
};

bool Run(const qianmian::RuleSet& rules, const std::string& events, int threads, Counted& counted) {
  qianmian::StreamOptions options;
  options.events = events;
  options.out = "/dev/null";
  options.rejects = "/dev/null";
  options.threads = threads;
  long long before = g_allocations.load();
  qianmian::StreamResult result = qianmian::RunStream(rules, options);
  counted.allocations = g_allocations.load() - before;
  counted.stats = result.stats;
  if (!result.ok()) std::fprintf(stderr, "%s\n", result.error.c_str());
  return result.ok();
}

}  // namespace

void* operator new(std::size_t n) { return Allocate(n); }
void* operator new[](std::size_t n) { return Allocate(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: allocations RULES STREAM [LINES] [THREADS]\n");
    return 2;
  }
  long lines = argc > 3 ? std::atol(argv[3]) : 200000;
  int threads = argc > 4 ? std::atoi(argv[4]) : 1;
  const std::string once = "/tmp/qm-allocations-once.jsonl", twice = "/tmp/qm-allocations-twice.jsonl",
                    thrice = "/tmp/qm-allocations-thrice.jsonl";
  if (!Write(argv[2], once, lines, 1) || !Write(argv[2], twice, lines, 2) || !Write(argv[2], thrice, lines, 3)) {
    std::fprintf(stderr, "cannot write the streams (is `\"ts\":` an integer on every line?)\n");
    return 1;
  }
  qianmian::RuleSet rules = qianmian::RuleSet::FromFiles({argv[1]});
  if (!rules.ok()) return 1;
  // A first run pays the process's one-time allocations; a run of the
  // first pass after the measured ones shows how steady the count is.
  Counted warm, first, two, three, again;
  if (!Run(rules, once, threads, warm) || !Run(rules, once, threads, first) || !Run(rules, twice, threads, two) ||
      !Run(rules, thrice, threads, three) || !Run(rules, once, threads, again))
    return 1;
  std::printf("first pass: %ld lines, %lld customers, %lld allocations (%.2f per line, creating customers)\n", lines,
              static_cast<long long>(first.stats.customers), first.allocations,
              static_cast<double>(first.allocations) / static_cast<double>(lines));
  std::printf("the first pass again: %lld allocations (the count moves by %lld between equal runs)\n",
              again.allocations, again.allocations - first.allocations);
  // The second pass meets every customer again; its states still grow where
  // a customer does something for the first time (a first push to a group
  // adds to its push history). The third pass repeats the second: the
  // steady state.
  auto report = [](const char* what, const Counted& before, const Counted& after) {
    long long extra = after.allocations - before.allocations;
    long long events = after.stats.events - before.stats.events;
    long long timer_steps = after.stats.timer_steps - before.stats.timer_steps;
    std::printf("%s: %lld events, %lld timer steps, %lld allocations: %.4f per event\n", what, events, timer_steps, extra,
                events > 0 ? static_cast<double>(extra) / static_cast<double>(events) : 0.0);
  };
  report("second pass, every customer known", first, two);
  report("third pass, the second again a month later", two, three);
  for (const std::string* path : {&once, &twice, &thrice}) std::remove(path->c_str());
  return 0;
}

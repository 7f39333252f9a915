// Memory per customer of a durable Runner, with every customer in memory and
// with idle customers evicted (RunOptions::evict_idle): feeds an events
// file committing every 10,000 lines, and reports the resident memory after
// the last commit (not the peak), with freed memory returned to the system
// first.
//   embedding_memory RULES EVENTS STATE_DIR|- [EVICT_IDLE]
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "qianmian/qianmian.hpp"

namespace {

long ResidentKb() {
  malloc_trim(0);
  long pages = 0, resident = 0;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: embedding_memory RULES EVENTS STATE_DIR [EVICT_IDLE]\n");
    return 2;
  }
  auto rules = qianmian::RuleSet::FromFiles({argv[1]});
  if (!rules.ok()) return 1;
  qianmian::RunOptions options;
  if (std::string(argv[3]) != "-") options.state_dir = argv[3];  // "-": in memory
  if (argc > 4) options.evict_idle = argv[4];
  std::string error;
  auto runner = qianmian::Runner::Create(rules, options, [](const qianmian::Batch&) { return true; }, &error);
  if (!runner) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  long before = ResidentKb();
  std::ifstream events(argv[2]);
  long lines = 0;
  for (std::string line; std::getline(events, line);) {
    runner->Feed(line);
    if (++lines % 10000 == 0 && !options.state_dir.empty() && !runner->Commit().status.ok()) return 1;  // evictions happen at commits
  }
  if (!options.state_dir.empty() && !runner->Commit().status.ok()) return 1;
  long after = ResidentKb();
  qianmian::Stats stats = runner->stats();
  int64_t customers = stats.customers + stats.customers_evicted;
  std::printf("%lld customers (%lld in memory, %lld evicted): %ld KB resident, %.0f bytes per customer\n",
              static_cast<long long>(customers), static_cast<long long>(stats.customers),
              static_cast<long long>(stats.customers_evicted), after,
              customers > 0 ? static_cast<double>(after - before) * 1024 / static_cast<double>(customers) : 0.0);
  return 0;
}

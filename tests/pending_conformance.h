// The conformance cases whose features are not built yet
// (tests/run/pending_conformance.txt), shared by the tests that run them.
#ifndef QM_TESTS_PENDING_CONFORMANCE_H_
#define QM_TESTS_PENDING_CONFORMANCE_H_

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace qm::testing_internal {

// Conformance case name (`9101`) -> why it cannot pass yet.
inline std::map<std::string, std::string> PendingConformance() {
  std::map<std::string, std::string> pending;
  std::ifstream in(std::filesystem::path(QM_SOURCE_DIR) / "tests" / "run" / "pending_conformance.txt");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.find(' ');
    pending[line.substr(0, space)] = space == std::string::npos ? "" : line.substr(space + 1);
  }
  return pending;
}

}  // namespace qm::testing_internal

#endif  // QM_TESTS_PENDING_CONFORMANCE_H_

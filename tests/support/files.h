// Files and scratch directories for tests.
#ifndef QM_TESTS_SUPPORT_FILES_H_
#define QM_TESTS_SUPPORT_FILES_H_

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace qm::testing_internal {

namespace fs = std::filesystem;

inline std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void Write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

// A fresh directory per test (ctest runs tests in parallel), named after the
// test binary's `prefix` and `name`.
inline fs::path TempDir(const std::string& prefix, const std::string& name) {
  fs::path dir = fs::temp_directory_path() / (prefix + "_" + std::to_string(getpid()) + "_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace qm::testing_internal

#endif  // QM_TESTS_SUPPORT_FILES_H_

// LineReader::Peek: the lines it shows ahead are the lines Next hands out
// next, at the same place, whatever the buffer does in between (refills,
// lines longer than the buffer, a last line without '\n', a pipe that
// delivers lines in pieces).
#include "runtime/input/line_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <deque>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/files.h"

namespace qm {
namespace {

// Lines of every length that matters: empty, short, around the buffer's
// size (1 MiB), and a last one without '\n'.
std::vector<std::string> SomeLines(std::mt19937& rng) {
  std::vector<std::string> lines;
  for (int i = 0; i < 20000; ++i) {
    size_t length = rng() % 100 == 0 ? 200000 + rng() % 800000 : rng() % 300;
    if (rng() % 50 == 0) length = 0;
    std::string line(length, 'a' + static_cast<char>(i % 26));
    if (!line.empty()) line[0] = static_cast<char>('0' + i % 10);
    lines.push_back(std::move(line));
  }
  return lines;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string text;
  for (size_t i = 0; i < lines.size(); ++i) text += lines[i] + (i + 1 < lines.size() ? "\n" : "");
  return text;  // the last line ends without '\n'
}

// Reads `fd` with Peeks of random depth between Nexts; checks every line
// against `lines` and every peeked line against what Next hands out.
void ReadPeeking(int fd, const std::vector<std::string>& lines, std::mt19937& rng) {
  input::LineReader reader(fd);
  std::deque<std::string_view> peeked;
  std::string_view line;
  size_t n = 0, ahead = 0;
  while (reader.Next(line)) {
    ASSERT_LT(n, lines.size());
    ASSERT_EQ(line, lines[n]) << "line " << n + 1;
    if (!peeked.empty()) {
      ASSERT_EQ(peeked.front().data(), line.data()) << "line " << n + 1 << " moved after it was peeked";
      ASSERT_EQ(peeked.front().size(), line.size());
      peeked.pop_front();
    }
    ++n;
    for (int k = static_cast<int>(rng() % 4); k > 0; --k) {
      std::string_view next;
      if (!reader.Peek(next)) break;
      ASSERT_LT(n + peeked.size(), lines.size());
      ASSERT_EQ(next, lines[n + peeked.size()]) << "peeked line " << n + peeked.size() + 1;
      peeked.push_back(next);
      ++ahead;
    }
  }
  EXPECT_FALSE(reader.failed());
  EXPECT_EQ(n, lines.size());
  EXPECT_TRUE(peeked.empty());
  EXPECT_GT(ahead, lines.size() / 2);  // the test peeked, not only read
}

TEST(LineReader, PeekedLinesAreTheLinesNextHandsOutFromAFile) {
  std::mt19937 rng(7);
  std::vector<std::string> lines = SomeLines(rng);
  std::filesystem::path dir = testing_internal::TempDir("line_reader_test", "file");
  std::filesystem::path path = dir / "events.jsonl";
  testing_internal::Write(path, Joined(lines));
  int fd = open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ReadPeeking(fd, lines, rng);
  close(fd);
  std::filesystem::remove_all(dir);
}

TEST(LineReader, PeekedLinesAreTheLinesNextHandsOutFromAPipe) {
  std::mt19937 rng(11);
  std::vector<std::string> lines = SomeLines(rng);
  const std::string text = Joined(lines);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::thread writer([&, seed = rng()] {
    std::mt19937 sizes(seed);
    for (size_t at = 0; at < text.size();) {  // pieces that cut lines anywhere
      size_t n = std::min<size_t>(text.size() - at, 1 + sizes() % 70000);
      ssize_t wrote = write(fds[1], text.data() + at, n);
      if (wrote <= 0) break;
      at += static_cast<size_t>(wrote);
    }
    close(fds[1]);
  });
  ReadPeeking(fds[0], lines, rng);
  close(fds[0]);
  writer.join();
}

}  // namespace
}  // namespace qm

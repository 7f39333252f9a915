// Source text of one rule file and the UTF-8 helpers every stage shares.
#ifndef QM_COMPILER_SOURCE_SOURCE_H_
#define QM_COMPILER_SOURCE_SOURCE_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace qm {

// A half-open byte range [begin, end) into a Source's text.
struct Span {
  int32_t begin = 0;
  int32_t end = 0;
};

// 1-based line and column; the column counts code points, as editors do.
struct LineCol {
  int32_t line = 1;
  int32_t column = 1;
};

// Owns one file's text and its line starts. Spans index into text(); line and
// column are computed only when a diagnostic is rendered.
class Source {
 public:
  Source(std::string display_name, std::string text);

  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }
  LineCol Locate(int32_t offset) const;
  // The text of 1-based line `line`, without its line ending.
  std::string_view Line(int32_t line) const;
  int32_t line_count() const { return static_cast<int32_t>(line_starts_.size()); }

 private:
  std::string name_;
  std::string text_;
  std::vector<int32_t> line_starts_;
};

// 64-bit FNV-1a (from offset 1469598103934665603, a digit short of FNV's
// basis, and kept so): the one hash of bytes that must not change across
// builds and platforms (rule set fingerprints, the identity of a durable
// run's input: state outlives binaries).
uint64_t StableHash(std::string_view bytes);
// 32-bit FNV-1a, as stable: which shard, and with NATS which partition, a
// customer id belongs to (its hash mod their count).
uint32_t StableHash32(std::string_view bytes);

// The n < 8 bytes at p in the low bytes of a word, the rest zero, read with
// two loads that overlap rather than a call to memcpy of n bytes (names and
// ids are short: this is on every key of every line).
inline uint64_t LoadShort(const char* p, size_t n) {
  if (n >= 4) {
    uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    return lo | (uint64_t{hi} << (8 * (n - 4)));
  }
  if (n >= 2) {
    uint16_t lo, hi;
    std::memcpy(&lo, p, 2);
    std::memcpy(&hi, p + n - 2, 2);
    return lo | (uint64_t{hi} << (8 * (n - 2)));
  }
  return n == 1 ? static_cast<unsigned char>(p[0]) : 0;
}

// a == b, with short texts compared in words instead of through memcmp.
inline bool SameBytes(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  if (n > 16) return std::memcmp(a.data(), b.data(), n) == 0;
  if (n < 8) return LoadShort(a.data(), n) == LoadShort(b.data(), n);
  uint64_t a0, a1, b0, b1;
  std::memcpy(&a0, a.data(), 8);
  std::memcpy(&b0, b.data(), 8);
  std::memcpy(&a1, a.data() + n - 8, 8);
  std::memcpy(&b1, b.data() + n - 8, 8);
  return a0 == b0 && a1 == b1;
}

// The hash of in-memory tables (the customer table, the decoder's names):
// every byte, eight at a time, so ids that differ anywhere spread. Never
// stored: it may change between builds.
inline uint64_t TableHash(std::string_view bytes) {
  constexpr uint64_t kMul = 0x9E3779B97F4A7C15ULL;
  uint64_t h = bytes.size() * kMul;
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes.data() + i, 8);
    h = (h ^ word) * kMul;
    h ^= h >> 29;
  }
  if (i < bytes.size()) h = (h ^ LoadShort(bytes.data() + i, bytes.size() - i)) * kMul;
  h ^= h >> 32;
  h *= 0xC2B2AE3D27D4EB4FULL;
  return h ^ (h >> 29);
}

namespace utf8 {

// Byte offset of the first invalid UTF-8 sequence, or -1 when all is valid.
// Overlong forms, surrogates and code points above U+10FFFF are invalid.
int64_t FirstInvalid(std::string_view text);
// The text with every invalid byte replaced by U+FFFD, for display.
std::string Sanitize(std::string_view text);
// Decodes valid UTF-8 into code points.
std::u32string Decode(std::string_view text);
void Append(std::string& out, char32_t cp);
// Terminal columns of a code point: 2 for East Asian wide and full-width
// characters, 0 for combining marks, 1 otherwise.
int DisplayWidth(char32_t cp);
int DisplayWidth(std::string_view text);
// Levenshtein distance over code points, so 复购 vs 复购客户 is 2, not 6.
int EditDistance(std::u32string_view a, std::u32string_view b);

}  // namespace utf8
}  // namespace qm

#endif  // QM_COMPILER_SOURCE_SOURCE_H_

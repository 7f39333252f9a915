// What a JSON string holds as it is: the one definition that both the event
// reader (runtime/event) and every JSON writer (AppendJsonString) scan with.
#ifndef QM_COMPILER_SOURCE_JSON_TEXT_H_
#define QM_COMPILER_SOURCE_JSON_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "compiler/source/source.h"

namespace qm::json {

namespace detail {
inline constexpr uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
// The high bit of each byte of `x` that is zero (exact for the first one).
inline uint64_t ZeroBytes(uint64_t x) { return (x - kOnes) & ~x & kHighs; }
// The high bit of each byte of `x` that ends a plain run (exact for the first one).
inline uint64_t Stops(uint64_t x) {
  return ZeroBytes(x ^ (kOnes * '"')) | ZeroBytes(x ^ (kOnes * '\\')) | ((x - kOnes * 0x20) & ~x & kHighs);
}
// The run of the eight bytes in `x` up to its first stop.
inline size_t Run(uint64_t x, uint64_t stops, bool& high) {
  const size_t at = static_cast<size_t>(__builtin_ctzll(stops)) / 8;
  high |= (x & kHighs & ((uint64_t{1} << (8 * at)) - 1)) != 0;  // only before the stop
  return at;
}
}  // namespace detail

// The length of the run of `s` from `i` that a JSON string holds as it is:
// up to a quote, a backslash or a control character. `high` is set when a
// byte of the run is not ASCII (a reader must then check it as UTF-8).
// Sixteen bytes at a time where SSE2 is (every x86-64), else eight; the
// last few as one word.
[[gnu::always_inline]] inline size_t PlainRun(std::string_view s, size_t i, bool& high) {
  using detail::kHighs;
  const size_t start = i;
#ifdef __SSE2__
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), below_space = _mm_set1_epi8(0x1F);
  for (; i + 16 <= s.size(); i += 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(x, below_space), below_space);  // x <= 0x1F, unsigned
    __m128i stops = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, backslash)), control);
    unsigned stop = static_cast<unsigned>(_mm_movemask_epi8(stops));
    unsigned highs = static_cast<unsigned>(_mm_movemask_epi8(x));  // bytes with the high bit set
    if (stop != 0) {
      unsigned at = static_cast<unsigned>(__builtin_ctz(stop));
      high |= (highs & ((1u << at) - 1)) != 0;  // only before the stop: a key is not checked for its value
      return i + at - start;
    }
    high |= highs != 0;
  }
#endif
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    if (const uint64_t stops = detail::Stops(x)) return i + detail::Run(x, stops, high) - start;
    high |= (x & kHighs) != 0;
  }
  // Fewer than eight left: one word of them, whose zero bytes past the end
  // (control characters) stop the run there.
  if (i < s.size()) {
    const uint64_t x = LoadShort(s.data() + i, s.size() - i);
    return i + detail::Run(x, detail::Stops(x), high) - start;
  }
  return i - start;
}

}  // namespace qm::json

#endif  // QM_COMPILER_SOURCE_JSON_TEXT_H_

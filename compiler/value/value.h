// Exact values shared by the checker and the runtime: decimals read from
// their text, money in cents, instants in milliseconds, and their spellings.
#ifndef QM_COMPILER_VALUE_VALUE_H_
#define QM_COMPILER_VALUE_VALUE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace qm {

// An exact decimal, units / 10^scale. Literals have at most 36 digits, so
// units always fits.
struct Decimal {
  __int128 units = 0;
  int32_t scale = 0;
};

// Parses `-?[0-9]+(\.[0-9]+)?` with at most 36 digits.
std::optional<Decimal> ParseDecimal(std::string_view text);
// -1, 0, 1 as a <=> b, exactly.
int CompareDecimal(const Decimal& a, const Decimal& b);
// The value in cents when it has at most 2 decimals (trailing zeros allowed)
// and fits int64.
std::optional<int64_t> DecimalToCents(const Decimal& d);
// The value as int64 when it is integral and fits.
std::optional<int64_t> DecimalToInt(const Decimal& d);
Decimal CentsToDecimal(int64_t cents);
Decimal IntToDecimal(int64_t v);

// RFC 3339 as in SEMANTICS.md A39, floored to the millisecond; nullopt when
// malformed or outside 0001-01-02T00:00:00Z .. 9999-12-30T23:59:59.999Z.
std::optional<int64_t> ParseRfc3339(std::string_view text);
// `YYYY-MM-DDTHH:MM:SS[.mmm]±HH:MM` at `offset_minutes` (A39).
std::string FormatTime(int64_t epoch_ms, int offset_minutes);
// `+08:00`, `-05:30` or `Z` -> minutes.
std::optional<int> ParseOffset(std::string_view text);
// A duration in the largest unit that divides it: `90m`, `3h`, `7d`, `0s` (A42).
std::string FormatDuration(int64_t ms);
// Money with exactly 2 decimals: `199.00`, `-5.50` (A42).
std::string FormatMoney(int64_t cents);

}  // namespace qm

#endif  // QM_COMPILER_VALUE_VALUE_H_

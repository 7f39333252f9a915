// Exact values shared by the checker and the runtime: decimals read from
// their text, money in cents, instants in milliseconds, and their spellings.
#ifndef QM_COMPILER_VALUE_VALUE_H_
#define QM_COMPILER_VALUE_VALUE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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
void AppendTime(std::string& out, int64_t epoch_ms, int offset_minutes);
// Local calendar time in a fixed zone (D1, D2). Times are epoch ms; the zone
// is minutes east of UTC. Times near the int64 bounds saturate.
enum class ClockPart : uint8_t { kHour, kWeekday, kDay, kMonth };
// The names rules write: `hour`, `weekday`, `day`, `month`.
std::string_view NameOf(ClockPart part);
std::optional<ClockPart> ClockPartNamed(std::string_view name);
// hour 0-23, weekday 1 (Monday)-7, day 1-31, month 1-12 (D1).
int64_t ClockOf(ClockPart part, int64_t epoch_ms, int zone_minutes);
enum class Period : uint8_t { kDay, kWeek, kMonth, kQuarter, kYear };
// `day`, `week`, `month`, `quarter`, `year` (as in `within this month`).
std::string_view NameOf(Period period);
std::optional<Period> PeriodNamed(std::string_view name);
// The start (00:00 local) of the period that holds `epoch_ms`; weeks start on
// Monday, quarters in January, April, July and October (D2).
int64_t PeriodStart(Period period, int64_t epoch_ms, int zone_minutes);
// Minutes since local midnight, 0-1439 (D5).
int MinuteOfDay(int64_t epoch_ms, int zone_minutes);
// The first instant after `epoch_ms` whose local time of day is `minute_of_day`
// (D5: where a deferred action is due).
int64_t NextTimeOfDay(int64_t epoch_ms, int minute_of_day, int zone_minutes);
// `+08:00`, `-05:30` or `Z` -> minutes.
std::optional<int> ParseOffset(std::string_view text);
// A duration literal (A3, D3): parts `<digits><d|h|m|s>` in strictly
// decreasing unit order, each unit at most once and at most 10^9 of it, the
// total at most 10^9 days: `90m`, `1d12h`. No sign. nullopt otherwise.
// Rule files, event fields (A37, E3) and `--lateness` all read durations here.
std::optional<int64_t> ParseDuration(std::string_view text);
// A duration in the largest unit that divides it: `90m`, `3h`, `7d`, `0s` (A42).
std::string FormatDuration(int64_t ms);
// Money with exactly 2 decimals: `199.00`, `-5.50` (A42).
std::string FormatMoney(int64_t cents);
// A double as ECMAScript's Number#toString: shortest round trip, `1e+21`,
// `1e-7`, `-0` as `0`; non-finite as `null` (A42).
std::string FormatNumber(double d);

// A value as rules see it during one step. Text is a view into storage that
// outlives the step (the event record, the profile or the program).
enum class ValueKind : uint8_t {
  kUnset, kInt, kMoney, kNumber, kBool, kText, kTime, kDuration, kEnum,
  kDecimal,  // a numeric literal: *decimal, exact
  kRatio,    // avg over int or money: i / j exactly (j counts cents for money)
};

struct Value {
  ValueKind kind = ValueKind::kUnset;
  int64_t i = 0;        // int, cents, epoch ms, duration ms, enum member, bool, ratio numerator
  int64_t j = 1;        // ratio denominator
  double d = 0;         // number
  std::string_view text;
  const Decimal* decimal = nullptr;

  bool unset() const { return kind == ValueKind::kUnset; }
  static Value Int(int64_t v) { return {ValueKind::kInt, v}; }
  static Value Money(int64_t cents) { return {ValueKind::kMoney, cents}; }
  static Value Number(double v) { Value x{ValueKind::kNumber}; x.d = v; return x; }
  static Value Bool(bool v) { return {ValueKind::kBool, v ? 1 : 0}; }
  static Value Text(std::string_view v) { Value x{ValueKind::kText}; x.text = v; return x; }
  static Value Time(int64_t ms) { return {ValueKind::kTime, ms}; }
  static Value Duration(int64_t ms) { return {ValueKind::kDuration, ms}; }
  static Value Enum(int64_t member) { return {ValueKind::kEnum, member}; }
};

// A stored value: like Value, but owning its text, and in 48 bytes: a
// number keeps its double where the other kinds keep their integer. What a
// customer's profile holds (runtime/state), and what generated code reads in
// place (StepView::ProfileFields).
struct Stored {
  std::string text;
  union {
    int64_t i = 0;
    double d;  // kNumber only
  };
  ValueKind kind = ValueKind::kUnset;

  Value view() const {
    Value v{kind};
    if (kind == ValueKind::kNumber) v.d = d;
    else v.i = i;
    if (kind == ValueKind::kText) v.text = text;
    return v;
  }
  static Stored Of(const Value& v) {
    Stored s;
    s.kind = v.kind;
    if (v.kind == ValueKind::kNumber) s.d = v.d;
    else s.i = v.i;
    if (v.kind == ValueKind::kText) s.text = std::string(v.text);
    return s;
  }
};
static_assert(sizeof(Stored) == 48);

// Orders two set values of comparable kinds (A15, A16): -1, 0 or 1, exact
// for int, money, decimals and ratios; as doubles when either side is a
// number. kNoOrder when they do not order (an unset side, NaN). An int, not
// an optional: GCC returns std::optional<int> through the stack, and reading
// it back stalled every comparison.
inline constexpr int kNoOrder = -2;
int Order(const Value& a, const Value& b);
// The same, nullopt for kNoOrder.
inline std::optional<int> CompareValues(const Value& a, const Value& b) {
  const int order = Order(a, b);
  if (order == kNoOrder) return std::nullopt;
  return order;
}
// Whether a field changed (A21, A22, A29): unset equals only unset, and a
// NaN number (inf - inf through `add`) equals only NaN, so a NaN field stays
// the same value instead of "changing" on every step (docs/runtime.md).
bool ValuesEqual(const Value& a, const Value& b);
// The nearest double of a numeric value (A15).
double ToDouble(const Value& v);

// Appends `s` to `out` as a JSON string literal.
void AppendJsonString(std::string& out, std::string_view s);
// A value as A42 spells it in output JSON (`199.00`, `"已购"`, `null`), times
// at `tz_minutes`; an enum member by its name in `enum_members`. The one
// spelling of values in actions, `qm state show` and the explanations.
std::string FormatJsonValue(const Value& v, const std::vector<std::string>& enum_members, int tz_minutes);
void AppendJsonValue(std::string& out, const Value& v, const std::vector<std::string>& enum_members, int tz_minutes);
// The same spelling without JSON quoting, as placeholders print values (D6,
// E5): text as is, unset as the empty string, a non-finite number as `null`.
std::string FormatPlainValue(const Value& v, const std::vector<std::string>& enum_members, int tz_minutes);
void AppendPlainValue(std::string& out, const Value& v, const std::vector<std::string>& enum_members, int tz_minutes);

}  // namespace qm

#endif  // QM_COMPILER_VALUE_VALUE_H_

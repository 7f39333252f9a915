#include "compiler/value/value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "compiler/source/json_text.h"

namespace qm {
namespace {

__int128 Pow10(int n) {
  __int128 p = 1;
  while (n-- > 0) p *= 10;
  return p;
}

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

constexpr int64_t kDayMs = 86'400'000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// Local ms for a zone, saturated at the int64 bounds.
int64_t Local(int64_t epoch_ms, int zone_minutes) {
  int64_t local;
  if (__builtin_add_overflow(epoch_ms, static_cast<int64_t>(zone_minutes) * 60'000, &local))
    local = epoch_ms < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  return local;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int Digits(std::string_view s, size_t at, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; ++i) v = v * 10 + (s[at + i] - '0');
  return v;
}

bool AllDigits(std::string_view s, size_t at, size_t n) {
  if (at + n > s.size()) return false;
  for (size_t i = 0; i < n; ++i) if (!IsDigit(s[at + i])) return false;
  return true;
}

}  // namespace

std::optional<Decimal> ParseDecimal(std::string_view text) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && text[i] == '-') { negative = true; ++i; }
  Decimal d;
  int digits = 0;
  size_t start = i;
  while (i < text.size() && IsDigit(text[i])) { d.units = d.units * 10 + (text[i] - '0'); ++i; ++digits; }
  if (i == start) return std::nullopt;
  if (i < text.size() && text[i] == '.') {
    ++i;
    size_t frac = i;
    while (i < text.size() && IsDigit(text[i])) { d.units = d.units * 10 + (text[i] - '0'); ++i; ++digits; ++d.scale; }
    if (i == frac) return std::nullopt;
  }
  if (i != text.size() || digits > 36) return std::nullopt;
  if (negative) d.units = -d.units;
  return d;
}

int CompareDecimal(const Decimal& a, const Decimal& b) {
  // Align scales; both have at most 36 digits, but aligning can overflow, so
  // compare integer parts first.
  __int128 pa = Pow10(a.scale), pb = Pow10(b.scale);
  __int128 ia = a.units / pa, ib = b.units / pb;
  if (ia != ib) return ia < ib ? -1 : 1;
  __int128 fa = a.units % pa, fb = b.units % pb;  // same sign as units
  int scale = std::max(a.scale, b.scale);
  fa *= Pow10(scale - a.scale);
  fb *= Pow10(scale - b.scale);
  return fa < fb ? -1 : (fa > fb ? 1 : 0);
}

std::optional<int64_t> DecimalToCents(const Decimal& d) {
  __int128 units = d.units;
  int scale = d.scale;
  while (scale > 2) {
    if (units % 10 != 0) return std::nullopt;
    units /= 10;
    --scale;
  }
  units *= Pow10(2 - scale);
  if (units > std::numeric_limits<int64_t>::max() || units < std::numeric_limits<int64_t>::min())
    return std::nullopt;
  return static_cast<int64_t>(units);
}

std::optional<int64_t> DecimalToInt(const Decimal& d) {
  __int128 p = Pow10(d.scale);
  if (d.units % p != 0) return std::nullopt;
  __int128 v = d.units / p;
  if (v > std::numeric_limits<int64_t>::max() || v < std::numeric_limits<int64_t>::min())
    return std::nullopt;
  return static_cast<int64_t>(v);
}

Decimal CentsToDecimal(int64_t cents) { return Decimal{cents, 2}; }
Decimal IntToDecimal(int64_t v) { return Decimal{v, 0}; }

std::optional<int> ParseOffset(std::string_view s) {
  if (s == "Z" || s == "z") return 0;
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !AllDigits(s, 1, 2) ||
      !AllDigits(s, 4, 2))
    return std::nullopt;
  int h = Digits(s, 1, 2), m = Digits(s, 4, 2);
  if (h > 23 || m > 59) return std::nullopt;
  int v = h * 60 + m;
  return s[0] == '-' ? -v : v;
}

std::optional<int64_t> ParseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
  if (s.size() < 20 || !AllDigits(s, 0, 4) || s[4] != '-' || !AllDigits(s, 5, 2) || s[7] != '-' ||
      !AllDigits(s, 8, 2) || (s[10] != 'T' && s[10] != 't') || !AllDigits(s, 11, 2) ||
      s[13] != ':' || !AllDigits(s, 14, 2) || s[16] != ':' || !AllDigits(s, 17, 2))
    return std::nullopt;
  int year = Digits(s, 0, 4), month = Digits(s, 5, 2), day = Digits(s, 8, 2);
  int hour = Digits(s, 11, 2), minute = Digits(s, 14, 2), second = Digits(s, 17, 2);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int month_days = kDays[month - 1] + (month == 2 && leap);
  if (day > month_days) return std::nullopt;
  size_t i = 19;
  int64_t millis = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    int taken = 0;
    while (i < s.size() && IsDigit(s[i])) {
      if (taken < 3) { millis = millis * 10 + (s[i] - '0'); ++taken; }
      ++i;
    }
    if (i == start) return std::nullopt;
    while (taken < 3) { millis *= 10; ++taken; }
  }
  std::optional<int> offset = ParseOffset(s.substr(i));
  if (!offset) return std::nullopt;
  int64_t days = DaysFromCivil(year, month, day);
  int64_t ms = ((days * 24 + hour) * 60 + minute) * 60'000 + second * 1000LL + millis -
               static_cast<int64_t>(*offset) * 60'000;
  static const int64_t kMin = DaysFromCivil(1, 1, 2) * 86'400'000LL;
  static const int64_t kMax = DaysFromCivil(9999, 12, 30) * 86'400'000LL + 86'399'999LL;
  if (ms < kMin || ms > kMax) return std::nullopt;
  return ms;
}

namespace {
constexpr std::string_view kClockNames[] = {"hour", "weekday", "day", "month"};
constexpr std::string_view kPeriodNames[] = {"day", "week", "month", "quarter", "year"};
}  // namespace

std::string_view NameOf(ClockPart part) { return kClockNames[static_cast<int>(part)]; }
std::optional<ClockPart> ClockPartNamed(std::string_view name) {
  for (size_t i = 0; i < std::size(kClockNames); ++i)
    if (kClockNames[i] == name) return static_cast<ClockPart>(i);
  return std::nullopt;
}
std::string_view NameOf(Period period) { return kPeriodNames[static_cast<int>(period)]; }
std::optional<Period> PeriodNamed(std::string_view name) {
  for (size_t i = 0; i < std::size(kPeriodNames); ++i)
    if (kPeriodNames[i] == name) return static_cast<Period>(i);
  return std::nullopt;
}

int64_t ClockOf(ClockPart part, int64_t epoch_ms, int zone_minutes) {
  int64_t local = Local(epoch_ms, zone_minutes);
  int64_t days = FloorDiv(local, kDayMs);
  switch (part) {
    case ClockPart::kHour: return (local - days * kDayMs) / 3'600'000;
    case ClockPart::kWeekday: return days + 3 - FloorDiv(days + 3, 7) * 7 + 1;  // 1970-01-01 was a Thursday (4)
    case ClockPart::kDay: case ClockPart::kMonth: {
      int64_t y;
      unsigned m, d;
      CivilFromDays(days, y, m, d);
      return part == ClockPart::kDay ? d : m;
    }
  }
  return 0;
}

int64_t PeriodStart(Period period, int64_t epoch_ms, int zone_minutes) {
  int64_t days = FloorDiv(Local(epoch_ms, zone_minutes), kDayMs);
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  int64_t start = days;
  switch (period) {
    case Period::kDay: break;
    case Period::kWeek: start = days - (ClockOf(ClockPart::kWeekday, epoch_ms, zone_minutes) - 1); break;
    case Period::kMonth: start = DaysFromCivil(y, m, 1); break;
    case Period::kQuarter: start = DaysFromCivil(y, (m - 1) / 3 * 3 + 1, 1); break;
    case Period::kYear: start = DaysFromCivil(y, 1, 1); break;
  }
  int64_t local_start;
  if (__builtin_mul_overflow(start, kDayMs, &local_start)) return std::numeric_limits<int64_t>::min();
  int64_t utc;
  if (__builtin_sub_overflow(local_start, static_cast<int64_t>(zone_minutes) * 60'000, &utc))
    return std::numeric_limits<int64_t>::min();
  return utc;
}

int MinuteOfDay(int64_t epoch_ms, int zone_minutes) {
  int64_t local = Local(epoch_ms, zone_minutes);
  return static_cast<int>((local - FloorDiv(local, kDayMs) * kDayMs) / 60'000);
}

int64_t NextTimeOfDay(int64_t epoch_ms, int minute_of_day, int zone_minutes) {
  int64_t local = Local(epoch_ms, zone_minutes);
  int64_t day_start = FloorDiv(local, kDayMs) * kDayMs;
  int64_t at = day_start + static_cast<int64_t>(minute_of_day) * 60'000;
  if (at <= local) at += kDayMs;
  return at - static_cast<int64_t>(zone_minutes) * 60'000;
}

void AppendTime(std::string& out, int64_t epoch_ms, int offset_minutes) {
  // Saturated: a hostile state record may hold any int64 (`qm state show`).
  const int64_t local = Local(epoch_ms, offset_minutes);
  const int64_t second = FloorDiv(local, 1000);
  const int ms = static_cast<int>(local - second * 1000);
  // Written by hand: this runs for every output line, and snprintf showed in profiles.
  char buf[40];
  char* p = buf;
  auto put = [&](uint32_t v, int width) {  // 32-bit: every part fits, and its divisions are cheaper
    for (int k = width - 1; k >= 0; --k) {
      p[k] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
    p += width;
  };
  // Consecutive output lines mostly carry the same second, and nearly always
  // fall on the same day: the text of the last second and of the last day a
  // thread wrote (years 0-9999: 19 and 11 bytes) are kept.
  constexpr size_t kDayBytes = 11, kSecondBytes = 19;
  static thread_local struct {
    // Never a day's or a second's: those are within int64 / 1000.
    int64_t days = std::numeric_limits<int64_t>::min(), second = std::numeric_limits<int64_t>::min();
    char text[kSecondBytes];  // the day's in the first kDayBytes
  } last;
  if (second == last.second) {
    std::memcpy(p, last.text, kSecondBytes);
    p += kSecondBytes;
  } else {
    const int64_t days = FloorDiv(local, kDayMs);
    if (days == last.days) {
      std::memcpy(p, last.text, kDayBytes);
      p += kDayBytes;
    } else {
      int64_t y;
      unsigned m, d;
      CivilFromDays(days, y, m, d);
      if (y >= 0 && y <= 9999) {
        put(static_cast<uint32_t>(y), 4);
      } else {  // only in state (far timers); ISO 8601's expanded years, as ECMAScript writes them
        *p++ = y < 0 ? '-' : '+';
        const uint32_t abs_y = static_cast<uint32_t>(y < 0 ? -y : y);  // int64 ms span under 300M years
        int digits = 6;
        for (uint32_t v = abs_y / 1'000'000; v > 0; v /= 10) ++digits;
        put(abs_y, digits);
      }
      *p++ = '-';
      put(m, 2);
      *p++ = '-';
      put(d, 2);
      *p++ = 'T';
    }
    const auto second_of_day = static_cast<uint32_t>(second - days * 86'400);
    put(second_of_day / 3600, 2);
    *p++ = ':';
    put(second_of_day / 60 % 60, 2);
    *p++ = ':';
    put(second_of_day % 60, 2);
    if (p - buf == kSecondBytes) {
      last.days = days;
      last.second = second;
      std::memcpy(last.text, buf, kSecondBytes);
    }
  }
  if (ms != 0) {
    *p++ = '.';
    put(static_cast<uint32_t>(ms), 3);
  }
  const auto off = static_cast<uint32_t>(offset_minutes < 0 ? -offset_minutes : offset_minutes);
  *p++ = offset_minutes < 0 ? '-' : '+';
  put(off / 60, 2);
  *p++ = ':';
  put(off % 60, 2);
  out.append(buf, p);
}

std::string FormatTime(int64_t epoch_ms, int offset_minutes) {
  std::string out;
  AppendTime(out, epoch_ms, offset_minutes);
  return out;
}

std::optional<int64_t> ParseDuration(std::string_view text) {
  static constexpr std::string_view kUnits = "dhms";
  static constexpr int64_t kUnitMs[] = {86'400'000, 3'600'000, 60'000, 1000};
  static constexpr int64_t kMaxPart = 1'000'000'000;
  if (text.empty()) return std::nullopt;
  int64_t total = 0;
  size_t next_unit = 0;  // units must strictly decrease
  size_t i = 0;
  while (i < text.size()) {
    int64_t part = 0;
    size_t digits = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
      part = part * 10 + (text[i] - '0');
      if (part > kMaxPart) return std::nullopt;
    }
    if (digits == 0 || i == text.size()) return std::nullopt;
    size_t unit = kUnits.find(text[i++]);
    if (unit == std::string_view::npos || unit < next_unit) return std::nullopt;
    next_unit = unit + 1;
    total += part * kUnitMs[unit];
  }
  if (total > kMaxPart * kUnitMs[0]) return std::nullopt;
  return total;
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0s";
  if (ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

namespace {

void AppendInt(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 24 bytes hold any int64
  out.append(buf, end);
}

void AppendMoney(std::string& out, int64_t cents) {
  bool negative = cents < 0;
  unsigned long long abs = negative ? 0ULL - static_cast<unsigned long long>(cents)
                                    : static_cast<unsigned long long>(cents);
  char buf[32];
  char* p = buf;
  if (negative) *p++ = '-';
  p = std::to_chars(p, buf + sizeof buf, abs / 100).ptr;
  *p++ = '.';
  *p++ = static_cast<char>('0' + abs % 100 / 10);
  *p++ = static_cast<char>('0' + abs % 10);
  out.append(buf, p);
}

}  // namespace

std::string FormatMoney(int64_t cents) {
  std::string out;
  AppendMoney(out, cents);
  return out;
}

std::string FormatNumber(double d) {
  if (!std::isfinite(d)) return "null";
  if (d == 0) return "0";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  (void)ec;
  std::string sci(buf, end);  // -d.ddde+XX, shortest round trip
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exponent = std::atoi(sci.c_str() + e + 1);
  int k = static_cast<int>(digits.size());
  int n = exponent + 1;  // the decimal point sits after n digits
  std::string out = negative ? "-" : "";
  if (k <= n && n <= 21) {
    out += digits + std::string(n - k, '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, n) + "." + digits.substr(n);
  } else if (-6 < n && n <= 0) {
    out += "0." + std::string(-n, '0') + digits;
  } else {
    out += digits.substr(0, 1);
    if (k > 1) out += "." + digits.substr(1);
    out += (n - 1 >= 0 ? "e+" : "e-") + std::to_string(std::abs(n - 1));
  }
  return out;
}

namespace {

// a/b <=> c/d exactly, b and d positive, without overflow (Euclid).
int CompareFractions(__int128 a, __int128 b, __int128 c, __int128 d) {
  // One denominator (decimals of one scale, averages over as many): the
  // numerators order them, without the divisions below (calls into libgcc).
  if (b == d) return a < c ? -1 : (a > c ? 1 : 0);
  for (int guard = 0; guard < 200; ++guard) {
    __int128 qa = a / b, qc = c / d;
    __int128 ra = a % b, rc = c % d;
    if (ra < 0) { --qa; ra += b; }  // floor division
    if (rc < 0) { --qc; rc += d; }
    if (qa != qc) return qa < qc ? -1 : 1;
    if (ra == 0 || rc == 0) return ra == rc ? 0 : (ra == 0 ? -1 : 1);
    // ra/b <=> rc/d  is  d/rc <=> b/ra
    a = d; c = b;
    b = rc; d = ra;
  }
  return 0;
}

struct Fraction {
  __int128 num;
  __int128 den;
};

Fraction FractionOf(const Value& v) {
  switch (v.kind) {
    case ValueKind::kMoney: return {v.i, 100};
    case ValueKind::kRatio: return {v.i, v.j};
    case ValueKind::kDecimal: {
      __int128 p = 1;
      for (int k = 0; k < v.decimal->scale; ++k) p *= 10;
      return {v.decimal->units, p};
    }
    default: return {v.i, 1};
  }
}

bool IsNumericKind(ValueKind k) {
  return k == ValueKind::kInt || k == ValueKind::kMoney || k == ValueKind::kNumber ||
         k == ValueKind::kDecimal || k == ValueKind::kRatio;
}

}  // namespace

double ToDouble(const Value& v) {
  switch (v.kind) {
    case ValueKind::kNumber: return v.d;
    case ValueKind::kInt: return static_cast<double>(v.i);
    case ValueKind::kMoney: {
      // cents / 100.0 is correctly rounded while cents is exact in a double.
      if (v.i > -(1LL << 53) && v.i < (1LL << 53)) return static_cast<double>(v.i) / 100.0;
      return std::strtod(FormatMoney(v.i).c_str(), nullptr);
    }
    case ValueKind::kRatio: return static_cast<double>(static_cast<long double>(v.i) / static_cast<long double>(v.j));
    case ValueKind::kDecimal: {
      Fraction f = FractionOf(v);
      return static_cast<double>(static_cast<long double>(f.num) / static_cast<long double>(f.den));
    }
    default: return 0;
  }
}

namespace {

// Two numeric values of which at least one is a number, a ratio or a
// decimal, or which differ in kind. Out of line, so Order stays lean.
[[gnu::noinline]] int OrderNumeric(const Value& a, const Value& b) {
  if (a.kind == ValueKind::kNumber || b.kind == ValueKind::kNumber) {
    double x = ToDouble(a), y = ToDouble(b);
    if (std::isnan(x) || std::isnan(y)) return kNoOrder;
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  Fraction x = FractionOf(a), y = FractionOf(b);
  return CompareFractions(x.num, x.den, y.num, y.den);
}

}  // namespace

int Order(const Value& a, const Value& b) {
  if (a.unset() || b.unset()) return kNoOrder;
  if (IsNumericKind(a.kind) && IsNumericKind(b.kind)) {
    // Int with int, money with money: one denominator, so the integers
    // order them (most comparisons in rules, and the cheapest).
    if (a.kind == b.kind && (a.kind == ValueKind::kInt || a.kind == ValueKind::kMoney))
      return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
    return OrderNumeric(a, b);
  }
  if (a.kind == ValueKind::kText) {
    int order = a.text.compare(b.text);  // byte order, which is code point order
    return order < 0 ? -1 : (order > 0 ? 1 : 0);
  }
  return a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
}

bool ValuesEqual(const Value& a, const Value& b) {
  if (a.unset() || b.unset()) return a.unset() && b.unset();
  auto is_nan = [](const Value& v) { return v.kind == ValueKind::kNumber && std::isnan(v.d); };
  if (is_nan(a) || is_nan(b)) return is_nan(a) && is_nan(b);
  return Order(a, b) == 0;
}

void AppendJsonString(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0;;) {
    bool high = false;  // a writer has nothing to check
    const size_t plain = json::PlainRun(s, i, high);
    out.append(s.data() + i, plain);
    i += plain;
    if (i == s.size()) break;
    const unsigned char c = static_cast<unsigned char>(s[i++]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out += '"';
}

void AppendPlainValue(std::string& out, const Value& v, const std::vector<std::string>& enum_members,
                      int tz_minutes) {
  switch (v.kind) {
    case ValueKind::kUnset: return;
    case ValueKind::kInt: return AppendInt(out, v.i);
    case ValueKind::kMoney: return AppendMoney(out, v.i);
    case ValueKind::kNumber: out += FormatNumber(v.d); return;
    case ValueKind::kBool: out += v.i ? "true" : "false"; return;
    case ValueKind::kText: out += v.text; return;
    case ValueKind::kTime: return AppendTime(out, v.i, tz_minutes);
    case ValueKind::kDuration: out += FormatDuration(v.i); return;
    case ValueKind::kEnum:
      if (v.i >= 0 && static_cast<uint64_t>(v.i) < enum_members.size()) out += enum_members[v.i];
      return;
    case ValueKind::kDecimal:
    case ValueKind::kRatio: return;  // literals and averages are never stored or printed
  }
}

std::string FormatPlainValue(const Value& v, const std::vector<std::string>& enum_members, int tz_minutes) {
  std::string out;
  AppendPlainValue(out, v, enum_members, tz_minutes);
  return out;
}

void AppendJsonValue(std::string& out, const Value& v, const std::vector<std::string>& enum_members,
                     int tz_minutes) {
  switch (v.kind) {
    case ValueKind::kText: return AppendJsonString(out, v.text);
    case ValueKind::kEnum:
      if (v.i < 0 || static_cast<uint64_t>(v.i) >= enum_members.size()) break;
      return AppendJsonString(out, enum_members[v.i]);
    case ValueKind::kTime:  // no character of a time or duration needs escaping
    case ValueKind::kDuration:
      out += '"';
      AppendPlainValue(out, v, enum_members, tz_minutes);
      out += '"';
      return;
    case ValueKind::kUnset: case ValueKind::kDecimal: case ValueKind::kRatio: break;
    case ValueKind::kInt: case ValueKind::kMoney: case ValueKind::kNumber: case ValueKind::kBool:
      return AppendPlainValue(out, v, enum_members, tz_minutes);  // `null` for a non-finite number
  }
  out += "null";
}

std::string FormatJsonValue(const Value& v, const std::vector<std::string>& enum_members, int tz_minutes) {
  std::string out;
  AppendJsonValue(out, v, enum_members, tz_minutes);
  return out;
}

}  // namespace qm

#include "compiler/value/value.h"

#include <random>

#include "gtest/gtest.h"

namespace qm {
namespace {

TEST(Decimal, ParsesExactly) {
  auto d = ParseDecimal("199.90");
  ASSERT_TRUE(d);
  EXPECT_EQ(DecimalToCents(*d), 19990);
  EXPECT_FALSE(ParseDecimal("1."));
  EXPECT_FALSE(ParseDecimal(".5"));
  EXPECT_FALSE(ParseDecimal("1e5"));
  EXPECT_FALSE(DecimalToCents(*ParseDecimal("1.005")));
  EXPECT_EQ(DecimalToCents(*ParseDecimal("1.000")), 100);
  EXPECT_EQ(DecimalToInt(*ParseDecimal("-42")), -42);
  EXPECT_FALSE(DecimalToInt(*ParseDecimal("9223372036854775808")));
}

TEST(Decimal, ComparesAcrossScales) {
  // A15: avg(...) > 99.995 is exact, so 99.995 is not 100.00 and not 99.99.
  EXPECT_LT(CompareDecimal(*ParseDecimal("99.99"), *ParseDecimal("99.995")), 0);
  EXPECT_GT(CompareDecimal(*ParseDecimal("100"), *ParseDecimal("99.995")), 0);
  EXPECT_EQ(CompareDecimal(*ParseDecimal("1.50"), *ParseDecimal("1.5")), 0);
  EXPECT_LT(CompareDecimal(*ParseDecimal("-0.5"), *ParseDecimal("0")), 0);
  EXPECT_LT(CompareDecimal(*ParseDecimal("-1.25"), *ParseDecimal("-1.2")), 0);
}

TEST(Time, ParsesRfc3339AsA39) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339("2024-11-11T10:00:00+08:00"), 1731290400000);
  EXPECT_EQ(ParseRfc3339("2024-11-11t02:00:00.1239z"), 1731290400123);  // floored
  EXPECT_FALSE(ParseRfc3339("2024-11-11 10:00:00+08:00"));  // space
  EXPECT_FALSE(ParseRfc3339("2024-11-11T10:00:00"));        // no offset
  EXPECT_FALSE(ParseRfc3339("2024-11-11T24:00:00Z"));       // hour 24
  EXPECT_FALSE(ParseRfc3339("2024-11-11T10:00:60Z"));       // second 60
  EXPECT_FALSE(ParseRfc3339("2023-02-29T00:00:00Z"));       // no such date
  EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("0001-01-01T23:59:59Z"));       // before the range
  EXPECT_TRUE(ParseRfc3339("0001-01-02T00:00:00Z"));
  EXPECT_FALSE(ParseRfc3339("9999-12-31T00:00:00Z"));       // after the range
}

TEST(Time, FormatsInTheGivenZone) {
  EXPECT_EQ(FormatTime(1731290400000, 480), "2024-11-11T10:00:00+08:00");
  EXPECT_EQ(FormatTime(1731290400123, 0), "2024-11-11T02:00:00.123+00:00");
  EXPECT_EQ(FormatTime(-1, 0), "1969-12-31T23:59:59.999+00:00");
  EXPECT_EQ(FormatTime(0, -330), "1969-12-31T18:30:00-05:30");
  EXPECT_EQ(ParseOffset("+08:00"), 480);
  EXPECT_EQ(ParseOffset("Z"), 0);
  EXPECT_FALSE(ParseOffset("Asia/Shanghai"));
}

// AppendTime keeps the text of the last second it wrote: instants in the same
// second (other milliseconds, other zones giving the same local second),
// neighbouring seconds and days, far years between them, each read back by
// the RFC 3339 parser, an independent path.
TEST(Time, FormatsEachInstantWhateverCameBefore) {
  std::mt19937_64 rng(3);
  const int64_t base = 1731290400000;
  const int zones[] = {0, 480, -330, 60, 840, -720};
  int read_back = 0;
  for (int n = 0; n < 20000; ++n) {
    int64_t ms = base + static_cast<int64_t>(rng() % 5) * 1000 + static_cast<int64_t>(rng() % 3) * 86'400'000 +
                 (rng() % 2 ? static_cast<int64_t>(rng() % 1000) : 0);
    if (rng() % 3 == 0) ms = -62135510400000 + static_cast<int64_t>(rng() % 1'000'000'000'000'000);  // years 1 to ~33,000
    int zone = zones[rng() % 6];
    std::string text = FormatTime(ms, zone);
    if (text[0] == '+') continue;  // past year 9999: not RFC 3339
    ASSERT_EQ(ParseRfc3339(text), ms) << text;
    ++read_back;
  }
  EXPECT_GT(read_back, 10000);
  std::string out;
  AppendTime(out, 0, 60);     // 01:00:00 local
  AppendTime(out, 3'600'000, 0);  // the same local second, another instant and zone
  EXPECT_EQ(out, "1970-01-01T01:00:00+01:001970-01-01T01:00:00+00:00");
}

TEST(Durations, ParseTheLiteralGrammar) {  // A3, D3, E3
  EXPECT_EQ(ParseDuration("90m"), 90 * 60'000);
  EXPECT_EQ(ParseDuration("1d12h"), 36 * 3'600'000LL);
  EXPECT_EQ(ParseDuration("1h0m30s"), 3'630'000);
  EXPECT_EQ(ParseDuration("1000000000d"), 1'000'000'000LL * 86'400'000);
  EXPECT_FALSE(ParseDuration("12h1d"));
  EXPECT_FALSE(ParseDuration("1d1d"));
  EXPECT_FALSE(ParseDuration("1000000000d1s"));  // more than 10^9 days in all
  EXPECT_FALSE(ParseDuration("1000000001s"));
  EXPECT_FALSE(ParseDuration("-1d"));
  EXPECT_FALSE(ParseDuration("1d "));
  EXPECT_FALSE(ParseDuration("d"));
  EXPECT_FALSE(ParseDuration(""));
  EXPECT_FALSE(ParseDuration("1D"));
}

TEST(Clock, LocalPartsInTheRuleZone) {  // D1
  int64_t t = *ParseRfc3339("2024-12-31T23:30:00+08:00");  // a Tuesday
  EXPECT_EQ(ClockOf(ClockPart::kHour, t, 480), 23);
  EXPECT_EQ(ClockOf(ClockPart::kWeekday, t, 480), 2);
  EXPECT_EQ(ClockOf(ClockPart::kDay, t, 480), 31);
  EXPECT_EQ(ClockOf(ClockPart::kMonth, t, 480), 12);
  EXPECT_EQ(ClockOf(ClockPart::kHour, t, 0), 15);  // the same instant in UTC
  EXPECT_EQ(ClockOf(ClockPart::kHour, t, 540), 0);  // +09:00: already January
  EXPECT_EQ(ClockOf(ClockPart::kMonth, t, 540), 1);
  EXPECT_EQ(ClockOf(ClockPart::kWeekday, t, 540), 3);
  int64_t sunday = *ParseRfc3339("1969-12-28T12:00:00Z");  // before the epoch
  EXPECT_EQ(ClockOf(ClockPart::kWeekday, sunday, 0), 7);
  EXPECT_EQ(ClockOf(ClockPart::kHour, sunday, -300), 7);
}

TEST(Clock, PeriodStartsAtLocalMidnight) {  // D2
  int64_t t = *ParseRfc3339("2024-08-15T03:00:00+08:00");  // a Thursday
  EXPECT_EQ(PeriodStart(Period::kDay, t, 480), *ParseRfc3339("2024-08-15T00:00:00+08:00"));
  EXPECT_EQ(PeriodStart(Period::kWeek, t, 480), *ParseRfc3339("2024-08-12T00:00:00+08:00"));
  EXPECT_EQ(PeriodStart(Period::kMonth, t, 480), *ParseRfc3339("2024-08-01T00:00:00+08:00"));
  EXPECT_EQ(PeriodStart(Period::kQuarter, t, 480), *ParseRfc3339("2024-07-01T00:00:00+08:00"));
  EXPECT_EQ(PeriodStart(Period::kYear, t, 480), *ParseRfc3339("2024-01-01T00:00:00+08:00"));
  // In UTC the same instant is still the 14th.
  EXPECT_EQ(PeriodStart(Period::kDay, t, 0), *ParseRfc3339("2024-08-14T00:00:00Z"));
  int64_t monday = *ParseRfc3339("2024-08-12T00:00:00+08:00");
  EXPECT_EQ(PeriodStart(Period::kWeek, monday, 480), monday);
}

TEST(Clock, NextTimeOfDayIsStrictlyLater) {  // D5
  int64_t t = *ParseRfc3339("2024-08-15T23:00:00+08:00");
  EXPECT_EQ(NextTimeOfDay(t, 8 * 60, 480), *ParseRfc3339("2024-08-16T08:00:00+08:00"));
  int64_t at8 = *ParseRfc3339("2024-08-16T08:00:00+08:00");
  EXPECT_EQ(NextTimeOfDay(at8, 8 * 60, 480), *ParseRfc3339("2024-08-17T08:00:00+08:00"));
  EXPECT_EQ(NextTimeOfDay(at8 - 1, 8 * 60, 480), at8);
}

TEST(Spelling, DurationsAndMoney) {
  EXPECT_EQ(FormatDuration(90 * 60'000), "90m");
  EXPECT_EQ(FormatDuration(3 * 3'600'000), "3h");
  EXPECT_EQ(FormatDuration(7 * 86'400'000LL), "7d");
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatMoney(19900), "199.00");
  EXPECT_EQ(FormatMoney(-550), "-5.50");
  EXPECT_EQ(FormatMoney(0), "0.00");
  EXPECT_EQ(FormatMoney(INT64_MIN), "-92233720368547758.08");
}

}  // namespace
}  // namespace qm

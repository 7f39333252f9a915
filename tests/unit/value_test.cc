#include "compiler/value/value.h"

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

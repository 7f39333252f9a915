#include "compiler/source/source.h"

#include <cstdint>
#include <string>

#include "gtest/gtest.h"

namespace qm {
namespace {

TEST(Source, LocatesLinesAndCodePointColumns) {
  Source s("a.qm", "ab\n阶段 x\r\nlast");
  EXPECT_EQ(s.line_count(), 3);
  EXPECT_EQ(s.Locate(0).line, 1);
  LineCol x = s.Locate(static_cast<int32_t>(std::string("ab\n阶段 ").size()));
  EXPECT_EQ(x.line, 2);
  EXPECT_EQ(x.column, 4);  // 阶, 段, space, then x
  EXPECT_EQ(s.Line(2), "阶段 x");  // without \r
  EXPECT_EQ(s.Line(3), "last");
  EXPECT_EQ(s.Line(9), "");
}

// Both hashes outlive binaries (fingerprints and input identities in state
// directories, shards and partitions), so their values are pinned. The 32-bit
// one is FNV-1a exactly (its published values); the 64-bit one has always
// started from 1469598103934665603, a digit short of FNV's offset basis.
TEST(StableHash, ValuesNeverChange) {
  EXPECT_EQ(StableHash(""), 1469598103934665603ULL);
  EXPECT_EQ(StableHash("a"), 4953267810257967366ULL);
  EXPECT_EQ(StableHash("foobar"), 9870438755804841970ULL);
  EXPECT_EQ(StableHash32(""), 0x811c9dc5u);
  EXPECT_EQ(StableHash32("a"), 0xe40c292cu);
  EXPECT_EQ(StableHash32("foobar"), 0xbf9cf968u);
}

TEST(Utf8, FindsTheFirstInvalidByte) {
  EXPECT_EQ(utf8::FirstInvalid("plain 中文"), -1);
  EXPECT_EQ(utf8::FirstInvalid("ab\xff"), 2);
  EXPECT_EQ(utf8::FirstInvalid("\xc0\xaf"), 0);            // overlong
  EXPECT_EQ(utf8::FirstInvalid("x\xed\xa0\x80"), 1);       // surrogate
  EXPECT_EQ(utf8::FirstInvalid("\xf4\x90\x80\x80"), 0);    // above U+10FFFF
  EXPECT_EQ(utf8::FirstInvalid("\xe4\xb8"), 0);            // truncated
  EXPECT_EQ(utf8::Sanitize("a\xffz"), "a\uFFFDz");
}

// Every three bytes from E0 to EF, alone and after a character: valid
// exactly when Unicode says so (continuations, no overlong form, no
// surrogate), whichever path FirstInvalid takes.
TEST(Utf8, EveryThreeByteSequenceIsJudgedAsUnicodeSays) {
  for (unsigned lead = 0xE0; lead <= 0xEF; ++lead) {
    for (unsigned b1 = 0; b1 < 256; ++b1) {
      for (unsigned b2 = 0; b2 < 256; ++b2) {
        const uint32_t cp = ((lead & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (b2 & 0x3F);
        const bool valid = (b1 & 0xC0) == 0x80 && (b2 & 0xC0) == 0x80 && cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF);
        const std::string bytes{static_cast<char>(lead), static_cast<char>(b1), static_cast<char>(b2)};
        ASSERT_EQ(utf8::FirstInvalid(bytes), valid ? -1 : 0) << lead << " " << b1 << " " << b2;
        ASSERT_EQ(utf8::FirstInvalid("中" + bytes + "a"), valid ? -1 : 3) << lead << " " << b1 << " " << b2;
      }
    }
  }
}

TEST(Utf8, DisplayWidthCountsWideCharactersTwice) {
  EXPECT_EQ(utf8::DisplayWidth("abc"), 3);
  EXPECT_EQ(utf8::DisplayWidth("复购"), 4);
  EXPECT_EQ(utf8::DisplayWidth("（"), 2);
  EXPECT_EQ(utf8::DisplayWidth("e\u0301"), 1);  // combining accent
}

TEST(Utf8, EditDistanceIsOverCodePoints) {
  EXPECT_EQ(utf8::EditDistance(U"复购客户", U"复购"), 2);
  EXPECT_EQ(utf8::EditDistance(U"ordr", U"order"), 1);
  EXPECT_EQ(utf8::EditDistance(U"", U"abc"), 3);
  EXPECT_EQ(utf8::EditDistance(U"已购", U"已购"), 0);
}

TEST(Utf8, DecodeAndAppendRoundTrip) {
  std::string text = "a中😀";
  std::string back;
  for (char32_t cp : utf8::Decode(text)) utf8::Append(back, cp);
  EXPECT_EQ(back, text);
  EXPECT_EQ(utf8::Decode(text).size(), 3u);
}

}  // namespace
}  // namespace qm

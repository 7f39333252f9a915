// The event decoder on its own (A37-A40): exact numbers, every reject reason.
#include "runtime/event/decode.h"

#include <random>

#include "compiler/program/program.h"
#include "gtest/gtest.h"

namespace qm {
namespace {

class DecodeTest : public testing::Test {
 protected:
  void SetUp() override {
    Compiled c = CompileText("t.qm",
                                 "enum 等级 { S, A }\n"
                                 "event e { i: int, m: money, n: number, b: bool, t: text, g: 等级, at: time, d: duration }\n"
                                 "rule r: when e then push p\n");
    ASSERT_TRUE(c.program);
    program_ = c.program;
    decoder_ = std::make_unique<event::Decoder>(program_->ir());
  }
  // "" when accepted, else "reason" or "reason/field". The line is kept
  // until the next one: the event's texts view it.
  std::string Decode(const std::string& line) {
    line_ = line;
    event::Reject reject;
    if (decoder_->Decode(line_, event_, reject)) return "";
    return std::string(reject.reason) + (reject.field.empty() ? "" : "/" + reject.field);
  }
  std::shared_ptr<const Program> program_;
  std::unique_ptr<event::Decoder> decoder_;
  std::string line_;
  event::Event event_;
};

TEST_F(DecodeTest, ReadsNumbersExactly) {
  ASSERT_EQ(Decode(R"({"type":"e","customer":"c","ts":1.0019,"i":5e2,"m":"007.50","n":0.1,"d":"90m"})"), "");
  EXPECT_EQ(event_.ts, 1001);  // floored to the millisecond (A39)
  EXPECT_EQ(event_.fields[0].i, 500);
  EXPECT_EQ(event_.fields[1].i, 750);
  EXPECT_EQ(event_.fields[2].d, 0.1);
  EXPECT_EQ(event_.fields[7].i, 90 * 60'000);
  ASSERT_EQ(Decode(R"({"type":"e","customer":"c","ts":-0.0005,"m":199.9,"i":-0})"), "");
  EXPECT_EQ(event_.ts, -1);
  EXPECT_EQ(event_.fields[1].i, 19990);
  ASSERT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"m":"92233720368547758.07"})"), "");
  EXPECT_EQ(event_.fields[1].i, INT64_MAX);
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"m":"92233720368547758.08"})"), "wrong_type/m");  // B7
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"m":"1.005"})"), "wrong_type/m");
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"m":"199.000"})"), "");
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"m":"\u0031\u0039\u0039"})"), "");
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"i":9223372036854775808})"), "wrong_type/i");
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"n":1e400})"), "wrong_type/n");
  // A37: durations are whole seconds (or a duration string).
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"d":1.5})"), "wrong_type/d");
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"d":-1})"), "wrong_type/d");
  ASSERT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"d":60.0})"), "");
  EXPECT_EQ(event_.fields[7].i, 60'000);
  // E3: a string uses the literal grammar, compound parts included.
  ASSERT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"d":"1d12h"})"), "");
  EXPECT_EQ(event_.fields[7].i, 36 * 3'600'000LL);
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"d":"12h1d"})"), "wrong_type/d");
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"d":"-1h"})"), "wrong_type/d");
}

// Plain numbers (`-?D+(.D+)?`, most of them) take a path that allocates
// nothing; the same value written with an exponent takes the general one:
// both must agree on every value, scale, overflow and fraction.
TEST(Numbers, PlainAndExponentSpellingsAgree) {
  std::mt19937_64 rng(42);
  int checked = 0;
  for (int n = 0; n < 20000; ++n) {
    std::string digits, fraction;
    int whole = 1 + static_cast<int>(rng() % 20), part = static_cast<int>(rng() % 6);
    for (int k = 0; k < whole; ++k) digits += static_cast<char>('0' + (k == 0 && rng() % 3 ? 1 + rng() % 9 : rng() % 10));
    for (int k = 0; k < part; ++k) fraction += static_cast<char>('0' + rng() % 10);
    const std::string sign = rng() % 3 == 0 ? "-" : "";
    const std::string plain = sign + digits + (part > 0 ? "." + fraction : "");
    const std::string exponent = sign + digits + fraction + "e-" + std::to_string(part);
    for (int scale = 0; scale <= 3; ++scale)
      ASSERT_EQ(event::ScaledFromNumber(plain, scale), event::ScaledFromNumber(exponent, scale)) << plain << " " << scale;
    ASSERT_EQ(event::EpochMillisFromNumber(plain), event::EpochMillisFromNumber(exponent)) << plain;
    ++checked;
  }
  EXPECT_EQ(event::ScaledFromNumber("12.34", 2), 1234);
  EXPECT_EQ(event::ScaledFromNumber("-0.5", 2), -50);
  EXPECT_EQ(event::ScaledFromNumber("1.005", 2), std::nullopt);
  EXPECT_EQ(event::ScaledFromNumber("999999999999999999", 2), std::nullopt);  // 18 digits, times 100: past int64
  EXPECT_EQ(event::ScaledFromNumber("1.", 0), std::nullopt);
  EXPECT_EQ(event::ScaledFromNumber(".5", 1), std::nullopt);
  EXPECT_EQ(event::ScaledFromNumber("-", 0), std::nullopt);
  EXPECT_EQ(event::EpochMillisFromNumber("1717171201"), 1717171201000);
  EXPECT_GT(checked, 0);
}

TEST_F(DecodeTest, RejectsInTheOrderOfA38) {
  EXPECT_EQ(Decode("{\"type\":\"e\",\"customer\":\"c\xff\",\"ts\":1}"), "invalid_json");
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":NaN})"), "invalid_json");
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"x":"\udc00"})"), "invalid_json");
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"x":[1,{"y":[}]})"), "invalid_json");
  EXPECT_EQ(Decode(R"("just a string")"), "not_object");
  EXPECT_EQ(Decode(R"({"ts":1,"ts":2})"), "duplicate_field/ts");
  EXPECT_EQ(Decode(R"({"customer":"c","ts":1})"), "missing_field/type");
  EXPECT_EQ(Decode(R"({"type":"e","customer":null,"ts":1})"), "missing_field/customer");
  EXPECT_EQ(Decode(R"({"type":["e"],"customer":"c","ts":1})"), "wrong_type/type");
  EXPECT_EQ(Decode(R"({"type":"E","customer":"c","ts":1})"), "unknown_type/type");
  EXPECT_EQ(Decode(R"({"type":"e","customer":"","ts":1})"), "wrong_type/customer");
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":"2024-01-01T00:00:00"})"), "wrong_type/ts");
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"g":"B","b":1})"), "wrong_type/b");  // declaration order
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"at":"2024-02-29T12:00:00+08:00","unknown":NaN})"),
            "invalid_json");
  EXPECT_EQ(Decode(R"({"type":"e","customer":"c","ts":1,"at":"2024-02-29T12:00:00+08:00","unknown":[]})"), "");
}

// Keys and texts are views into the line unless they hold escapes; UTF-8 is
// checked inside strings, the only place a byte that is not ASCII can be
// valid (A38 check 1). Lengths around the eight-byte steps of the scan.
TEST_F(DecodeTest, TextsAreReadWithAndWithoutEscapes) {
  ASSERT_EQ(Decode(R"({"ty\u0070e":"e","customer":"c\"1","ts":1,"t":"a\\b\u4e2d文\/"})"), "");
  EXPECT_EQ(event_.customer, "c\"1");
  EXPECT_EQ(event_.fields[4].text, "a\\b中文/");
  EXPECT_EQ(Decode(R"({"ts":1,"t\u0073":2})"), "duplicate_field/ts");  // A38 check 3, keys as decoded
  // The first key that appears a second time, whether the rules read it or not.
  EXPECT_EQ(Decode(R"({"zz":1,"ts":1,"zz":2,"ts":2})"), "duplicate_field/zz");
  EXPECT_EQ(Decode(R"({"ts":1,"zz":1,"ts":2,"zz":2})"), "duplicate_field/ts");
  EXPECT_EQ(Decode(R"({"i":1,"zz":1,"yy":1,"yy":2,"i":2})"), "duplicate_field/yy");
  EXPECT_EQ(Decode(R"({"zz":1,"yy":1,"i":1,"zy":1,"i":2,"yy":2})"), "duplicate_field/i");
  EXPECT_EQ(Decode("{\"type\":\"e\",\"customer\":\"c\",\"ts\":1,\"x\":[\"\xff\"]}"), "invalid_json");
  EXPECT_EQ(Decode("{\"type\":\"e\",\"customer\":\"c\",\"ts\":1,\"t\":\"a\\n\xed\xa0\x80\"}"), "invalid_json");
  EXPECT_EQ(Decode("{\"type\":\"e\",\"customer\":\"c\",\"ts\":1}\xe4\xb8\xad"), "invalid_json");
  EXPECT_EQ(Decode("{\"type\":\"e\",\"customer\":\"c\",\"ts\":1,\"i\":\xe4\xb8\xad}"), "invalid_json");
  EXPECT_EQ(Decode("{\"type\":\"e\",\"customer\":\"c\",\"ts\":1,\"t\":\"a\x01z\"}"), "invalid_json");
  for (int n = 0; n < 20; ++n) {
    std::string plain(n, 'x'), chinese;
    for (int k = 0; k < n; ++k) chinese += "中";
    for (const std::string& body : {plain, chinese, plain + "\\\"" + plain, plain + "\\u00e9"}) {
      SCOPED_TRACE(body);
      ASSERT_EQ(Decode("{\"type\":\"e\",\"customer\":\"" + body + "c\",\"ts\":1,\"t\":\"" + body + "\"}"), "");
      std::string want = body;
      if (size_t q = want.find("\\\""); q != std::string::npos) want.replace(q, 2, "\"");
      if (size_t u = want.find("\\u00e9"); u != std::string::npos) want.replace(u, 6, "é");
      EXPECT_EQ(event_.customer, want + "c");
      EXPECT_EQ(event_.fields[4].text, want);
      EXPECT_EQ(Decode("{\"type\":\"e\",\"customer\":\"c\",\"ts\":1,\"t\":\"" + body + "\xc0\"}"), "invalid_json");
    }
  }
}

// Strings are scanned 16 and 8 bytes at a time (runtime/event/json.cc,
// PlainRun): what ends a string, what makes it invalid and what is plain
// text, at every offset across those widths, in values and in keys (A38).
TEST_F(DecodeTest, StringsEndAndFailAtEveryOffset) {
  const std::string head = "{\"type\":\"e\",\"customer\":\"c\",\"ts\":1,";
  for (int n = 0; n <= 40; ++n) {
    const std::string pad(n, 'x');
    SCOPED_TRACE(n);
    for (const char* bad : {"\x01", "\x1f", "\t", "\xff", "\xc0\x80", "\xed\xa0\x80"}) {
      EXPECT_EQ(Decode(head + "\"t\":\"" + pad + bad + "y\"}"), "invalid_json") << pad + bad;
      EXPECT_EQ(Decode(head + "\"" + pad + bad + "\":1}"), "invalid_json") << pad + bad;
    }
    for (const std::string plain : {" ", "\x7f", "é", "中", "/"}) {
      ASSERT_EQ(Decode(head + "\"t\":\"" + pad + plain + "y\",\"" + pad + plain + "\":1}"), "") << pad + plain;
      EXPECT_EQ(event_.fields[4].text, pad + plain + "y");
    }
    // A quote ends the text where it stands; what follows must be JSON.
    ASSERT_EQ(Decode(head + "\"t\":\"" + pad + "\",\"zz\":\"中\"}"), "");
    EXPECT_EQ(event_.fields[4].text, pad);
    EXPECT_EQ(Decode(head + "\"t\":\"" + pad + "\"y\"}"), "invalid_json");
  }
}

TEST(Number, FormatsLikeEcmaScript) {  // A42
  EXPECT_EQ(FormatNumber(100), "100");
  EXPECT_EQ(FormatNumber(0.1), "0.1");
  EXPECT_EQ(FormatNumber(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatNumber(1e21), "1e+21");
  EXPECT_EQ(FormatNumber(1e20), "100000000000000000000");
  EXPECT_EQ(FormatNumber(1e-7), "1e-7");
  EXPECT_EQ(FormatNumber(0.000001), "0.000001");
  EXPECT_EQ(FormatNumber(-0.0), "0");
  EXPECT_EQ(FormatNumber(-2.5), "-2.5");
  EXPECT_EQ(FormatNumber(1.5e300), "1.5e+300");
}

}  // namespace
}  // namespace qm

namespace qm {
namespace {

// Past 16 keys the decoder sorts them (A38 check 3 stays "the first key that
// appears a second time"); both ways must find the same fields.
TEST_F(DecodeTest, ManyKeysAreReadAsFewKeys) {
  for (int extra : {0, 3, 13, 14, 40, 2000}) {
    std::string line = R"({"ts":1,"g":"A","zz":1)";
    for (int k = 0; k < extra; ++k) line += ",\"x" + std::to_string(k) + "\":[" + std::to_string(k) + "]";
    line += R"(,"i":7,"type":"e","m":"1.50","customer":"c9"})";
    ASSERT_EQ(Decode(line), "") << extra;
    EXPECT_EQ(event_.customer, "c9");
    EXPECT_EQ(event_.fields[0].i, 7);
    EXPECT_EQ(event_.fields[1].i, 150);
    EXPECT_EQ(event_.fields[5].i, 1);  // `A`
    EXPECT_TRUE(event_.fields[2].unset());
    // `x1` (when there is one) appears a second time before `zz` does: it is reported.
    std::string twice = line.substr(0, line.size() - 1) + R"(,"x1":3,"zz":2})";
    EXPECT_EQ(Decode(twice), extra > 1 ? "duplicate_field/x1" : "duplicate_field/zz") << extra;
  }
}

TEST_F(DecodeTest, RejectsNameTheCustomerOnlyAfterCheck7) {  // D8, E10
  event::Reject reject;
  ASSERT_FALSE(decoder_->Decode(R"({"type":"e","customer":"客户","ts":1,"g":""})", event_, reject));
  EXPECT_EQ(reject.reason, "unknown_member");
  EXPECT_EQ(reject.customer, "客户");
  ASSERT_FALSE(decoder_->Decode(R"({"type":"e","customer":"c","ts":1,"g":1})", event_, reject));
  EXPECT_EQ(reject.reason, "wrong_type");
  ASSERT_FALSE(decoder_->Decode(R"({"type":"e","customer":"","ts":1})", event_, reject));
  EXPECT_EQ(reject.customer, "");
  ASSERT_FALSE(decoder_->Decode(R"({"type":"f","customer":"c","ts":1})", event_, reject));
  EXPECT_EQ(reject.customer, "");
}

}  // namespace
}  // namespace qm

namespace qm {
namespace {

// The decoder guesses each key's name from the lines before (by position,
// per event type), the type and enum members likewise: a guess must never
// change an answer. Lines of random key orders, types (known, unknown, not
// strings), members, unknown and repeated keys are decoded by one decoder
// and each by a fresh one, and must agree.
TEST(DecodeHints, EarlierLinesNeverChangeAnAnswer) {
  Compiled c = CompileText("h.qm",
                           "enum 等级 { 金, 银, 铜 }\n"
                           "event view { city: text, g: 等级, n: int }\n"
                           "event order { amount: money, g: 等级, city: text }\n"
                           "event ping { }\n"
                           "rule r: when order then push p\n");
  ASSERT_TRUE(c.program);
  event::Decoder kept(c.program->ir());
  auto describe = [](bool ok, const event::Event& e, const event::Reject& r) {
    if (!ok) return std::string(r.reason) + "/" + r.field + "/" + std::string(r.customer);
    std::string s = std::to_string(e.type) + " " + e.customer + " " + std::to_string(e.ts);
    for (const Value& v : e.fields)
      s += " " + std::to_string(static_cast<int>(v.kind)) + ":" + std::to_string(v.i) + ":" + std::string(v.text);
    return s;
  };
  const std::vector<std::string> types = {R"("view")", R"("order")", R"("ping")", R"("views")", R"("")", "1"};
  const std::vector<std::pair<std::string, std::vector<std::string>>> keys = {
      {"ts", {"1", "2.5", R"("x")"}},
      {"customer", {R"("c1")", R"("客户2")", R"("")"}},
      {"city", {R"("上海")", R"("x")", "null", "3"}},
      {"g", {R"("金")", R"("银")", R"("铜")", R"("锡")", R"("金金")"}},
      {"n", {"1", "-2", R"("1")"}},
      {"amount", {"1.5", R"("2.25")", "true"}},
      {"t", {"1"}},
      {"types", {R"("view")"}},
      {"cit", {"0"}}};
  std::mt19937 rng(11);
  int accepted = 0, rejected = 0;
  for (int n = 0; n < 20000; ++n) {
    std::vector<std::string> members = {R"("type":)" + types[rng() % 8 < 6 ? rng() % 2 : rng() % types.size()]};
    for (const auto& [key, values] : keys)
      if (rng() % 4 != 0) members.push_back("\"" + key + "\":" + values[rng() % values.size()]);
    if (rng() % 50 == 0) members.push_back(members[rng() % members.size()]);  // a repeated key
    // Mostly one order per type, as a stream's lines are; sometimes shuffled.
    if (rng() % 5 == 0) std::shuffle(members.begin(), members.end(), rng);
    std::string line = "{";
    for (size_t m = 0; m < members.size(); ++m) line += (m ? "," : "") + members[m];
    line += "}";
    event::Event e1, e2;
    event::Reject r1, r2;
    bool ok1 = kept.Decode(line, e1, r1);
    event::Decoder fresh(c.program->ir());
    bool ok2 = fresh.Decode(line, e2, r2);
    ASSERT_EQ(describe(ok1, e1, r1), describe(ok2, e2, r2)) << line;
    (ok1 ? accepted : rejected)++;
  }
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(rejected, 1000);
}

}  // namespace
}  // namespace qm

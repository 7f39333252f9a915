// A seeded generator of valid rule files and event streams that mixes every
// feature of the language (all triggers, conditions, aggregates with where and
// within, since, every action kind, after/unless, every value type, unset and
// malformed values, out-of-order and late events; v0.2: the rule zone, clock
// functions, calendar windows, compound durations, caps, quiet hours,
// placeholders, `unless … where`, count(distinct …), quoted tag names and
// --lateness; part 2: identity keys whose merges chain over two keys, merge
// policies and `when merged`; segments with ties, refreshed at timers'
// instants), for differential tests.
#ifndef QM_TESTS_DIFF_GENERATOR_H_
#define QM_TESTS_DIFF_GENERATOR_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace qm::difftest {

struct Case {
  std::string rules;
  std::vector<std::string> lines;
  bool until = false;
  int64_t until_ms = 0;
  int64_t lateness_ms = 0;  // D9
};

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  Case Make() {
    Case c;
    c.rules = kSchema;
    c.rules += Delivery();
    identity_ = Pick(2) == 0;  // D11, D12: two keys, so chains merge
    if (identity_) {
      c.rules += "identity k1, k2\n";
      static const char* const kPolicies[] = {"", " merge max", " merge min", " merge keep", " merge sum"};
      for (const char* field : {"  pi: int = 0", "  pm: money", "  pg: 阶段 = 甲", "  pat: time"}) {
        size_t at = c.rules.find(std::string(field) + "\n");
        bool adds = field[2] == 'p' && (field[3] == 'i' || field[3] == 'm');  // `sum` is for numbers (E15)
        if (at != std::string::npos) c.rules.insert(at + std::string(field).size(), kPolicies[Pick(adds ? 5 : 4)]);
      }
    }
    segments_ = Pick(2) ? 0 : 1 + Pick(2);
    for (int g = 0; g < segments_; ++g) c.rules += Segment(g);
    int rules = 3 + Pick(12);
    for (int r = 0; r < rules; ++r) c.rules += Rule(r);
    int64_t ts = 1'704'067'200'000;  // 2024-01-01
    int lines = 20 + Pick(80);
    for (int i = 0; i < lines; ++i) {
      ts += Pick(4) == 0 ? 0 : Pick(3) * 3'600'000 + Pick(1000) * 1000;
      // On the hour now and then: where refreshes and timers fall together.
      if (Pick(4) == 0) ts += (3'600'000 - ts % 3'600'000) % 3'600'000;
      int64_t at = Pick(10) == 0 ? ts - Pick(5) * 3'600'000 : ts;  // some late
      c.lines.push_back(Event(at));
    }
    c.until = Pick(2) == 0;
    c.until_ms = ts + Pick(72) * 3'600'000;
    if (Pick(3) == 0) c.lateness_ms = (1 + Pick(6)) * 3'600'000;
    return c;
  }

 private:
  static constexpr const char* kSchema = R"(enum 阶段 { 甲, 乙, 丙, 丁 }
event a { i: int, m: money, n: number, b: bool, t: text, g: 阶段, at: time, d: duration }
event b { i: int, m: money, t: text }
event c
event d { k1: text, k2: text }
profile {
  pi: int = 0
  pm: money
  pn: number
  pb: bool
  pt: text = 无
  pg: 阶段 = 甲
  pat: time
  pd: duration
}
tag t0 "0"
tag t1 "1"
tag t2 "2"
tag t3 "3"
tag "t-4" "quoted: D15"
)";

  // D1, D4, D5: a zone, caps and quiet hours, each only sometimes.
  std::string Delivery() {
    std::string out;
    if (Pick(2)) out += std::string("zone ") + One({"+08:00", "Z", "-05:30", "+09:00"}) + "\n";
    if (Pick(2)) out += "cap push " + std::to_string(1 + Pick(3)) + " per " + Dur() + "\n";
    if (Pick(3) == 0) out += "cap push 1 per " + Dur() + " for (券, \"群-甲\")\n";
    if (Pick(3) == 0) out += "cap invite 1 per " + Dur() + "\n";
    static const char* const kRanges[] = {"22:00-08:00", "00:00-06:30", "12:00-13:00", "08:00-20:00"};
    for (const char* kind : {"push", "invite", "notify"})
      if (Pick(3) == 0) out += std::string("quiet ") + kind + " " + One(kRanges) + (Pick(2) ? " drop" : "") + "\n";
    return out;
  }

  // D13: small value ranges, so that ties at the threshold are common.
  std::string Segment(int g) {
    static const char* const kBy[] = {"pi", "pm", "pn", "pg", "pat", "pd", "count(a within 1d)", "sum(a.m)",
                                      "max(a.i within this day)", "avg(a.n)", "since(a)", "count(distinct a.t)"};
    static const char* const kShares[] = {"10", "25", "33.3", "50", "100", "0.5"};
    std::string at = Pick(2) ? " at 0" + std::to_string(Pick(10)) + ":" + One({"00", "30"}) : "";
    return "segment s" + std::to_string(g) + " \"s\" " + One({"top", "bottom"}) + " " + One(kShares) + "% by " +
           One(kBy) + " every " + One({"1h", "2h", "3h", "1d", "6h30m"}) + at + "\n";
  }
  // A tag a condition or trigger may test: a segment too.
  std::string TestedTag() { return segments_ > 0 && Pick(3) == 0 ? "s" + std::to_string(Pick(segments_)) : Tag(); }

  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint32_t>(n)); }
  template <size_t N>
  const char* One(const char* const (&options)[N]) { return options[Pick(N)]; }

  std::string Op() { return One({"=", "!=", "<", "<=", ">", ">="}); }
  std::string EqOp() { return One({"=", "!="}); }
  std::string Dec() {
    static const char* const kDecimals[] = {"0", "1", "2", "5", "-1", "1.5", "99.995", "0.01", "100", "0.1", "3"};
    return One(kDecimals);
  }
  std::string Dur() {
    if (Pick(6) == 0) return std::to_string(1 + Pick(3)) + "d" + std::to_string(Pick(24)) + "h";  // D3
    return std::to_string(1 + Pick(48)) + One({"h", "m", "d"});
  }
  std::string Member() { return One({"甲", "乙", "丙", "丁"}); }
  std::string Word() { return One({"x", "y", "天猫", "京东", "无"}); }
  std::string Tag() { return Pick(5) == 0 ? "\"t-4\"" : "t" + std::to_string(Pick(4)); }
  // D1: a clock function of a time this rule can see.
  std::string Clock(const std::string& event) {
    std::string time = event == "a" && Pick(2) ? std::string(One({"a.at", "at"})) : std::string(One({"ts", "pat"}));
    switch (Pick(4)) {
      case 0: return "hour(" + time + ") " + Op() + " " + std::to_string(Pick(24));
      case 1: return "weekday(" + time + ") " + (Pick(2) ? "in (6, 7)" : Op() + " " + std::to_string(1 + Pick(7)));
      case 2: return "day(" + time + ") " + Op() + " " + std::to_string(1 + Pick(31));
      default: return "month(" + time + ") " + Op() + " hour(ts)";
    }
  }

  // A condition; `event` is the triggering event (a, b) or empty.
  std::string Cond(const std::string& event, int depth) {
    if (depth < 2 && Pick(3) == 0) {
      std::string l = Cond(event, depth + 1), r = Cond(event, depth + 1);
      switch (Pick(3)) {
        case 0: return "(" + l + " and " + r + ")";
        case 1: return "(" + l + " or " + r + ")";
        default: return "not (" + l + ")";
      }
    }
    bool ev = !event.empty();
    int kind = Pick(ev ? 18 : 13);
    if (!ev && kind >= 11) kind += 5;  // the clock and distinct cases, not the event-field ones
    switch (kind) {
      case 0: return "pi " + Op() + " " + Dec();
      case 1: return "pm " + Op() + " " + Dec();
      case 2: return "pn " + Op() + " " + Dec();
      case 3: return "pg " + Op() + " " + Member();
      case 4: return "pt " + EqOp() + " " + Word();
      case 5: return Pick(2) ? "pb" : "not pb";
      case 6: return std::string(Pick(2) ? "" : "not ") + "has " + TestedTag();
      case 7: return "count(a" + Where() + Within() + ") " + Op() + " " + std::to_string(Pick(4));
      case 8: {
        std::string f = One({"sum", "min", "max", "avg"});
        return f + "(a." + One({"i", "m", "n"}) + Where() + Within() + ") " + Op() + " " + Dec();
      }
      case 9: return "since(" + std::string(One({"a", "b", "any", "pat"})) + ") " + Op() + " " + Dur();
      case 10: return "pg " + std::string(Pick(2) ? "in" : "not in") + " (" + Member() + ", " + Member() + ")";
      case 11: return event + ".i " + Op() + " " + (Pick(2) ? Dec() : "pi");
      case 12: return event + ".m " + Op() + " " + (Pick(2) ? Dec() : "pm");
      case 13: return event + ".t " + (Pick(2) ? "contains " + Word() : EqOp() + " " + Word());
      case 14: return event == "a" ? (Pick(2) ? "a.b" : "a.g " + Op() + " " + Member()) : "b.t " + EqOp() + " pt";
      case 15: return event + ".t " + std::string(Pick(2) ? "in" : "not in") + " (" + Word() + ", " + Word() + ")";
      case 16: return Clock(event);
      default:  // D10
        return "count(distinct a." + std::string(One({"t", "g", "m", "n", "b", "at"})) + Where() + Within() + ") " + Op() +
               " " + std::to_string(Pick(4));
    }
  }

  std::string Where() {
    switch (Pick(5)) {
      case 0: return " where i > " + std::to_string(Pick(5));
      case 1: return " where t in (x, 天猫) or not b";
      case 2: return " where hour(ts) < " + std::to_string(6 + Pick(12));
      default: return "";
    }
  }
  std::string Within() {
    switch (Pick(3)) {
      case 0: return " within " + Dur();
      case 1: return std::string(" within this ") + One({"day", "week", "month", "quarter", "year"});  // D2
      default: return "";
    }
  }
  // D6: a string target with placeholders, or a fixed one.
  std::string Target(const std::string& event) {
    switch (Pick(5)) {
      case 0: return "\"券-{pg}\"";
      case 1: return "\"群-{customer}\"";
      case 2: return event == "a" ? "\"券-{a.t}\"" : "\"群-甲\"";
      default: return One({"券", "群"});
    }
  }

  std::string Action(const std::string& event, bool allow_after) {
    if (allow_after && Pick(5) == 0) {
      std::string unless = Pick(2) ? std::string(" unless ") + One({"a", "b", "any"}) : "";
      if (unless == " unless a" && Pick(2)) unless += " where i > 2 or t = x";  // D7
      if (unless == " unless any" && Pick(2)) unless += " where hour(ts) >= 12";
      return "after " + Dur() + " " + Action(event, false) + unless;
    }
    bool ev = !event.empty();
    switch (Pick(ev ? 16 : 13)) {
      case 0: return "set pi " + std::to_string(Pick(5));
      case 1: return "set pm " + std::string(One({"1.50", "0", "-2", "99.99"}));
      case 2: return "set pt " + Word();
      case 3: return "set pg " + Member();
      case 4: return "set pb " + std::string(Pick(2) ? "true" : "false");
      case 5: return "set pat ts";
      case 6: return "add pi " + std::to_string(Pick(5) - 2);
      case 7: return "add pn 0.1";
      case 8: return "tag " + Tag();
      case 9: return "untag " + Tag();
      case 10: return "push " + Target(event) + (Pick(2) ? " every " + Dur() : "");
      case 11: return "invite " + Target(event);
      case 12:
        return std::string("notify ") + (Pick(3) == 0 ? "\"{pt}\"" : "客服") + " \"" + Word() +
               (Pick(2) ? " {pi} {pm} {pn} {pg} {pat} {pd} {ts} {customer} {{x}}" : "") + "\"";
      case 13: return "add pm " + event + ".m";
      case 14: return "set pd " + std::string(One({"5m", "2h"}));
      default: return "add pi " + event + ".i";
    }
  }

  std::string Rule(int r) {
    std::string trigger, event;
    switch (Pick(9)) {
      case 0: trigger = identity_ && Pick(2) ? "merged" : "any"; break;
      case 1: trigger = "tagged " + TestedTag(); break;
      case 2: trigger = "untagged " + TestedTag(); break;
      case 3: trigger = "pg becomes " + Member(); break;
      case 4: trigger = "no " + std::string(One({"a", "b", "any"})) + " for " + Dur(); break;
      case 5: trigger = event = "b"; break;
      case 6: trigger = "c"; break;
      default: trigger = event = "a"; break;
    }
    std::string rule = "rule r" + std::to_string(r) + ": when " + trigger;
    if (Pick(4) != 0) rule += " and " + Cond(event, 0);
    rule += " then " + Action(event, true);
    int more = Pick(3);
    for (int k = 0; k < more; ++k) rule += ", " + Action(event, true);
    return rule + "\n";
  }

  std::string Event(int64_t ts) {
    std::string customer = One({"c1", "c2", "c3", "客户4"});
    std::string ts_text = Pick(3) == 0 ? std::to_string(ts / 1000) + (ts % 1000 ? "." + std::to_string(ts % 1000) : "")
                                       : "\"" + std::string(Pick(2) ? "2024" : "2024") + "\"";
    if (ts_text[0] == '"') {
      // RFC 3339 in UTC, built from epoch ms.
      ts_text = std::to_string(ts / 1000);
    }
    if (identity_ && Pick(4) == 0) {  // small pools of key values: persons merge, in chains
      static const char* const kValues[] = {"A", "B", "C", ""};
      return "{\"type\":\"d\",\"customer\":\"" + customer + "\",\"ts\":" + ts_text + ",\"k1\":\"" + One(kValues) +
             "\",\"k2\":\"" + One(kValues) + "\"}";
    }
    switch (Pick(12)) {
      case 0: return "{\"type\":\"c\",\"customer\":\"" + customer + "\",\"ts\":" + ts_text + "}";
      case 1: return "not json";
      case 2: return "{\"type\":\"b\",\"customer\":\"" + customer + "\",\"ts\":" + ts_text + ",\"i\":" +
                     std::to_string(Pick(6)) + ",\"m\":\"" + Dec() + "\",\"t\":\"" + Word() + "\"}";
      case 3: return "{\"type\":\"a\",\"customer\":\"" + customer + "\",\"ts\":" + ts_text + ",\"i\":\"bad\"}";
      default: {
        std::string e = "{\"type\":\"a\",\"customer\":\"" + customer + "\",\"ts\":" + ts_text;
        if (Pick(4)) e += ",\"i\":" + std::to_string(Pick(7) - 1);
        if (Pick(4)) e += ",\"m\":" + std::string(One({"1.5", "0", "99.99", "100", "-3", "\"2.50\"", "null"}));
        if (Pick(4)) e += ",\"n\":" + std::string(One({"0.1", "0.2", "1e3", "-0.5", "3"}));
        if (Pick(3)) e += ",\"b\":" + std::string(Pick(2) ? "true" : "false");
        if (Pick(4)) e += ",\"t\":\"" + Word() + "\"";
        if (Pick(3)) e += ",\"g\":\"" + Member() + "\"";
        if (Pick(5) == 0) e += ",\"at\":" + std::to_string(ts / 1000 - Pick(100000));
        if (Pick(5) == 0) e += ",\"d\":\"" + std::string(One({"90m", "2h", "1d"})) + "\"";
        return e + "}";
      }
    }
  }

  std::mt19937 rng_;
  int segments_ = 0;
  bool identity_ = false;
};

}  // namespace qm::difftest

#endif  // QM_TESTS_DIFF_GENERATOR_H_

// A seeded generator of realistic rule files of any size, for benchmarks:
// 20 event types, a profile of 30 fields, 200 tags and N rules mixing every
// kind of trigger, condition and action the language has.
#ifndef QM_BENCH_RULE_GEN_H_
#define QM_BENCH_RULE_GEN_H_

#include <cstdint>
#include <random>
#include <string>

namespace qm::bench {

inline std::string GenerateRules(int rules, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  std::string out = "enum 阶段 { 陌生, 潜在, 意向, 未购, 已购, 复购, VIP }\n";
  for (int e = 0; e < 20; ++e) {
    out += "event ev" + std::to_string(e) + " { amount: money, qty: int, channel: text, product: text, ok: bool }\n";
  }
  out += "profile {\n  stage: 阶段 = 未购\n  vip_since: time\n";
  for (int f = 0; f < 10; ++f) out += "  score" + std::to_string(f) + ": int = 0\n";
  for (int f = 0; f < 10; ++f) out += "  total" + std::to_string(f) + ": money = 0\n";
  for (int f = 0; f < 8; ++f) out += "  city" + std::to_string(f) + ": text\n";
  out += "}\n";
  for (int t = 0; t < 200; ++t) out += "tag 标签" + std::to_string(t) + " \"generated tag " + std::to_string(t) + "\"\n";
  static const char* kStages[] = {"陌生", "潜在", "意向", "未购", "已购", "复购", "VIP"};
  for (int r = 0; r < rules; ++r) {
    std::string ev = "ev" + std::to_string(pick(20));
    std::string rule = "rule 规则" + std::to_string(r) + ": when ";
    switch (pick(10)) {
      case 0: rule += "any"; break;
      case 1: rule += "no " + ev + " for " + std::to_string(1 + pick(90)) + "d"; break;
      default: rule += ev;
    }
    bool event_trigger = rule.find("when ev") != std::string::npos;
    rule += " and stage >= " + std::string(kStages[pick(7)]);
    if (event_trigger) {
      rule += " and amount >= " + std::to_string(pick(1000)) + "." + std::to_string(pick(10));
      rule += " and channel in (天猫, 京东, 抖音)";
    }
    rule += " and count(" + ev + " where qty > " + std::to_string(pick(5)) + " within " + std::to_string(1 + pick(30)) +
            "d) >= " + std::to_string(1 + pick(5));
    rule += " and (score" + std::to_string(pick(10)) + " < " + std::to_string(pick(100)) + " or not has 标签" +
            std::to_string(pick(200)) + ")";
    rule += " and since(" + ev + ") > " + std::to_string(1 + pick(48)) + "h";
    rule += " then add score" + std::to_string(pick(10)) + " 1, tag 标签" + std::to_string(pick(200)) + ", push 内容" +
            std::to_string(pick(50)) + " every 7d, after 3d notify 销售 \"跟进\" unless " + ev + "\n";
    out += rule;
  }
  return out;
}

}  // namespace qm::bench

#endif  // QM_BENCH_RULE_GEN_H_

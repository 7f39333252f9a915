// The baseline for `qm run` on the reference workload: peers20.qm written by
// hand in C++ as a competent engineer would for this one rule set (a hand JSON
// parser for these flat lines, a hash map of customers, the 26 rules as
// if-statements, the 21-day timer in a heap), producing byte for byte the
// actions qm writes, so the comparison is of equal work.
//   handwritten_peers20 STREAM.jsonl > actions.jsonl
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compiler/value/value.h"

namespace {

enum Stage { k未购, k已购, k复购, k沉睡, k唤醒中 };
const char* const kStages[] = {"未购", "已购", "复购", "沉睡", "唤醒中"};
enum Tag { k复购客, k高客单, kVIP, k护肤兴趣, k高意向, k短视频用户, k私域, k活跃互动, k沉睡风险, k券敏感, k敏感肌,
           k彩妆潜客, k私域成交, k分享达人, k一线高值, kKOC };
const char* const kTags[] = {"复购客", "高客单", "VIP", "护肤兴趣", "高意向", "短视频用户", "私域", "活跃互动", "沉睡风险",
                             "券敏感", "敏感肌", "彩妆潜客", "私域成交", "分享达人", "一线高值", "KOC"};
enum Push { kVIP群, k高端会员群, k导购1v1, k唤醒券, k复购提醒, k敏感肌专题, kKOC群 };
const char* const kPushes[] = {"VIP群", "高端会员群", "导购1v1", "唤醒券", "复购提醒", "敏感肌专题", "KOC群"};
constexpr int64_t kDay = 86'400'000;
constexpr int64_t kNever = INT64_MIN;

struct Customer {
  std::string gender, home_city;
  bool has_gender = false, has_home_city = false, has_age = false;
  int64_t age = 0, score = 0;
  int stage = k未购;
  uint32_t tags = 0, pushed = 0;
  int64_t last_reminder = kNever, last_order = kNever, clock = kNever, due = kNever;
  int64_t orders = 0, add_carts = 0, messages = 0, replies = 0, shares = 0, spent = 0;
};

struct Event {
  std::string_view type, customer, gender, city, stage, category, channel, keyword;
  int64_t ts = 0, age = 0, amount = 0;
  bool has_age = false, has_amount = false, in_private = false;
};

// The stream's lines are flat objects of strings, integers, decimals and bools.
bool Parse(std::string_view line, Event& e) {
  e = Event{};
  size_t i = 0;
  auto skip = [&] { while (i < line.size() && (line[i] == ' ' || line[i] == ',' || line[i] == '{')) ++i; };
  for (;;) {
    skip();
    if (i >= line.size() || line[i] == '}') return !e.type.empty();
    if (line[i] != '"') return false;
    size_t k = line.find('"', i + 1);
    std::string_view key = line.substr(i + 1, k - i - 1);
    i = k + 2;  // past `":`
    std::string_view str;
    int64_t num = 0, cents = 0;
    bool is_str = line[i] == '"', truth = false;
    if (is_str) {
      size_t end = line.find('"', i + 1);
      str = line.substr(i + 1, end - i - 1);
      i = end + 1;
    } else if (line[i] == 't' || line[i] == 'f') {
      truth = line[i] == 't';
      i += truth ? 4 : 5;
    } else {
      bool negative = line[i] == '-';
      if (negative) ++i;
      while (i < line.size() && line[i] >= '0' && line[i] <= '9') num = num * 10 + (line[i++] - '0');
      cents = num * 100;
      if (i < line.size() && line[i] == '.') {
        ++i;
        int64_t scale = 10;
        while (i < line.size() && line[i] >= '0' && line[i] <= '9') {
          cents += (line[i++] - '0') * scale;
          scale /= 10;
        }
      }
      if (negative) { num = -num; cents = -cents; }
    }
    if (key == "ts") e.ts = num * 1000;
    else if (key == "type") e.type = str;
    else if (key == "customer") e.customer = str;
    else if (key == "age") { e.age = num; e.has_age = true; }
    else if (key == "city") e.city = str;
    else if (key == "stage") e.stage = str;
    else if (key == "gender") e.gender = str;
    else if (key == "amount") { e.amount = cents; e.has_amount = true; }
    else if (key == "channel") e.channel = str;
    else if (key == "keyword") e.keyword = str;
    else if (key == "category") e.category = str;
    else if (key == "in_private") e.in_private = truth;
  }
}

class Runner {
 public:
  void Event(const ::Event& e) {
    Fire(e.ts);
    Customer& c = customers_[std::string(e.customer)];
    if (e.ts < c.clock) return;  // late (none in this stream)
    customer_ = &e.customer;
    now_ = e.ts;
    if (c.clock == kNever || e.type == "order") Arm(c, e.customer, e.ts + 21 * kDay);
    c.clock = e.ts;
    std::string_view t = e.type;
    bool order = t == "order", view = t == "view", click = t == "click", reply = t == "reply";
    if (order) { ++c.orders; c.spent += e.amount; }
    if (t == "add_cart") ++c.add_carts;
    if (t == "message") ++c.messages;
    if (reply) ++c.replies;
    if (t == "share") ++c.shares;
    // Every condition on the snapshot, then the actions in rule order.
    const Customer& s = c;  // every condition is evaluated before the first action
    auto has = [&](int tag) { return (s.tags >> tag) & 1; };
    bool short_video = e.channel == "抖音" || e.channel == "快手";
    int64_t since_order = s.last_order == kNever ? kNever : now_ - s.last_order;
    bool m[26] = {};
    m[0] = t == "profile_load";
    m[1] = m[0] && e.in_private;
    m[2] = order && s.stage == k未购;
    m[3] = order && s.stage == k已购 && s.orders >= 2;
    m[4] = order && e.amount >= 50000;
    m[5] = order && s.spent >= 200000 && !has(kVIP);
    m[6] = view && e.category == "护肤";
    m[7] = t == "add_cart" && s.stage == k未购 && s.add_carts >= 3;
    m[8] = view && short_video;
    m[9] = click && short_video;
    m[10] = t == "join_group" && !has(k私域);
    m[11] = t == "message" && s.messages >= 5;
    m[12] = reply && s.replies >= 5;
    m[13] = view && s.stage == k沉睡;
    m[14] = click && s.stage == k沉睡;
    m[15] = reply && s.stage == k沉睡;
    m[16] = order && s.stage == k唤醒中;
    m[18] = view && (s.stage == k已购 || s.stage == k复购) && since_order != kNever && since_order >= 14 * kDay &&
            since_order < 21 * kDay;
    m[19] = t == "coupon_use" && e.has_amount && e.amount >= 5000;
    m[20] = t == "search" && e.keyword.find("敏感") != std::string_view::npos;
    m[21] = view && e.category == "彩妆" && s.has_gender && s.gender == "女" && s.has_age && s.age < 30;
    m[22] = order && (e.channel == "小程序" || e.channel == "企业微信") && has(k私域);
    m[23] = t == "share" && s.shares >= 3;
    m[24] = s.has_home_city && (s.home_city == "北京" || s.home_city == "上海" || s.home_city == "广州" ||
                                s.home_city == "深圳") && s.spent >= 100000 && !has(k一线高值);
    m[25] = s.score >= 50 && !has(kKOC);
    if (m[0]) {
      if (!e.gender.empty()) SetText("载入档案", "gender", c.gender, c.has_gender, e.gender);
      if (e.has_age && (!c.has_age || c.age != e.age)) {
        Line("载入档案") += "\"action\":\"set\",\"field\":\"age\",\"from\":" + (c.has_age ? std::to_string(c.age) : "null") +
                            ",\"to\":" + std::to_string(e.age) + "}\n";
        c.age = e.age;
        c.has_age = true;
      }
      if (!e.city.empty()) SetText("载入档案", "home_city", c.home_city, c.has_home_city, e.city);
      for (int k = 0; k < 5; ++k) if (e.stage == kStages[k]) SetStage(c, "载入档案", k);
    }
    if (m[1]) AddTag(c, "载入私域", k私域);
    if (m[2]) { SetStage(c, "R01_首购转化", k已购); PushOnce(c, "R01_首购转化", kVIP群); }
    if (m[3]) { SetStage(c, "R02_复购升级", k复购); AddTag(c, "R02_复购升级", k复购客); }
    if (m[4]) { AddTag(c, "R03_高客单", k高客单); AddScore(c, "R03_高客单", 20); }
    if (m[5]) { AddTag(c, "R04_VIP达标", kVIP); PushOnce(c, "R04_VIP达标", k高端会员群); }
    if (m[6]) { AddTag(c, "R05_护肤兴趣", k护肤兴趣); AddScore(c, "R05_护肤兴趣", 1); }
    if (m[7]) { AddTag(c, "R06_高意向未购", k高意向); PushOnce(c, "R06_高意向未购", k导购1v1); }
    if (m[8]) AddTag(c, "R07a_短视频用户", k短视频用户);
    if (m[9]) AddTag(c, "R07b_短视频用户", k短视频用户);
    if (m[10]) { AddTag(c, "R08_入群私域", k私域); AddScore(c, "R08_入群私域", 5); }
    if (m[11]) { AddTag(c, "R09a_互动活跃", k活跃互动); AddScore(c, "R09a_互动活跃", 2); }
    if (m[12]) { AddTag(c, "R09b_互动活跃", k活跃互动); AddScore(c, "R09b_互动活跃", 2); }
    for (int r = 13; r <= 15; ++r) {
      static const char* const names[] = {"R10a_沉睡唤醒", "R10b_沉睡唤醒", "R10c_沉睡唤醒"};
      if (m[r]) { SetStage(c, names[r - 13], k唤醒中); PushOnce(c, names[r - 13], k唤醒券); }
    }
    if (m[16]) { SetStage(c, "R11_唤醒成交", k复购); RemoveTag(c, "R11_唤醒成交", k沉睡风险); }
    if (m[18] && (c.last_reminder == kNever || now_ - c.last_reminder >= 7 * kDay)) {
      c.last_reminder = now_;
      Line("R13_复购提醒") += "\"action\":\"push\",\"target\":\"复购提醒\"}\n";
    }
    if (m[19]) { AddTag(c, "R14_券敏感", k券敏感); AddScore(c, "R14_券敏感", 3); }
    if (m[20]) { AddTag(c, "R15_敏感肌", k敏感肌); PushOnce(c, "R15_敏感肌", k敏感肌专题); }
    if (m[21]) AddTag(c, "R16_彩妆潜客", k彩妆潜客);
    if (m[22]) { AddTag(c, "R17_私域成交", k私域成交); AddScore(c, "R17_私域成交", 5); }
    if (m[23]) { AddTag(c, "R18_分享达人", k分享达人); AddScore(c, "R18_分享达人", 10); }
    if (m[24]) AddTag(c, "R19_一线高值", k一线高值);
    if (m[25]) { AddTag(c, "R20_KOC", kKOC); PushOnce(c, "R20_KOC", kKOC群); }
    if (order) c.last_order = e.ts;
    Flush(false);
  }

  void Finish() { Flush(true); }

 private:
  struct Due {
    int64_t due;
    std::string customer;
    bool operator>(const Due& o) const { return due != o.due ? due > o.due : customer > o.customer; }
  };

  void Arm(Customer& c, std::string_view customer, int64_t due) {
    c.due = due;
    timers_.push({due, std::string(customer)});
  }

  // R12: `no order for 21d` fires in (due, customer) order before later events.
  void Fire(int64_t t) {
    while (!timers_.empty() && timers_.top().due <= t) {
      Due d = timers_.top();
      timers_.pop();
      Customer& c = customers_[d.customer];
      if (c.due != d.due) continue;  // re-armed since
      c.due = kNever;
      c.clock = std::max(c.clock, d.due);
      customer_view_ = d.customer;
      customer_ = &customer_view_;
      now_ = d.due;
      if (c.stage == k已购 || c.stage == k复购) {
        SetStage(c, "R12_沉睡判定", k沉睡);
        AddTag(c, "R12_沉睡判定", k沉睡风险);
      }
    }
  }

  std::string& Line(const char* rule) {
    out_ += "{\"ts\":\"" + qm::FormatTime(now_, 480) + "\",\"customer\":\"";
    out_ += *customer_;
    out_ += "\",\"rule\":\"";
    out_ += rule;
    out_ += "\",";
    return out_;
  }
  void SetText(const char* rule, const char* field, std::string& slot, bool& set, std::string_view to) {
    if (set && slot == to) return;
    Line(rule) += std::string("\"action\":\"set\",\"field\":\"") + field + "\",\"from\":" +
                  (set ? "\"" + slot + "\"" : "null") + ",\"to\":\"" + std::string(to) + "\"}\n";
    slot = to;
    set = true;
  }
  void SetStage(Customer& c, const char* rule, int to) {
    if (c.stage == to) return;
    Line(rule) += std::string("\"action\":\"set\",\"field\":\"stage\",\"from\":\"") + kStages[c.stage] +
                  "\",\"to\":\"" + kStages[to] + "\"}\n";
    c.stage = to;
  }
  void AddTag(Customer& c, const char* rule, int tag) {
    if ((c.tags >> tag) & 1) return;
    c.tags |= 1u << tag;
    Line(rule) += std::string("\"action\":\"tag\",\"tag\":\"") + kTags[tag] + "\"}\n";
  }
  void RemoveTag(Customer& c, const char* rule, int tag) {
    if (!((c.tags >> tag) & 1)) return;
    c.tags &= ~(1u << tag);
    Line(rule) += std::string("\"action\":\"untag\",\"tag\":\"") + kTags[tag] + "\"}\n";
  }
  void AddScore(Customer& c, const char* rule, int64_t by) {
    Line(rule) += "\"action\":\"add\",\"field\":\"score\",\"by\":" + std::to_string(by) + ",\"from\":" +
                  std::to_string(c.score) + ",\"to\":" + std::to_string(c.score + by) + "}\n";
    c.score += by;
  }
  void PushOnce(Customer& c, const char* rule, int target) {
    if ((c.pushed >> target) & 1) return;
    c.pushed |= 1u << target;
    Line(rule) += std::string("\"action\":\"push\",\"target\":\"") + kPushes[target] + "\"}\n";
  }
  void Flush(bool all) {
    if (all || out_.size() > (1 << 20)) {
      std::fwrite(out_.data(), 1, out_.size(), stdout);
      out_.clear();
    }
  }

  std::unordered_map<std::string, Customer> customers_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> timers_;
  const std::string_view* customer_ = nullptr;
  std::string_view customer_view_;
  int64_t now_ = 0;
  std::string out_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: handwritten_peers20 STREAM.jsonl > actions.jsonl\n");
    return 2;
  }
  std::FILE* in = std::fopen(argv[1], "rb");
  if (in == nullptr) {
    std::perror(argv[1]);
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  Runner runner;
  ::Event e;
  std::string buffer(1 << 20, '\0');
  size_t have = 0;
  int64_t events = 0;
  for (;;) {
    size_t n = std::fread(buffer.data() + have, 1, buffer.size() - have, in);
    have += n;
    size_t pos = 0;
    for (;;) {
      const char* nl = static_cast<const char*>(std::memchr(buffer.data() + pos, '\n', have - pos));
      if (nl == nullptr) break;
      std::string_view line(buffer.data() + pos, nl - buffer.data() - pos);
      if (Parse(line, e)) {
        runner.Event(e);
        ++events;
      }
      pos = nl - buffer.data() + 1;
    }
    std::memmove(buffer.data(), buffer.data() + pos, have - pos);
    have -= pos;
    if (n == 0) break;
  }
  runner.Finish();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "handwritten: %lld events in %.2f s (%.0f events/s)\n", static_cast<long long>(events), s,
               events / s);
  return 0;
}

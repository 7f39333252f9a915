// `qm diff OLD.qm NEW.qm --events E`: a backtest of a rule change. Both rule
// sets run over the same events; the report says how the actions change per
// rule, action and target, how many customers get different actions, and
// the first differing lines of a few of them (docs/tooling.md).
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "api/debug.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/line_diff.h"
#include "compiler/source/source.h"
#include "compiler/value/value.h"

namespace qm::cli {
namespace {

constexpr size_t kExampleCustomers = 5;

// What one rule set did over the events.
struct Side {
  std::string file;
  std::unordered_map<std::string, std::vector<std::string>> actions;  // by customer, in order
  std::map<std::tuple<std::string, std::string, std::string>, int64_t> counts;  // (rule, action, target)
  std::map<std::string, int64_t> rejects;  // by reason
  int64_t total_actions = 0;
};

std::string Member(const std::vector<std::pair<std::string, std::string>>& members, const char* key) {
  for (const auto& [k, v] : members)
    if (k == key) return !v.empty() && v[0] == '"' ? v.substr(1) : v;
  return "";
}

// Customers in order of their first action on either side.
struct Customers {
  std::vector<std::string> order;
  std::unordered_set<std::string> seen;
};

void Record(Side& side, Customers& customers, std::string_view line) {
  std::vector<std::pair<std::string, std::string>> members;
  qianmian::debug::ObjectMembers(line, members);
  std::string customer = Member(members, "customer"), action = Member(members, "action");
  // What the action is about: a push's content, a tag, a field (a set with its new value).
  std::string target = Member(members, "target");
  if (target.empty()) target = Member(members, "tag");
  if (target.empty()) target = action == "set" ? Member(members, "field") + " = " + Member(members, "to") : Member(members, "field");
  ++side.counts[{Member(members, "rule"), action, target}];
  ++side.total_actions;
  if (customers.seen.insert(customer).second) customers.order.push_back(customer);
  side.actions[customer].emplace_back(line);
}

void RecordReject(Side& side, std::string_view line) {
  std::vector<std::pair<std::string, std::string>> members;
  qianmian::debug::ObjectMembers(line, members);
  ++side.rejects[Member(members, "reason")];
}

std::string Json(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

std::string Pad(const std::string& s, int width) {
  return s + std::string(std::max(0, width - utf8::DisplayWidth(s)), ' ');
}

struct Change {
  std::string rule, action, target;
  int64_t before, after;
};

struct Example {
  std::string customer;
  std::vector<DiffLine> diff;
};

}  // namespace

int DiffCommand(const std::vector<std::string>& args, qianmian::Language language) {
  language = LangOfArgs(args, language);
  Flags flags;
  if (auto usage = SplitFlags(args, {"--events", "--until", "--lateness", "--tz", "--engine", "--format", "--lang"}, {},
                              "diff", flags))
    return Usage(*usage, language);
  const Lang lang = LangOf(language);
  bool zh = lang == Lang::kZh;
  if (flags.positional.size() != 2) return Usage(Error::Of<ErrorKind::kDiffTakesTwo>(), language);
  const std::string* events_path = flags.Get("--events");
  if (events_path == nullptr) return Usage(Error::Of<ErrorKind::kNeedsEventsFor>({"diff"}), language);
  qianmian::RunOptions options;
  if (const std::string* v = flags.Get("--tz")) options.tz = *v;
  if (const std::string* v = flags.Get("--lateness")) options.lateness = *v;
  if (const std::string* v = flags.Get("--engine")) {
    if (*v != "jit" && *v != "interp") return Usage(Error::Of<ErrorKind::kEngineTakes>(), language);
    options.engine = *v == "jit" ? qianmian::Engine::kJit : qianmian::Engine::kInterpreter;
  }
  bool json = false;
  if (const std::string* v = flags.Get("--format")) {
    if (*v != "text" && *v != "json") return Usage(Error::Of<ErrorKind::kFormatTakes>(), language);
    json = *v == "json";
  }
  if (!qianmian::IsValidTz(options.tz)) return Usage(Error::Of<ErrorKind::kBadTz>({options.tz}), language);

  Side sides[2];
  std::vector<qianmian::RuleSet> rules;
  for (int s = 0; s < 2; ++s) {
    sides[s].file = flags.positional[s];
    rules.push_back(qianmian::RuleSet::FromFiles({sides[s].file}, language));
    for (const qianmian::Diagnostic& d : rules.back().diagnostics())
      if (d.error) std::fputs(d.rendered.c_str(), stderr);
  }
  if (!rules[0].ok() || !rules[1].ok()) return kExitErrors;

  Customers customers;
  std::vector<std::unique_ptr<qianmian::Runner>> runners;
  for (int s = 0; s < 2; ++s) {
    Side& side = sides[s];
    std::string refused;
    runners.push_back(qianmian::Runner::Create(
        rules[s], options, [&side, &customers](std::string_view l) { Record(side, customers, l); },
        [&side](std::string_view l) { RecordReject(side, l); }, &refused));
    if (!runners.back()) {
      std::fprintf(stderr, "qm: %s\n", refused.c_str());
      return refused.find("lateness") != std::string::npos ? kExitUsage : kExitErrors;
    }
  }
  int64_t lines = 0;
  std::string failed = qianmian::ForEachEventLine(
      *events_path,
      [&](std::string_view line) {
        ++lines;
        for (auto& r : runners) r->Feed(line);
      },
      language);
  if (!failed.empty()) {
    std::fprintf(stderr, "qm: %s\n", failed.c_str());
    return kExitErrors;
  }
  for (auto& r : runners) r->EndOfInput();
  if (const std::string* until = flags.Get("--until"))
    for (auto& r : runners)
      if (!r->FireUntil(*until).ok()) return Usage(Error::Of<ErrorKind::kBadUntil>({*until}), language);

  // Counts that changed, in (rule, action, target) order.
  std::vector<Change> changes;
  auto a = sides[0].counts.begin(), b = sides[1].counts.begin();
  while (a != sides[0].counts.end() || b != sides[1].counts.end()) {
    if (b == sides[1].counts.end() || (a != sides[0].counts.end() && a->first < b->first)) {
      changes.push_back({std::get<0>(a->first), std::get<1>(a->first), std::get<2>(a->first), a->second, 0});
      ++a;
    } else if (a == sides[0].counts.end() || b->first < a->first) {
      changes.push_back({std::get<0>(b->first), std::get<1>(b->first), std::get<2>(b->first), 0, b->second});
      ++b;
    } else {
      if (a->second != b->second)
        changes.push_back({std::get<0>(a->first), std::get<1>(a->first), std::get<2>(a->first), a->second, b->second});
      ++a, ++b;
    }
  }
  static const std::vector<std::string> kNone;
  auto of = [](const Side& side, const std::string& c) -> const std::vector<std::string>& {
    auto it = side.actions.find(c);
    return it == side.actions.end() ? kNone : it->second;
  };
  int64_t different = 0;
  std::vector<Example> examples;
  for (const std::string& c : customers.order) {
    const auto &before = of(sides[0], c), &after = of(sides[1], c);
    if (before == after) continue;
    ++different;
    if (examples.size() < kExampleCustomers) examples.push_back({c, DiffLines(before, after)});
  }
  int64_t rejects[2] = {0, 0};
  for (int s = 0; s < 2; ++s)
    for (const auto& [reason, n] : sides[s].rejects) rejects[s] += n;

  if (json) {
    std::string out = "{\"lines\":" + std::to_string(lines);
    for (int s = 0; s < 2; ++s) {
      out += std::string(s ? ",\"new\":" : ",\"old\":") + "{\"rules\":" + Json(sides[s].file) +
             ",\"actions\":" + std::to_string(sides[s].total_actions) + ",\"rejects\":" + std::to_string(rejects[s]) +
             "}";
    }
    out += ",\"changes\":[";
    for (size_t i = 0; i < changes.size(); ++i) {
      const Change& c = changes[i];
      out += std::string(i ? "," : "") + "{\"rule\":" + Json(c.rule) + ",\"action\":" + Json(c.action) +
             ",\"target\":" + Json(c.target) + ",\"old\":" + std::to_string(c.before) +
             ",\"new\":" + std::to_string(c.after) + "}";
    }
    out += "],\"customers\":" + std::to_string(customers.order.size()) + ",\"customers_changed\":" + std::to_string(different) +
           ",\"examples\":[";
    for (size_t i = 0; i < examples.size(); ++i) {
      out += std::string(i ? "," : "") + "{\"customer\":" + Json(examples[i].customer) + ",\"old\":[";
      bool first = true;
      for (const DiffLine& l : examples[i].diff)
        if (l.op == '-') out += std::string(first ? "" : ",") + l.text, first = false;
      out += "],\"new\":[";
      first = true;
      for (const DiffLine& l : examples[i].diff)
        if (l.op == '+') out += std::string(first ? "" : ",") + l.text, first = false;
      out += "]}";
    }
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
    return kExitOk;
  }

  std::printf(zh ? "qm diff：%lld 行事件\n  旧 %s：%lld 个动作，%lld 行拒收\n  新 %s：%lld 个动作，%lld 行拒收\n"
                 : "qm diff: %lld event lines\n  old %s: actions %lld, rejects %lld\n  new %s: actions %lld, rejects %lld\n",
              static_cast<long long>(lines), sides[0].file.c_str(), static_cast<long long>(sides[0].total_actions),
              static_cast<long long>(rejects[0]), sides[1].file.c_str(), static_cast<long long>(sides[1].total_actions),
              static_cast<long long>(rejects[1]));
  if (changes.empty()) {
    std::printf(zh ? "\n各类动作的数量没有变化。\n" : "\nNo change in how many actions of each kind.\n");
  } else {
    std::vector<std::vector<std::string>> table = {
        zh ? std::vector<std::string>{"规则", "动作", "对象", "旧", "新", "变化"}
           : std::vector<std::string>{"rule", "action", "target", "old", "new", "change"}};
    for (const Change& c : changes) {
      int64_t delta = c.after - c.before;
      table.push_back({c.rule, c.action, c.target, std::to_string(c.before), std::to_string(c.after),
                       (delta > 0 ? "+" : "") + std::to_string(delta)});
    }
    std::vector<int> widths(6, 0);
    for (const auto& row : table)
      for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], utf8::DisplayWidth(row[i]));
    std::printf(zh ? "\n按规则、动作和对象的变化：\n" : "\nchanges by rule, action and target:\n");
    for (const auto& row : table) {
      std::string line = "  ";
      for (size_t i = 0; i < row.size(); ++i) line += Pad(row[i], widths[i] + 2);
      while (!line.empty() && line.back() == ' ') line.pop_back();
      std::printf("%s\n", line.c_str());
    }
  }
  std::printf(zh ? "\n动作不同的客户：%lld 位（共 %zu 位有动作）\n" : "\ncustomers with different actions: %lld of %zu with any\n",
              static_cast<long long>(different), customers.order.size());
  for (const Example& e : examples) {
    std::printf("  %s:\n%s", e.customer.c_str(), RenderDiff(e.diff, "    ", 1, 10).c_str());
  }
  if (different > static_cast<int64_t>(examples.size()))
    std::printf(zh ? "  ……另有 %lld 位\n" : "  … and %lld more\n", static_cast<long long>(different - examples.size()));
  return kExitOk;
}

}  // namespace qm::cli

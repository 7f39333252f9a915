// `qm state show|stats DIR`: what a state directory holds, read without the
// rule set, through the public API's StateDirectory; `qm state forget DIR
// --customer ID` removes every trace of one customer (ForgetCustomer).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/table.h"
#include "compiler/diag/diag.h"
#include "compiler/source/source.h"
#include "compiler/value/value.h"

namespace qm::cli {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "qm: %s\n", message.c_str());
  return kExitErrors;
}

int Stats(qianmian::StateDirectory& state, const std::string& dir, bool json) {
  qianmian::StateSummary summary;
  if (std::string error = state.Summarize(summary); !error.empty()) return Fail(error);
  int64_t customers = summary.customers, timers = summary.pending_timers;
  if (json) {
    std::string out = "{\"customers\":" + std::to_string(customers) + ",\"merged\":" + std::to_string(summary.merged) +
                      ",\"pending_timers\":" + std::to_string(timers);
    out += ",\"input_lines\":" + std::to_string(summary.input_lines) +
           ",\"input_bytes\":" + std::to_string(summary.input_bytes);
    out += ",\"actions_bytes\":" + std::to_string(summary.actions_bytes) +
           ",\"rejects_bytes\":" + std::to_string(summary.rejects_bytes);
    out += ",\"tags\":{";
    for (size_t t = 0; t < summary.tags.size(); ++t) {
      if (t > 0) out += ",";
      AppendJsonString(out, summary.tags[t].first);
      out += ":" + std::to_string(summary.tags[t].second);
    }
    out += "},\"fields\":{";
    for (size_t f = 0; f < summary.fields.size(); ++f) {
      if (f > 0) out += ",";
      AppendJsonString(out, summary.fields[f].name);
      out += ":{";
      for (const auto& [member, n] : summary.fields[f].members) {
        AppendJsonString(out, member);
        out += ":" + std::to_string(n) + ",";
      }
      out += "\"null\":" + std::to_string(summary.fields[f].unset) + "}";
    }
    out += "},\"segments\":{";
    for (size_t k = 0; k < summary.segments.size(); ++k) {
      const qianmian::StateSummary::Segment& seg = summary.segments[k];
      if (k > 0) out += ",";
      AppendJsonString(out, seg.name);
      out += ":{\"members\":" + std::to_string(seg.members) + ",\"ranked\":" + std::to_string(seg.ranked);
      auto text_or_null = [&](const char* key, const std::string& v) {
        out += std::string(",\"") + key + "\":";
        if (v.empty()) out += "null";
        else AppendJsonString(out, v);
      };
      text_or_null("threshold", seg.threshold);
      text_or_null("last_refresh", seg.last_refresh);
      text_or_null("next_refresh", seg.next_refresh);
      out += "}";
    }
    out += "}";
    for (const auto& [key, counts] : {std::pair<const char*, const std::map<std::string, int64_t>*>{"rules_fired", &summary.rules_fired},
                                      {"actions", &summary.actions}, {"suppressed", &summary.suppressed}}) {
      out += std::string(",\"") + key + "\":{";
      bool first = true;
      for (const auto& [name, n] : *counts) {
        if (!first) out += ",";
        first = false;
        AppendJsonString(out, name);
        out += ":" + std::to_string(n);
      }
      out += "}";
    }
    out += "}\n";
    std::fputs(out.c_str(), stdout);
    return kExitOk;
  }
  std::printf("state `%s`: %lld customer%s, %lld pending timer%s\n", dir.c_str(), static_cast<long long>(customers),
              customers == 1 ? "" : "s", static_cast<long long>(timers), timers == 1 ? "" : "s");
  if (summary.merged > 0)
    std::printf("%lld id%s merged into another customer (identity keys, D12)\n", static_cast<long long>(summary.merged),
                summary.merged == 1 ? "" : "s");
  std::printf("read %lld lines (%lld bytes) of input; wrote %lld bytes of actions, %lld bytes of rejects\n",
              static_cast<long long>(summary.input_lines), static_cast<long long>(summary.input_bytes),
              static_cast<long long>(summary.actions_bytes), static_cast<long long>(summary.rejects_bytes));
  auto row = [&](const std::string& name, int64_t n) {
    std::printf("  %s %10lld  %6s\n", Pad(name, 24).c_str(), static_cast<long long>(n), Percent(n, customers).c_str());
  };
  if (!summary.tags.empty()) {
    std::printf("\ntags (customers tagged, share of customers):\n");
    for (const auto& [tag, n] : summary.tags) row(tag, n);
  }
  for (const qianmian::StateSummary::Field& field : summary.fields) {
    std::printf("\n%s (customers per value):\n", field.name.c_str());
    for (const auto& [member, n] : field.members) row(member, n);
    if (field.unset != 0) row("(unset)", field.unset);
  }
  if (!summary.segments.empty()) {
    std::printf("\nsegments (members, share of customers ranked; threshold, last refresh, next):\n");
    for (const qianmian::StateSummary::Segment& seg : summary.segments) {
      std::printf("  %s %10lld  %6s  %s  %s  %s\n", Pad(seg.name, 24).c_str(), static_cast<long long>(seg.members),
                  Percent(seg.members, seg.ranked).c_str(), seg.threshold.empty() ? "-" : seg.threshold.c_str(),
                  seg.last_refresh.empty() ? "(not refreshed)" : seg.last_refresh.c_str(),
                  seg.next_refresh.empty() ? "-" : seg.next_refresh.c_str());
    }
  }
  if (!summary.rules_fired.empty()) {
    std::printf("\nrules fired since the state began (steps in which each held):\n");
    std::vector<std::pair<std::string, int64_t>> fired(summary.rules_fired.begin(), summary.rules_fired.end());
    std::stable_sort(fired.begin(), fired.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [rule, n] : fired) std::printf("  %s %10lld\n", Pad(rule, 24).c_str(), static_cast<long long>(n));
  }
  if (!summary.suppressed.empty()) {
    std::printf("\nattempts suppressed since the state began, by reason:\n");
    for (const auto& [reason, n] : summary.suppressed)
      std::printf("  %s %10lld\n", Pad(reason, 24).c_str(), static_cast<long long>(n));
  }
  return kExitOk;
}

}  // namespace

int StateCommand(const std::vector<std::string>& args, qianmian::Language lang) {
  lang = LangOfArgs(args, lang);
  if (args.empty() || (args[0] != "show" && args[0] != "stats" && args[0] != "forget"))
    return Usage(Error::Of<ErrorKind::kStateTakes>(), lang);
  Flags flags;
  if (auto usage = SplitFlags(std::vector<std::string>(args.begin() + 1, args.end()), {"--customer", "--tz", "--format", "--lang"},
                              {}, "state " + args[0], flags))
    return Usage(*usage, lang);
  if (flags.positional.size() > 1) return Usage(Error::Of<ErrorKind::kTakesOneDirectory>({args[0]}), lang);
  std::string dir = flags.positional.empty() ? "" : flags.positional[0];
  const std::string* customer = flags.Get("--customer");
  const std::string* tz = flags.Get("--tz");
  const std::string* format = flags.Get("--format");
  if (const std::string* v = flags.Get("--lang")) {
    std::optional<qianmian::Language> chosen = ParseLang(*v);
    if (!chosen) return Usage(Error::Of<ErrorKind::kLangTakes>(), lang);
    lang = *chosen;
  }
  bool has_customer = customer != nullptr, has_tz = tz != nullptr, has_format = format != nullptr;
  std::string tz_text = tz != nullptr ? *tz : qianmian::RunOptions{}.tz;
  if (!qianmian::IsValidTz(tz_text)) return Usage(Error::Of<ErrorKind::kBadTz>({tz_text}), lang);
  if (format != nullptr && *format != "text" && *format != "json")
    return Usage(Error::Of<ErrorKind::kFormatTakes>(), lang);
  bool json = format != nullptr && *format == "json";
  if (dir.empty()) return Usage(Error::Of<ErrorKind::kNeedsStateDirectory>({args[0]}), lang);
  if (args[0] == "stats" && (has_customer || has_tz)) return Usage(Error::Of<ErrorKind::kShowOnlyOptions>(), lang);
  if (args[0] == "show" && has_format) return Usage(Error::Of<ErrorKind::kStatsOnlyOptions>(), lang);
  if (args[0] == "forget") {
    if (!has_customer || has_tz || has_format) return Usage(Error::Of<ErrorKind::kForgetTakesCustomer>(), lang);
    bool found = false;
    qianmian::Status status = qianmian::ForgetCustomer(dir, *customer, &found, lang);
    if (!status.ok()) return Fail(status.error);
    std::string quoted;
    AppendJsonString(quoted, *customer);
    if (!found) return Fail(Error::Of<ErrorKind::kNoCustomer>({quoted, dir}).Message(LangOf(lang)));
    std::printf("%s\n", Error::Of<ErrorKind::kForgotten>({quoted, dir}).Message(LangOf(lang)).c_str());
    return kExitOk;
  }
  std::string error;
  std::unique_ptr<qianmian::StateDirectory> state = qianmian::StateDirectory::Open(dir, &error, lang);
  if (!state) return Fail(error);
  if (args[0] == "stats") return Stats(*state, dir, json);

  if (has_customer) {
    std::string line;
    if (!state->Customer(*customer, tz_text, line, error)) {
      if (!error.empty()) return Fail(error);
      std::string quoted;
      AppendJsonString(quoted, *customer);
      return Fail(Error::Of<ErrorKind::kNoCustomer>({quoted, dir}).Message(LangOf(lang)));
    }
    std::printf("%s\n", line.c_str());
    return kExitOk;
  }
  error = state->ForEachCustomer(tz_text, [](std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
  });
  return error.empty() ? kExitOk : Fail(error);
}

}  // namespace qm::cli

// `qm state show|stats DIR`: what a state directory holds, read without the
// rule set (states are decoded against the schema stored with them).
#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/flags.h"
#include "compiler/source/source.h"
#include "runtime/engine/engine.h"
#include "runtime/state/durable.h"

namespace qm::cli {
namespace {

using state::CustomerState;
using state::kNever;
using state::Schema;
using state::Stored;

struct Printer {
  const Schema& schema;
  int tz_minutes;

  std::string Time(int64_t ms) const {
    std::string out;
    AppendJsonString(out, FormatTime(ms, tz_minutes));
    return out;
  }

  // A stored value as `qm run` prints it (A42); enums need the field's type.
  std::string Value(const Stored& v, const std::string& type) const {
    std::string out;
    switch (v.kind) {
      case ValueKind::kUnset: return "null";
      case ValueKind::kInt: return std::to_string(v.i);
      case ValueKind::kMoney: return FormatMoney(v.i);
      case ValueKind::kNumber: return FormatNumber(v.d);
      case ValueKind::kBool: return v.i ? "true" : "false";
      case ValueKind::kText: AppendJsonString(out, v.text); return out;
      case ValueKind::kTime: return Time(v.i);
      case ValueKind::kDuration: AppendJsonString(out, FormatDuration(v.i)); return out;
      case ValueKind::kEnum: {
        const Schema::Enum* e = schema.FindEnum(type);
        if (e == nullptr || v.i < 0 || static_cast<size_t>(v.i) >= e->members.size()) return "null";
        AppendJsonString(out, e->members[v.i]);
        return out;
      }
      default: return "null";
    }
  }

  // An aggregate's running value of the kind its key names (`… : money`).
  std::string Number(const std::string& aggregate, int64_t i, double d) const {
    std::string type = aggregate.substr(aggregate.rfind(" : ") + 3);
    if (type == "money") return FormatMoney(i);
    if (type == "number") return FormatNumber(d);
    return std::to_string(i);
  }

  std::string Customer(const std::string& id, const CustomerState& s) const {
    std::string out = "{\"customer\":";
    AppendJsonString(out, id);
    out += ",\"clock\":" + (s.clock == kNever ? std::string("null") : Time(s.clock));
    out += ",\"profile\":{";
    for (size_t f = 0; f < s.profile.size(); ++f) {
      if (f > 0) out += ",";
      AppendJsonString(out, schema.fields[f].name);
      out += ":" + Value(s.profile[f], schema.fields[f].type);
    }
    out += "},\"tags\":[";
    bool first = true;
    for (size_t t = 0; t < s.tags.size(); ++t) {
      if (!s.tags[t]) continue;
      if (!first) out += ",";
      first = false;
      AppendJsonString(out, schema.tags[t]);
    }
    out += "],\"aggregates\":{";
    first = true;
    for (size_t a = 0; a < s.aggregates.size(); ++a) {
      const state::AggregateState& st = s.aggregates[a];
      if (st.count == 0 && st.window.empty()) continue;
      const std::string& key = schema.aggregates[a];
      if (!first) out += ",";
      first = false;
      AppendJsonString(out, key.substr(0, key.rfind(" : ")));
      // Windowed: the value as of the customer's latest event (A18).
      int64_t within = schema.aggregate_windows[a];
      int64_t count = st.count, min_i = st.min_i, max_i = st.max_i;
      __int128 sum = st.sum;
      double dsum = st.dsum, min_d = st.min_d, max_d = st.max_d;
      if (within > 0) {
        count = 0;
        sum = 0;
        dsum = 0;
        for (const state::AggregateState::Entry& e : st.window) {
          if (e.ts < s.clock - within || e.ts > s.clock) continue;
          if (count++ == 0) min_i = max_i = e.i, min_d = max_d = e.d;
          sum += e.i;
          dsum += e.d;
          min_i = std::min(min_i, e.i), max_i = std::max(max_i, e.i);
          min_d = std::min(min_d, e.d), max_d = std::max(max_d, e.d);
        }
      }
      out += ":{\"count\":" + std::to_string(count);
      if (key.rfind("count(", 0) != 0) {  // A19: the sum of nothing is 0; min and max are unset
        int64_t clamped = sum > INT64_MAX ? INT64_MAX : sum < INT64_MIN ? INT64_MIN : static_cast<int64_t>(sum);
        out += ",\"sum\":" + Number(key, clamped, dsum) + ",\"min\":" + (count ? Number(key, min_i, min_d) : "null") +
               ",\"max\":" + (count ? Number(key, max_i, max_d) : "null");
      }
      out += "}";
    }
    out += "},\"last_event\":{";
    first = true;
    for (size_t e = 0; e < s.last_event.size(); ++e) {
      if (s.last_event[e] == kNever) continue;
      if (!first) out += ",";
      first = false;
      AppendJsonString(out, schema.events[e]);
      out += ":" + Time(s.last_event[e]);
    }
    out += "},\"pushed\":{";
    for (size_t p = 0; p < s.pushes.size(); ++p) {
      if (p > 0) out += ",";
      const std::string& target = schema.targets[s.pushes[p].first];  // `p:VIP群` or `i:…`
      AppendJsonString(out, (target[0] == 'i' ? "invite " : "push ") + target.substr(2));
      out += ":" + Time(s.pushes[p].second);
    }
    out += "},\"timers\":[";
    // By due time; `no` timers first, then `after`s in scheduling order.
    std::vector<std::tuple<int64_t, uint64_t, std::string>> timers;
    for (size_t q = 0; q < s.quiet_due.size(); ++q) {
      if (s.quiet_due[q] == kNever) continue;
      const std::string& key = schema.quiet_rules[q];  // `name : no order for 60d`
      std::string t = "{\"due\":" + Time(s.quiet_due[q]) + ",\"rule\":";
      AppendJsonString(t, key.substr(0, key.rfind(" : ")));
      t += ",\"when\":";
      AppendJsonString(t, key.substr(key.rfind(" : ") + 3));
      timers.emplace_back(s.quiet_due[q], 0, t + "}");
    }
    for (const state::PendingAfter& a : s.afters) {
      std::string t = "{\"due\":" + Time(a.due) + ",\"rule\":";
      AppendJsonString(t, schema.rules[a.rule].name);
      t += ",\"action\":";
      AppendJsonString(t, schema.rules[a.rule].actions[a.action]);
      timers.emplace_back(a.due, a.seq, t + "}");
    }
    std::stable_sort(timers.begin(), timers.end(), [](const auto& x, const auto& y) {
      return std::tie(std::get<0>(x), std::get<1>(x)) < std::tie(std::get<0>(y), std::get<1>(y));
    });
    for (size_t t = 0; t < timers.size(); ++t) out += (t > 0 ? "," : "") + std::get<2>(timers[t]);
    out += "]}\n";
    return out;
  }
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "qm: %s\n", message.c_str());
  return kExitErrors;
}

// `name` padded to `width` display columns (CJK is two wide).
std::string Pad(const std::string& name, int width) {
  return name + std::string(std::max(0, width - utf8::DisplayWidth(name)), ' ');
}

std::string Percent(int64_t part, int64_t whole) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0);
  return buf;
}

int Stats(state::StateReader& reader, const std::string& dir, bool json) {
  const Schema& schema = reader.schema();
  int64_t customers = 0, timers = 0;
  std::vector<int64_t> tagged(schema.tags.size());
  // Per enum-typed profile field: customers per member, the last slot unset.
  std::map<size_t, std::vector<int64_t>> members;
  for (size_t f = 0; f < schema.fields.size(); ++f)
    if (const Schema::Enum* e = schema.FindEnum(schema.fields[f].type)) members[f].assign(e->members.size() + 1, 0);
  auto error = reader.ForEach([&](const std::string&, const CustomerState& s) {
    ++customers;
    for (size_t t = 0; t < s.tags.size(); ++t) tagged[t] += s.tags[t];
    for (auto& [f, counts] : members) {
      const Stored& v = s.profile[f];
      bool known = v.kind == ValueKind::kEnum && v.i >= 0 && static_cast<size_t>(v.i) + 1 < counts.size();
      ++counts[known ? v.i : counts.size() - 1];
    }
    timers += static_cast<int64_t>(s.afters.size());
    for (int64_t due : s.quiet_due) timers += due != kNever;
  });
  if (error) return Fail(*error);
  const std::optional<state::Checkpoint>& c = reader.checkpoint();
  if (json) {
    std::string out = "{\"customers\":" + std::to_string(customers) + ",\"pending_timers\":" + std::to_string(timers);
    out += ",\"input_lines\":" + std::to_string(c->input_lines) + ",\"input_bytes\":" + std::to_string(c->input_bytes);
    out += ",\"actions_bytes\":" + std::to_string(c->actions_bytes) + ",\"rejects_bytes\":" + std::to_string(c->rejects_bytes);
    out += ",\"tags\":{";
    for (size_t t = 0; t < tagged.size(); ++t) {
      if (t > 0) out += ",";
      AppendJsonString(out, schema.tags[t]);
      out += ":" + std::to_string(tagged[t]);
    }
    out += "},\"fields\":{";
    bool first_field = true;
    for (const auto& [f, counts] : members) {
      if (!first_field) out += ",";
      first_field = false;
      AppendJsonString(out, schema.fields[f].name);
      out += ":{";
      const Schema::Enum* e = schema.FindEnum(schema.fields[f].type);
      for (size_t m = 0; m < e->members.size(); ++m) {
        AppendJsonString(out, e->members[m]);
        out += ":" + std::to_string(counts[m]) + ",";
      }
      out += "\"null\":" + std::to_string(counts.back()) + "}";
    }
    out += "}}\n";
    std::fputs(out.c_str(), stdout);
    return kExitOk;
  }
  std::printf("state `%s`: %lld customer%s, %lld pending timer%s\n", dir.c_str(), static_cast<long long>(customers),
              customers == 1 ? "" : "s", static_cast<long long>(timers), timers == 1 ? "" : "s");
  std::printf("read %lld lines (%lld bytes) of input; wrote %lld bytes of actions, %lld bytes of rejects\n",
              static_cast<long long>(c->input_lines), static_cast<long long>(c->input_bytes),
              static_cast<long long>(c->actions_bytes), static_cast<long long>(c->rejects_bytes));
  if (!tagged.empty()) {
    std::printf("\ntags (customers tagged, share of customers):\n");
    for (size_t t = 0; t < tagged.size(); ++t)
      std::printf("  %s %10lld  %6s\n", Pad(schema.tags[t], 24).c_str(), static_cast<long long>(tagged[t]),
                  Percent(tagged[t], customers).c_str());
  }
  for (const auto& [f, counts] : members) {
    std::printf("\n%s (customers per value):\n", schema.fields[f].name.c_str());
    const Schema::Enum* e = schema.FindEnum(schema.fields[f].type);
    for (size_t m = 0; m <= e->members.size(); ++m) {
      if (m == e->members.size() && counts[m] == 0) continue;
      std::printf("  %s %10lld  %6s\n", Pad(m < e->members.size() ? e->members[m] : "(unset)", 24).c_str(),
                  static_cast<long long>(counts[m]), Percent(counts[m], customers).c_str());
    }
  }
  return kExitOk;
}

}  // namespace

int StateCommand(const std::vector<std::string>& args) {
  if (args.empty() || (args[0] != "show" && args[0] != "stats"))
    return Usage("state takes `show DIR [--customer ID]` or `stats DIR`");
  Flags flags;
  if (auto usage = SplitFlags(std::vector<std::string>(args.begin() + 1, args.end()), {"--customer", "--tz", "--format"},
                              {}, "state " + args[0], flags))
    return Usage(*usage);
  if (flags.positional.size() > 1) return Usage("state " + args[0] + " takes one directory");
  std::string dir = flags.positional.empty() ? "" : flags.positional[0];
  const std::string* customer = flags.Get("--customer");
  const std::string* tz = flags.Get("--tz");
  const std::string* format = flags.Get("--format");
  bool has_customer = customer != nullptr, has_tz = tz != nullptr, has_format = format != nullptr;
  int tz_minutes = engine::kDefaultTzMinutes;
  if (tz != nullptr) {
    std::optional<int> offset = ParseOffset(*tz);
    if (!offset) return Usage("--tz takes an offset such as `+08:00` or `Z`, not `" + *tz + "`");
    tz_minutes = *offset;
  }
  if (format != nullptr && *format != "text" && *format != "json") return Usage("--format takes `text` or `json`");
  bool json = format != nullptr && *format == "json";
  if (dir.empty()) return Usage("state " + args[0] + " needs a state directory");
  if (args[0] == "stats" && (has_customer || has_tz)) return Usage("--customer and --tz are for state show");
  if (args[0] == "show" && has_format) return Usage("--format is for state stats; state show prints JSON Lines");
  std::string error;
  std::unique_ptr<state::StateReader> reader = state::StateReader::Open(dir, &error);
  if (!reader) return Fail(error);
  if (args[0] == "stats") return Stats(*reader, dir, json);

  Printer printer{reader->schema(), tz_minutes};
  if (has_customer) {
    std::optional<CustomerState> s;
    if (auto e = reader->Get(*customer, s)) return Fail(*e);
    if (!s) {
      std::string quoted;
      AppendJsonString(quoted, *customer);
      return Fail("no customer " + quoted + " in state `" + dir + "`");
    }
    std::fputs(printer.Customer(*customer, *s).c_str(), stdout);
    return kExitOk;
  }
  auto e = reader->ForEach([&](const std::string& id, const CustomerState& s) {
    std::fputs(printer.Customer(id, s).c_str(), stdout);
  });
  return e ? Fail(*e) : kExitOk;
}

}  // namespace qm::cli

#include "runtime/state/inspect.h"

#include <algorithm>
#include <tuple>

#include "compiler/value/value.h"

namespace qm::state {
namespace {

const std::vector<std::string> kNoMembers;

struct Printer {
  const Schema& schema;
  int tz_minutes;

  std::string Time(int64_t ms) const { return FormatJsonValue(Value::Time(ms), kNoMembers, tz_minutes); }

  // A stored value; an enum by its field's type.
  std::string Field(const Stored& v, const std::string& type) const {
    const Schema::Enum* e = schema.FindEnum(type);
    return FormatJsonValue(v.view(), e != nullptr ? e->members : kNoMembers, tz_minutes);
  }

  // An aggregate's running value, of the kind its key names (`… : money`).
  std::string Number(const std::string& aggregate, int64_t i, double d) const {
    std::string type = aggregate.substr(aggregate.rfind(" : ") + 3);
    Value v = type == "money" ? Value::Money(i) : type == "number" ? Value::Number(d) : Value::Int(i);
    return FormatJsonValue(v, kNoMembers, tz_minutes);
  }

  std::string Customer(const std::string& id, const CustomerState& s) const {
    std::string out = "{\"customer\":";
    AppendJsonString(out, id);
    if (!s.aliases.empty()) {  // D12: the ids merged into this person
      out += ",\"aliases\":[";
      for (size_t i = 0; i < s.aliases.size(); ++i) {
        if (i > 0) out += ",";
        AppendJsonString(out, s.aliases[i]);
      }
      out += "]";
    }
    if (!s.keys.empty()) {  // D11: the identity values that name it, by key
      out += ",\"identity\":{";
      std::vector<std::string> keys;
      for (const auto& [key, value] : s.keys)
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
      for (size_t k = 0; k < keys.size(); ++k) {
        if (k > 0) out += ",";
        AppendJsonString(out, keys[k]);
        out += ":[";
        bool first_value = true;
        for (const auto& [key, value] : s.keys) {
          if (key != keys[k]) continue;
          if (!first_value) out += ",";
          first_value = false;
          AppendJsonString(out, value);
        }
        out += "]";
      }
      out += "}";
    }
    out += ",\"clock\":" + (s.clock == kNever ? std::string("null") : Time(s.clock));
    out += ",\"profile\":{";
    for (size_t f = 0; f < s.profile.size(); ++f) {
      if (f > 0) out += ",";
      AppendJsonString(out, schema.fields[f].name);
      out += ":" + Field(s.profile[f], schema.fields[f].type);
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
      const AggregateState& st = s.aggregates[a];
      if (st.empty()) continue;
      const std::string& key = schema.aggregates[a];
      if (!first) out += ",";
      first = false;
      AppendJsonString(out, key.substr(0, key.rfind(" : ")));
      int64_t from = schema.WindowFrom(a, s.clock);
      if (schema.IsDistinct(a)) {  // D10
        int64_t n = from != kNever ? st.DistinctIn(from, s.clock) : st.DistinctSeen();
        out += ":{\"count\":" + std::to_string(n) + "}";
        continue;
      }
      const Totals t = from != kNever ? st.Window(from, s.clock) : st.Whole();
      out += ":{\"count\":" + std::to_string(t.count);
      if (key.rfind("count(", 0) != 0) {  // A19: the sum of nothing is 0; min and max are unset
        out += ",\"sum\":" + Number(key, t.ClampedSum(), t.dsum) +
               ",\"min\":" + (t.count ? Number(key, t.min_i, t.min_d) : "null") +
               ",\"max\":" + (t.count ? Number(key, t.max_i, t.max_d) : "null");
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
      const std::string& target = s.pushes[p].first;  // `p:VIP群` or `i:…`
      AppendJsonString(out, (target[0] == 'i' ? "invite " : "push ") + target.substr(2));
      out += ":" + Time(s.pushes[p].second);
    }
    out += "},\"timers\":[" + Timers(s) + "]}";
    return out;
  }

  // By due time; `no` timers first, then `after`s in scheduling order.
  std::string Timers(const CustomerState& s) const {
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
    for (const PendingAfter& a : s.afters) {
      std::string t = "{\"due\":" + Time(a.due) + ",\"rule\":";
      AppendJsonString(t, schema.rules[a.rule].name);
      t += ",\"action\":";
      AppendJsonString(t, schema.rules[a.rule].actions[a.action]);
      timers.emplace_back(a.due, a.seq, t + "}");
    }
    std::stable_sort(timers.begin(), timers.end(), [](const auto& x, const auto& y) {
      return std::tie(std::get<0>(x), std::get<1>(x)) < std::tie(std::get<0>(y), std::get<1>(y));
    });
    std::string out;
    for (size_t t = 0; t < timers.size(); ++t) out += (t > 0 ? "," : "") + std::get<2>(timers[t]);
    return out;
  }
};

}  // namespace

std::string CustomerJson(const Schema& schema, const std::string& id, const CustomerState& state, int tz_minutes) {
  return Printer{schema, tz_minutes}.Customer(id, state);
}

std::optional<Error> Summarize(const std::vector<StateReader*>& readers, Summary& summary) {
  const Schema& schema = readers.front()->schema();
  const std::string encoded = schema.Encode();
  for (StateReader* reader : readers)
    if (reader->schema().Encode() != encoded) return Error::Of<ErrorKind::kPartitionsDifferInRules>();
  summary = Summary{};
  summary.tagged.assign(schema.tags.size(), 0);
  for (size_t f = 0; f < schema.fields.size(); ++f)
    if (const Schema::Enum* e = schema.FindEnum(schema.fields[f].type))
      summary.fields.push_back({f, std::vector<int64_t>(e->members.size() + 1, 0)});
  // RFM: the first whole-history money sum; each customer's last E, count and total.
  size_t by = schema.aggregates.size(), event = schema.events.size();
  for (size_t a = 0; a < schema.aggregates.size() && by == schema.aggregates.size(); ++a) {
    const std::string& key = schema.aggregates[a];
    size_t dot = key.find('.');
    if (key.rfind("sum(", 0) != 0 || schema.aggregate_windows[a] != 0 || key.find(" where ") != std::string::npos ||
        key.size() < 9 || key.compare(key.size() - 9, 9, ") : money") != 0 || dot == std::string::npos)
      continue;
    auto e = std::find(schema.events.begin(), schema.events.end(), key.substr(4, dot - 4));
    if (e == schema.events.end()) continue;
    by = a;
    event = static_cast<size_t>(e - schema.events.begin());
  }
  struct Point { int64_t last, count, cents; };
  std::vector<Point> rfm;
  if (by < schema.aggregates.size()) {
    summary.rfm.emplace();
    summary.rfm->by = schema.aggregates[by].substr(0, schema.aggregates[by].rfind(" : "));
  }
  std::optional<Error> error;
  for (StateReader* reader : readers) {
    if (error) break;
    error = reader->ForEach([&](const std::string&, const CustomerState& s) {
      if (summary.rfm) {
        Totals t = s.aggregates[by].Whole();
        if (t.count > 0 && s.last_event[event] != kNever) rfm.push_back({s.last_event[event], t.count, t.ClampedSum()});
        else ++summary.rfm->without;
      }
      ++summary.customers;
      summary.merged += static_cast<int64_t>(s.aliases.size());
      for (size_t t = 0; t < s.tags.size(); ++t) summary.tagged[t] += s.tags[t];
      for (Summary::Members& m : summary.fields) {
        const Stored& v = s.profile[m.field];
        bool known = v.kind == ValueKind::kEnum && v.i >= 0 && static_cast<size_t>(v.i) + 1 < m.counts.size();
        ++m.counts[known ? v.i : m.counts.size() - 1];
      }
      summary.pending_timers += static_cast<int64_t>(s.afters.size());
      for (int64_t due : s.quiet_due) summary.pending_timers += due != kNever;
    });
  }
  if (summary.rfm) {
    using R = RfmGrid;
    int64_t now = kNever;
    for (const Point& c : rfm) now = std::max(now, c.last);
    for (const Point& c : rfm) {
      int64_t days = (now - c.last) / 86400000;
      int r = 0, f = 0;
      while (r < R::kBuckets - 1 && days > R::kRecencyDays[r]) ++r;
      while (f + 1 < R::kBuckets && c.count >= R::kFrequency[f + 1]) ++f;
      ++summary.rfm->customers[r][f];
      summary.rfm->cents[r][f] += c.cents;
    }
  }
  bool first = true;
  for (StateReader* reader : readers) {
    if (!reader->checkpoint()) continue;
    const Checkpoint& at = *reader->checkpoint();
    if (first) {
      summary.checkpoint = at;
      first = false;
      continue;
    }
    // A worker's partitions number their lines as the published input
    // does: together they have read up to the furthest.
    summary.checkpoint.input_lines = std::max(summary.checkpoint.input_lines, at.input_lines);
    summary.checkpoint.input_bytes += at.input_bytes;
    summary.checkpoint.actions_bytes += at.actions_bytes;
    summary.checkpoint.rejects_bytes += at.rejects_bytes;
    summary.checkpoint.tallies.Add(at.tallies);
  }
  return error;
}

}  // namespace qm::state

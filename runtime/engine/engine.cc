#include "runtime/engine/engine.h"

#include <algorithm>
#include <limits>

#include "compiler/diag/diag.h"

namespace qm::engine {
namespace {

using state::AfterOrder;
using state::AggregateState;
using state::CustomerState;
using state::kNever;
using state::PendingAfter;
using state::Stored;

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  return r;
}

int64_t SaturatingMul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return (a < 0) != (b < 0) ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  return r;
}

int64_t Clamp(__int128 v) {
  if (v > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (v < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

using ir::ConstantValue;
using ir::KindOf;

// A24/A25 conversions into a field of type `to`: int -> money/number, money -> number.
Value Convert(const Value& v, const check::Type& to) {
  ValueKind k = KindOf(to);
  if (v.kind == k || v.unset()) return v;
  if (k == ValueKind::kMoney && v.kind == ValueKind::kInt) return Value::Money(SaturatingMul(v.i, 100));
  if (k == ValueKind::kNumber) return Value::Number(ToDouble(v));
  return v;
}

struct TimerKey {
  int64_t due;
  const std::string* customer;  // the store's stable copy
  CustomerState* state;
  uint8_t kind;  // 0: `no` rule (id = quiet index), 1: `after` (id = seq)
  uint64_t id;
  int32_t unless = 0;  // an `after`'s, to find it in its customer's PendingAfters; not part of the order
  bool operator<(const TimerKey& o) const {
    if (due != o.due) return due < o.due;
    if (customer != o.customer) {
      int c = customer->compare(*o.customer);  // A32: code point order = byte order
      if (c != 0) return c < 0;
    }
    if (kind != o.kind) return kind < o.kind;
    return id < o.id;
  }
};

// What a step changed, to compute its net internal events (A29).
struct ChangeLog {
  std::vector<std::pair<int32_t, Stored>> fields;  // field, value at step start
  std::vector<std::pair<int32_t, uint8_t>> tags;   // tag, presence at step start
  void Field(int32_t f, const Stored& before) {
    for (auto& [k, v] : fields) if (k == f) return;
    fields.emplace_back(f, before);
  }
  void Tag(int32_t t, uint8_t before) {
    for (auto& [k, v] : tags) if (k == t) return;
    tags.emplace_back(t, before);
  }
};

}  // namespace

std::string FormatJsonValue(const Value& v, const check::Type& type, const check::Program& program,
                            int tz_minutes) {
  if (v.unset()) return "null";
  std::string out;
  switch (v.kind) {
    case ValueKind::kInt: return std::to_string(v.i);
    case ValueKind::kMoney: return FormatMoney(v.i);
    case ValueKind::kNumber: return FormatNumber(v.d);
    case ValueKind::kBool: return v.i ? "true" : "false";
    case ValueKind::kText: AppendJsonString(out, v.text); return out;
    case ValueKind::kTime: AppendJsonString(out, FormatTime(v.i, tz_minutes)); return out;
    case ValueKind::kDuration: AppendJsonString(out, FormatDuration(v.i)); return out;
    case ValueKind::kEnum: AppendJsonString(out, program.enums[type.enum_id].members[v.i]); return out;
    default: return "null";
  }
}

class Engine::Impl final : public ir::StepView {
 public:
  Impl(const ir::Program& program, ir::Evaluator& evaluator, state::Store& store, Output& output,
       Options options, Stats& stats)
      : program_(program), p_(program.checked), evaluator_(evaluator), store_(store), out_(output),
        options_(options), stats_(stats), decoder_(program) {}

  // ------------------------------------------------------------ StepView
  Value EventField(int32_t field) const override {
    return event_ != nullptr ? event_->fields[field] : Value{};
  }
  Value ProfileField(int32_t field) const override { return s_->profile[field].view(); }
  bool HasTag(int32_t tag) const override { return s_->tags[tag] != 0; }
  Value Since(int32_t event) const override {
    int64_t last = event == check::kAnyEvent ? s_->last_any : s_->last_event[event];
    return last == kNever ? Value{} : Value::Duration(now_ - last);
  }
  Value SinceField(int32_t field) const override {
    const Stored& f = s_->profile[field];
    return f.kind == ValueKind::kUnset ? Value{} : Value::Duration(now_ - f.i);
  }
  int64_t Now() const override { return now_; }
  std::string_view Customer() const override { return *customer_; }

  Value Aggregate(int32_t a) const override {
    const check::AggregateInfo& info = p_.aggregates[a];
    const AggregateState& st = s_->aggregates[a];
    check::Type type = info.field >= 0 ? p_.events[info.event].fields[info.field].type : check::Type{check::TypeKind::kInt};
    bool is_number = type.kind == check::TypeKind::kNumber;
    int64_t count = 0;
    __int128 sum = 0;
    double dsum = 0;
    int64_t min_i = 0, max_i = 0;
    double min_d = 0, max_d = 0;
    if (info.within_ms == 0) {
      count = st.count;
      sum = st.sum;
      dsum = st.dsum;
      min_i = st.min_i; max_i = st.max_i; min_d = st.min_d; max_d = st.max_d;
    } else {
      // A18: now - D <= ts <= now.
      int64_t from = now_ - info.within_ms;
      auto begin = std::lower_bound(st.window.begin() + st.head, st.window.end(), from,
                                    [](const AggregateState::Entry& e, int64_t t) { return e.ts < t; });
      for (auto it = begin; it != st.window.end() && it->ts <= now_; ++it) {
        if (count == 0) { min_i = max_i = it->i; min_d = max_d = it->d; }
        ++count;
        sum += it->i;
        dsum += it->d;
        min_i = std::min(min_i, it->i); max_i = std::max(max_i, it->i);
        min_d = std::min(min_d, it->d); max_d = std::max(max_d, it->d);
      }
    }
    ValueKind kind = KindOf(type);
    switch (info.func) {
      case check::AggFunc::kCount: return Value::Int(count);
      case check::AggFunc::kSum:
        if (is_number) return Value::Number(dsum);
        return Value{kind, Clamp(sum)};  // A19: exact, then saturated
      case check::AggFunc::kMin:
        if (count == 0) return {};
        return is_number ? Value::Number(min_d) : Value{kind, min_i};
      case check::AggFunc::kMax:
        if (count == 0) return {};
        return is_number ? Value::Number(max_d) : Value{kind, max_i};
      case check::AggFunc::kAvg: {
        if (count == 0) return {};
        if (is_number) return Value::Number(dsum / static_cast<double>(count));
        Value r{ValueKind::kRatio, Clamp(sum)};
        r.j = kind == ValueKind::kMoney ? count * 100 : count;
        return r;
      }
    }
    return {};
  }

  // ---------------------------------------------------------------- input
  void ProcessLine(std::string_view line, int64_t line_number) {
    ++stats_.lines;
    if (line.size() > event::kMaxLineBytes) {  // before A40's trimming: nothing of it is read
      Reject(line_number, "line_too_long", {}, {});
      return;
    }
    if (line_number == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // A40
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) return;
    event::Reject reject;
    if (!decoder_.Decode(line, event_buf_, reject)) {
      Reject(line_number, reject.reason, reject.field, reject.customer);
      return;
    }
    CustomerState* s = store_.Find(event_buf_.customer);
    if (s != nullptr && event_buf_.ts < s->clock) {  // A34, A38 check 10
      Reject(line_number, "late", "ts", event_buf_.customer);
      return;
    }
    FireDue(event_buf_.ts);
    if (s == nullptr) s = &store_.Create(event_buf_.customer);
    ++stats_.events;
    RunEvent(*s, event_buf_);
  }

  void FireUntil(int64_t until) { FireDue(until); }

  // Pending timers live in the states; the queue is rebuilt from them. Only
  // the relative order of `after` sequence numbers matters (A33), so new ones
  // continue after the largest pending one.
  void Resume() {
    next_seq_ = 1;
    timers_.clear();
    store_.ForEach([&](CustomerState& s) {
      for (size_t q = 0; q < s.quiet_due.size(); ++q)
        if (s.quiet_due[q] != kNever) timers_.insert(TimerKey{s.quiet_due[q], s.id, &s, 0, q});
      for (const PendingAfter& a : s.afters) {
        timers_.insert(TimerKey{a.due, s.id, &s, 1, a.seq, a.unless});
        next_seq_ = std::max(next_seq_, a.seq + 1);
      }
    });
  }

 private:
  // A38's line; D8: with the customer as written once check 7 passed.
  void Reject(int64_t line_number, std::string_view reason, const std::string& field, std::string_view customer) {
    std::string line = "{\"line\":" + std::to_string(line_number);
    if (!customer.empty()) {
      line += ",\"customer\":";
      AppendJsonString(line, customer);
    }
    line += ",\"reason\":\"" + std::string(reason) + "\"";
    if (!field.empty()) {
      line += ",\"field\":";
      AppendJsonString(line, field);
    }
    line += "}\n";
    out_.Reject(line);
    ++stats_.rejects[std::string(reason)];
  }

  // --------------------------------------------------------------- timers
  void ArmQuiet(CustomerState& s, int32_t q, int64_t due) {
    if (s.quiet_due[q] != kNever) timers_.erase(TimerKey{s.quiet_due[q], s.id, &s, 0, static_cast<uint64_t>(q)});
    s.quiet_due[q] = due;
    timers_.insert(TimerKey{due, s.id, &s, 0, static_cast<uint64_t>(q)});
  }

  // A32: every pending timer due at or before `t`, by (due, customer).
  void FireDue(int64_t t) {
    while (!timers_.empty() && timers_.begin()->due <= t) {
      int64_t due = timers_.begin()->due;
      CustomerState* state = timers_.begin()->state;
      std::vector<TimerKey> group;
      while (!timers_.empty() && timers_.begin()->due == due && timers_.begin()->state == state) {
        group.push_back(*timers_.begin());
        timers_.erase(timers_.begin());
      }
      FireGroup(*state, due, group);
    }
  }

  // A33: one customer's timers with one due time are one step.
  void FireGroup(CustomerState& s, int64_t due, const std::vector<TimerKey>& group) {
    ++stats_.timer_steps;
    s.clock = std::max(s.clock, due);  // A34
    std::vector<int32_t> quiet_candidates;
    std::vector<PendingAfter> afters;
    for (const TimerKey& k : group) {
      if (k.kind == 0) {
        s.quiet_due[k.id] = kNever;  // fired: disarmed until re-armed (A33)
        quiet_candidates.push_back(program_.quiet_rules[k.id]);
      } else {
        afters.push_back(std::move(s.afters.extract(s.afters.find(AfterOrder::Key{k.unless, k.id})).value()));
      }
    }
    std::sort(quiet_candidates.begin(), quiet_candidates.end());
    Begin(s, nullptr, due);
    std::vector<int32_t> matched;
    evaluator_.Match(quiet_candidates, *this, matched);
    // The `no` rules' actions and the delayed actions, in rule file order, then scheduling order.
    struct Work { int32_t rule; int kind; uint64_t seq; size_t index; };
    std::vector<Work> work;
    for (int32_t r : matched) work.push_back({r, 0, 0, 0});
    for (size_t i = 0; i < afters.size(); ++i) work.push_back({afters[i].rule, 1, afters[i].seq, i});
    std::sort(work.begin(), work.end(), [](const Work& a, const Work& b) {
      if (a.rule != b.rule) return a.rule < b.rule;
      if (a.kind != b.kind) return a.kind < b.kind;
      return a.seq < b.seq;
    });
    ChangeLog log;
    for (const Work& w : work) {
      if (w.kind == 0) {
        ApplyRule(w.rule, log);
      } else {
        const PendingAfter& a = afters[w.index];
        Apply(a.rule, a.action, a.value.view(), log);
      }
    }
    Cascade(log);
  }

  // ---------------------------------------------------------------- steps
  void Begin(CustomerState& s, const event::Event* e, int64_t now) {
    store_.Touch(s);
    s_ = &s;
    customer_ = s.id;
    event_ = e;
    now_ = now;
    prefix_customer_ = nullptr;  // the line prefix is cached per step only
  }

  void RunEvent(CustomerState& s, const event::Event& e) {
    int32_t type = e.type;
    if (!s.seen) {
      s.seen = true;
      for (size_t q = 0; q < program_.quiet_rules.size(); ++q)  // A35: armed at the first event
        ArmQuiet(s, static_cast<int32_t>(q),
                 e.ts + p_.rules[program_.quiet_rules[q]].trigger.duration_ms);
    }
    // A27: an accepted E before the due time cancels `after ... unless E`.
    for (int32_t unless : {check::kAnyEvent, type}) {
      if (s.afters.empty()) break;
      auto first = s.afters.lower_bound(AfterOrder::Key{unless, 0});
      auto last = s.afters.lower_bound(AfterOrder::Key{unless + 1, 0});
      for (auto it = first; it != last; ++it) timers_.erase(TimerKey{it->due, s.id, &s, 1, it->seq});
      s.afters.erase(first, last);
    }
    for (int32_t q : program_.rearmed_by_event[type])
      ArmQuiet(s, q, e.ts + p_.rules[program_.quiet_rules[q]].trigger.duration_ms);
    s.clock = std::max(s.clock, e.ts);
    Begin(s, &e, e.ts);
    AddToAggregates(s, e);
    std::vector<int32_t> matched;
    evaluator_.Match(program_.rules_by_event[type], *this, matched);
    ChangeLog log;
    for (int32_t r : matched) ApplyRule(r, log);
    Cascade(log);
    // A20: `since` excludes the current event for its whole step and cascade.
    s.last_event[type] = e.ts;
    s.last_any = e.ts;
  }

  void AddToAggregates(CustomerState& s, const event::Event& e) {
    for (int32_t a : program_.aggregates_by_event[e.type]) {
      const check::AggregateInfo& info = p_.aggregates[a];
      if (info.where != check::kNoNode && !evaluator_.Filter(a, *this)) continue;
      int64_t i = 0;
      double d = 0;
      if (info.field >= 0) {
        const Value& v = e.fields[info.field];
        if (v.unset()) continue;  // A19: events without the value are skipped
        i = v.i;
        d = v.d;
      }
      AggregateState& st = s.aggregates[a];
      if (info.within_ms == 0) {
        if (st.count == 0) { st.min_i = st.max_i = i; st.min_d = st.max_d = d; }
        ++st.count;
        st.sum += i;
        st.dsum += d;
        st.min_i = std::min(st.min_i, i); st.max_i = std::max(st.max_i, i);
        st.min_d = std::min(st.min_d, d); st.max_d = std::max(st.max_d, d);
      } else {
        int64_t from = e.ts - info.within_ms;
        while (st.head < st.window.size() && st.window[st.head].ts < from) ++st.head;
        if (st.head > 32 && st.head * 2 > st.window.size()) {
          st.window.erase(st.window.begin(), st.window.begin() + st.head);
          st.head = 0;
        }
        st.window.push_back({e.ts, i, d});
      }
    }
  }

  // A29, A30: internal events of the net changes run as next steps.
  void Cascade(ChangeLog& log) {
    for (int depth = 1;; ++depth) {
      std::vector<int32_t> triggered;
      for (auto& [t, before] : log.tags) {
        uint8_t now = s_->tags[t];
        if (now && !before) triggered.insert(triggered.end(), program_.tagged_rules[t].begin(), program_.tagged_rules[t].end());
        if (!now && before) triggered.insert(triggered.end(), program_.untagged_rules[t].begin(), program_.untagged_rules[t].end());
      }
      for (auto& [f, before] : log.fields) {
        Value now = s_->profile[f].view();
        if (ValuesEqual(now, before.view())) continue;
        for (int32_t r : program_.becomes_rules[f]) {
          if (ValuesEqual(now, ConstantValue(p_.rules[r].trigger.value))) triggered.push_back(r);
        }
      }
      if (triggered.empty()) return;
      std::sort(triggered.begin(), triggered.end());
      triggered.erase(std::unique(triggered.begin(), triggered.end()), triggered.end());
      if (depth > options_.cascade_limit) {
        for (int32_t r : triggered) {
          std::string line = Prefix(p_.rules[r].name) + "\"action\":\"cascade_limit\",\"limit\":" +
                             std::to_string(options_.cascade_limit) + "}\n";
          Emit("cascade_limit", line);
          out_.Warning("cascade limit " + std::to_string(options_.cascade_limit) + " reached for customer " +
                       *customer_ + ": rule `" + p_.rules[r].name + "` not run");
        }
        return;
      }
      ChangeLog next;
      std::vector<int32_t> matched;
      event_ = nullptr;  // cascade steps have no triggering event (A13)
      evaluator_.Match(triggered, *this, matched);
      for (int32_t r : matched) ApplyRule(r, next);
      log = std::move(next);
    }
  }

  // --------------------------------------------------------------- actions
  void ApplyRule(int32_t r, ChangeLog& log) {
    const check::Rule& rule = p_.rules[r];
    for (size_t a = 0; a < rule.actions.size(); ++a) {
      const check::Action& action = rule.actions[a];
      Value value = ActionValue(action);
      if (action.after_ms > 0) {
        PendingAfter pending{next_seq_++, now_ + action.after_ms, r, static_cast<int32_t>(a), action.unless,
                             Stored::Of(value)};
        timers_.insert(TimerKey{pending.due, s_->id, s_, 1, pending.seq, pending.unless});
        s_->afters.insert(std::move(pending));
        continue;
      }
      Apply(r, static_cast<int32_t>(a), value, log);
    }
  }

  // The value of set/add, read when the action is applied or scheduled (A24, A27).
  Value ActionValue(const check::Action& a) const {
    if (a.kind != check::ActionKind::kSet && a.kind != check::ActionKind::kAdd) return {};
    switch (a.value.kind) {
      case check::ActionValue::Kind::kConstant: return ConstantValue(a.value.constant);
      case check::ActionValue::Kind::kEventField: return EventField(a.value.field);
      case check::ActionValue::Kind::kProfileField: return ProfileField(a.value.field);
      case check::ActionValue::Kind::kTs: return Value::Time(now_);
    }
    return {};
  }

  std::string Prefix(const std::string& rule) {
    // `{"ts":"…","customer":"…",` is the same for every line of a step.
    if (prefix_time_ != now_ || prefix_customer_ != customer_) {
      prefix_ = "{\"ts\":\"" + FormatTime(now_, options_.tz_minutes) + "\",\"customer\":";
      AppendJsonString(prefix_, *customer_);
      prefix_time_ = now_;
      prefix_customer_ = customer_;
    }
    std::string line = prefix_;
    line += ",\"rule\":";
    AppendJsonString(line, rule);
    line += ",";
    return line;
  }

  void Emit(const char* kind, const std::string& line) {
    out_.Action(line);
    ++stats_.actions[kind];
  }

  // Applies a set (`by` null) or add to profile field `f`: prints its line
  // (A28) unless nothing changes (A22), and records the change for A29.
  void ChangeField(const check::Rule& rule, int32_t f, const Value& to, const Value* by, ChangeLog& log) {
    const check::FieldInfo& field = p_.profile[f];
    Stored& slot = s_->profile[f];
    Value from = slot.view();
    if (!from.unset() && ValuesEqual(from, to)) return;
    auto json = [&](const Value& v) { return FormatJsonValue(v, field.type, p_, options_.tz_minutes); };
    const char* kind = by != nullptr ? "add" : "set";
    std::string line = Prefix(rule.name) + "\"action\":\"" + kind + "\",\"field\":";
    AppendJsonString(line, field.name);
    if (by != nullptr) line += ",\"by\":" + json(*by);
    line += ",\"from\":" + json(from) + ",\"to\":" + json(to) + "}\n";
    log.Field(f, slot);
    slot = Stored::Of(to);
    Emit(kind, line);
  }

  void Apply(int32_t r, int32_t index, const Value& value, ChangeLog& log) {
    const check::Rule& rule = p_.rules[r];
    const check::Action& a = rule.actions[index];
    CustomerState& s = *s_;
    switch (a.kind) {
      case check::ActionKind::kSet:
        if (value.unset()) return;  // A24
        ChangeField(rule, a.target, Convert(value, p_.profile[a.target].type), nullptr, log);
        return;
      case check::ActionKind::kAdd: {
        if (value.unset()) return;  // A25
        const check::FieldInfo& field = p_.profile[a.target];
        Value by = Convert(value, field.type);
        Value from = s.profile[a.target].view();
        Value to;
        switch (field.type.kind) {
          case check::TypeKind::kNumber: to = Value::Number((from.unset() ? 0.0 : from.d) + by.d); break;
          case check::TypeKind::kMoney: to = Value::Money(SaturatingAdd(from.unset() ? 0 : from.i, by.i)); break;
          default: to = Value::Int(SaturatingAdd(from.unset() ? 0 : from.i, by.i)); break;
        }
        ChangeField(rule, a.target, to, &by, log);
        return;
      }
      case check::ActionKind::kTag:
      case check::ActionKind::kUntag: {
        uint8_t want = a.kind == check::ActionKind::kTag ? 1 : 0;
        if (s.tags[a.target] == want) return;  // A22
        log.Tag(a.target, s.tags[a.target]);
        s.tags[a.target] = want;
        std::string line = Prefix(rule.name) + "\"action\":\"" + (want ? "tag" : "untag") + "\",\"tag\":";
        AppendJsonString(line, p_.tags[a.target].name);
        line += "}\n";
        Emit(want ? "tag" : "untag", line);
        return;
      }
      case check::ActionKind::kPush:
      case check::ActionKind::kInvite: {
        int32_t target = program_.push_target[r][index];
        auto it = std::find_if(s.pushes.begin(), s.pushes.end(), [&](const auto& p) { return p.first == target; });
        if (it != s.pushes.end() && (a.every_ms == 0 || now_ - it->second < a.every_ms)) return;  // A26
        if (it == s.pushes.end()) s.pushes.emplace_back(target, now_);
        else it->second = now_;
        const char* kind = a.kind == check::ActionKind::kPush ? "push" : "invite";
        std::string line = Prefix(rule.name) + "\"action\":\"" + kind + "\",\"target\":";
        AppendJsonString(line, a.text);
        line += "}\n";
        Emit(kind, line);
        return;
      }
      case check::ActionKind::kNotify: {
        std::string line = Prefix(rule.name) + "\"action\":\"notify\",\"target\":";
        AppendJsonString(line, a.text);
        line += ",\"message\":";
        AppendJsonString(line, a.message);
        line += "}\n";
        Emit("notify", line);
        return;
      }
    }
  }

  const ir::Program& program_;
  const check::Program& p_;
  ir::Evaluator& evaluator_;
  state::Store& store_;
  Output& out_;
  Options options_;
  Stats& stats_;
  event::Decoder decoder_;
  event::Event event_buf_;
  std::set<TimerKey> timers_;
  uint64_t next_seq_ = 1;

  std::string prefix_;
  int64_t prefix_time_ = 0;
  const std::string* prefix_customer_ = nullptr;

  // The current step.
  CustomerState* s_ = nullptr;
  const std::string* customer_ = nullptr;
  const event::Event* event_ = nullptr;
  int64_t now_ = 0;
};

Engine::Engine(const ir::Program& program, ir::Evaluator& evaluator, state::Store& store, Output& output,
               Options options)
    : impl_(std::make_unique<Impl>(program, evaluator, store, output, options, stats_)) {}

Engine::~Engine() = default;

void Engine::ProcessLine(std::string_view line, int64_t line_number) { impl_->ProcessLine(line, line_number); }
void Engine::FireUntil(int64_t until) { impl_->FireUntil(until); }
void Engine::Resume() { impl_->Resume(); }

}  // namespace qm::engine

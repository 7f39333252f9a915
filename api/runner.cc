// Runner: events fed one line at a time, state in memory.
#include "api/internal.h"
#include "compiler/interp/interp.h"
#include "runtime/coverage/coverage.h"
#include "compiler/value/value.h"
#include "runtime/event/decode.h"
#include "runtime/state/durable.h"
#include "runtime/state/inspect.h"

namespace qianmian {
namespace internal {

Stats Convert(const qm::engine::Stats& stats) {
  return Stats{stats.lines,      stats.events,     stats.timer_steps,   stats.actions,
               stats.rejects,    stats.suppressed, stats.pending_timers, stats.pending_deferred};
}

qm::EngineKind Convert(Engine engine) {
  return engine == Engine::kJit ? qm::EngineKind::kJit : qm::EngineKind::kInterpreter;
}

}  // namespace internal

namespace {

class CallbackOutput final : public qm::engine::Output {
 public:
  CallbackOutput(LineCallback on_action, LineCallback on_reject)
      : on_action_(std::move(on_action)), on_reject_(std::move(on_reject)) {}
  void Action(std::string_view line) override { if (on_action_) on_action_(Trim(line)); }
  void Reject(std::string_view line) override { if (on_reject_) on_reject_(Trim(line)); }
  void Warning(std::string_view) override {}  // cascade_limit lines carry the same news

 private:
  static std::string_view Trim(std::string_view line) {
    return !line.empty() && line.back() == '\n' ? line.substr(0, line.size() - 1) : line;
  }
  LineCallback on_action_, on_reject_;
};

}  // namespace

struct Coverage::Impl {
  std::shared_ptr<const internal::RuleSetAccess::Impl> rules;
  std::unique_ptr<qm::interp::Interpreter> tracer;
  std::unique_ptr<qm::coverage::Coverage> observer;
};

Coverage::Coverage(const RuleSet& rules) : impl_(std::make_unique<Impl>()) {
  if (internal::RuleSetAccess::Of(rules).compiled.program) impl_->rules = internal::RuleSetAccess::Share(rules);
  if (!impl_->rules) return;
  const qm::ir::Program& program = impl_->rules->compiled.program->ir();
  impl_->tracer = qm::interp::MakeInterpreter(program);
  impl_->observer = std::make_unique<qm::coverage::Coverage>(program, *impl_->tracer);
}

Coverage::~Coverage() = default;

std::vector<Coverage::Item> Coverage::Items(Language language) const {
  std::vector<Item> out;
  if (!impl_->observer) return out;
  const auto& rules = impl_->rules->compiled.program->ir().checked.rules;
  for (const qm::coverage::Item& i :
       impl_->observer->Items(language == Language::kChinese ? qm::Lang::kZh : qm::Lang::kEn))
    out.push_back({i.rule >= 0 ? rules[i.rule].name : std::string(), i.what, i.covered});
  return out;
}

struct Runner::Impl {
  std::shared_ptr<const RuleSet::Impl> rules;
  std::unique_ptr<qm::ir::Evaluator> evaluator;
  std::unique_ptr<qm::state::Store> store;
  std::unique_ptr<CallbackOutput> output;
  std::unique_ptr<qm::engine::Engine> engine;
  int64_t line = 0;
  int tz_minutes = 0;
  std::string error;
};

Runner::Runner(const RuleSet& rules, RunOptions options, LineCallback on_action, LineCallback on_reject)
    : impl_(std::make_unique<Impl>()) {
  impl_->rules = rules.impl_;
  if (!rules.ok()) {
    impl_->error = "the rule set has errors";
    return;
  }
  std::optional<int> tz = qm::ParseOffset(options.tz);
  if (!tz) {
    impl_->error = "tz must be an offset such as +08:00 or Z, not " + options.tz;
    return;
  }
  std::optional<int64_t> lateness = options.lateness.empty() ? 0 : qm::ParseDuration(options.lateness);
  if (!lateness) {
    impl_->error = qm::Error::Of<qm::ErrorKind::kBadLateness>({options.lateness}).Message(impl_->rules->lang);
    return;
  }
  impl_->tz_minutes = *tz;
  qm::engine::Observer* observer = nullptr;
  if (options.coverage != nullptr) {
    if (options.coverage->impl_->rules != impl_->rules) {
      impl_->error = "the coverage is of another rule set";
      return;
    }
    observer = options.coverage->impl_->observer.get();
  }
  const qm::Program& program = *impl_->rules->compiled.program;
  impl_->evaluator = program.MakeEvaluator(internal::Convert(options.engine), &impl_->error);
  if (!impl_->evaluator) return;
  impl_->store = qm::state::MakeMemoryStore(program.ir());
  impl_->output = std::make_unique<CallbackOutput>(std::move(on_action), std::move(on_reject));
  impl_->engine = std::make_unique<qm::engine::Engine>(program.ir(), *impl_->evaluator, *impl_->store,
                                                       *impl_->output,
                                                       qm::engine::Options{.tz_minutes = *tz, .lateness_ms = *lateness, .observer = observer});
}

Runner::~Runner() = default;

void Runner::Feed(std::string_view line) {
  if (impl_->engine) impl_->engine->ProcessLine(line, ++impl_->line);
}

void Runner::EndOfInput() {
  if (impl_->engine) impl_->engine->ReleaseAll();
}

bool Runner::FireUntil(std::string_view time) {
  std::optional<int64_t> until = qm::event::ParseTimeArgument(time);
  if (!until) return false;
  if (impl_->engine) impl_->engine->FireUntil(*until);
  return true;
}

const std::string& Runner::error() const { return impl_->error; }

Stats Runner::stats() const { return impl_->engine ? internal::Convert(impl_->engine->stats()) : Stats{}; }

std::string Runner::SetProfile(std::string_view customer,
                               const std::vector<std::pair<std::string, std::optional<std::string>>>& fields,
                               const std::vector<std::string>& tags) {
  if (!impl_->engine) return impl_->error;
  const qm::check::Program& p = impl_->rules->compiled.program->ir().checked;
  const qm::Lang lang = impl_->rules->lang;
  // Every value is read before the state is touched: a bad one changes nothing.
  std::vector<std::pair<int32_t, qm::Value>> values;
  std::vector<std::string> texts;  // what text values view
  texts.reserve(fields.size());
  for (const auto& [name, text] : fields) {
    qm::check::FieldId f = p.FindProfileField(name);
    if (f < 0) return qm::Error::Of<qm::ErrorKind::kNoProfileField>({name}).Message(lang);
    if (!text) {
      values.emplace_back(f, qm::Value{});
      continue;
    }
    const qm::check::Type& type = p.profile[f].type;
    std::optional<qm::Value> v;
    switch (type.kind) {
      case qm::check::TypeKind::kInt:
        if (auto n = qm::event::ScaledFromNumber(*text, 0)) v = qm::Value::Int(*n);
        break;
      case qm::check::TypeKind::kMoney:
        if (auto n = qm::event::ScaledFromNumber(*text, 2)) v = qm::Value::Money(*n);
        break;
      case qm::check::TypeKind::kNumber: {
        char* end = nullptr;
        double d = std::strtod(text->c_str(), &end);
        if (!text->empty() && *end == '\0') v = qm::Value::Number(d);
        break;
      }
      case qm::check::TypeKind::kBool:
        if (*text == "true" || *text == "false") v = qm::Value::Bool(*text == "true");
        break;
      case qm::check::TypeKind::kText:
        texts.push_back(*text);
        v = qm::Value::Text(texts.back());
        break;
      case qm::check::TypeKind::kTime:
        if (auto t = qm::event::ParseTimeArgument(*text)) v = qm::Value::Time(*t);
        break;
      case qm::check::TypeKind::kDuration:
        if (auto d = qm::ParseDuration(*text)) v = qm::Value::Duration(*d);
        break;
      case qm::check::TypeKind::kEnum: {
        const std::vector<std::string>& members = p.MembersOf(type);
        auto it = std::find(members.begin(), members.end(), *text);
        if (it != members.end()) v = qm::Value::Enum(it - members.begin());
        break;
      }
      default: break;
    }
    if (!v) return qm::Error::Of<qm::ErrorKind::kBadProfileValue>({*text, name, p.TypeName(type)}).Message(lang);
    values.emplace_back(f, *v);
  }
  std::vector<int32_t> tag_ids;
  for (const std::string& t : tags) {
    qm::check::TagId id = p.FindTag(t);
    if (id < 0) return qm::Error::Of<qm::ErrorKind::kNoTag>({t}).Message(lang);
    tag_ids.push_back(id);
  }
  const std::string id(customer);
  qm::state::CustomerState* state = impl_->store->Find(id);
  if (state == nullptr) state = &impl_->store->Create(id);
  for (const auto& [f, v] : values) state->profile[f] = qm::state::Stored::Of(v);
  for (int32_t t : tag_ids) state->tags[t] = 1;
  return "";
}

bool Runner::Customer(std::string_view customer, CustomerView& out) const {
  if (!impl_->engine) return false;
  const std::string id(customer);
  const qm::state::CustomerState* state = impl_->store->Find(id);
  if (state == nullptr || !state->seen) return false;
  const qm::state::Schema schema = qm::state::Schema::Of(impl_->rules->compiled.program->ir());
  static const std::vector<std::string> kNoMembers;
  out.profile.clear();
  for (size_t f = 0; f < state->profile.size(); ++f) {
    const qm::Value v = state->profile[f].view();
    const qm::state::Schema::Enum* e = schema.FindEnum(schema.fields[f].type);
    out.profile.emplace_back(schema.fields[f].name,
                             v.kind == qm::ValueKind::kUnset
                                 ? std::nullopt
                                 : std::optional(qm::FormatPlainValue(v, e ? e->members : kNoMembers, impl_->tz_minutes)));
  }
  out.tags.clear();
  for (size_t t = 0; t < state->tags.size(); ++t)
    if (state->tags[t]) out.tags.push_back(schema.tags[t]);
  out.json = qm::state::CustomerJson(schema, id, *state, impl_->tz_minutes);
  return true;
}

}  // namespace qianmian

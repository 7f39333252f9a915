// RuleSet: compiling rules and their diagnostics, in the caller's language.
#include <algorithm>
#include <functional>

#include "api/debug.h"
#include "runtime/event/decode.h"
#include "runtime/shard/shard.h"
#include "api/internal.h"

namespace qianmian {
namespace internal {

Diagnostic Convert(const qm::Diagnostic& d, qm::Lang lang) {
  Diagnostic out;
  if (d.source != nullptr) {
    qm::LineCol from = d.source->Locate(d.span.begin), to = d.source->Locate(std::max(d.span.begin, d.span.end));
    out.file = d.source->name();
    out.line = from.line;
    out.column = from.column;
    out.end_line = to.line;
    out.end_column = to.column;
  }
  out.error = d.severity() == qm::Severity::kError;
  out.code = std::string(qm::InfoOf(d.kind).code);
  out.message = d.Message(lang);
  out.help = d.HelpText(lang);
  if (d.help && d.help->kind == qm::HelpKind::kDidYouMean && !d.help->args.empty()) {
    out.fix = d.help->args[0];
  } else if (d.kind == qm::DiagKind::kFullWidthPunctuation && d.args.size() == 2 && d.source != nullptr) {
    std::string_view written(d.source->text().data() + d.span.begin, d.span.end - d.span.begin);
    if (d.args[0] != "\u201C\u201D") {
      out.fix = d.args[1];
    } else if (written.size() >= 6 && written.substr(written.size() - 3) == "\u201D" &&
               written.substr(3, written.size() - 6).find_first_of("\"\\") == std::string_view::npos) {
      out.fix = "\"" + std::string(written.substr(3, written.size() - 6)) + "\"";  // “…” as qm fmt writes it
    }
  }
  out.rendered = qm::RenderText(d, lang);
  out.json = qm::RenderJson(d, lang);
  return out;
}

}  // namespace internal

std::string debug::DumpIr(const RuleSet& rules) {
  const qm::Program* program = internal::RuleSetAccess::Of(rules).compiled.program.get();
  return program != nullptr ? qm::jit::DumpIr(program->ir()) : "";
}

bool debug::ObjectMembers(std::string_view line, std::vector<std::pair<std::string, std::string>>& members) {
  return qm::event::ObjectMembers(line, members);
}

namespace {

using internal::RuleSetAccess;

RuleSet Finish(qm::Compiled compiled, Language language) {
  auto impl = std::make_shared<RuleSetAccess::Impl>();
  impl->lang = language == Language::kChinese ? qm::Lang::kZh : qm::Lang::kEn;
  for (const qm::Diagnostic& d : compiled.compilation->diags.all())
    impl->diagnostics.push_back(internal::Convert(d, impl->lang));
  impl->compiled = std::move(compiled);
  return RuleSetAccess::Make(std::move(impl));
}

}  // namespace

RuleSet RuleSet::FromFiles(const std::vector<std::string>& paths, Language language,
                           const std::vector<std::string>& allow) {
  return Finish(qm::Compile(paths, allow), language);
}

RuleSet RuleSet::FromText(const std::string& name, std::string text, Language language) {
  return Finish(qm::CompileText(name, std::move(text)), language);
}

namespace {

bool Formatted(std::optional<std::string> result, const qm::driver::Compilation& c, std::string& formatted,
               std::vector<Diagnostic>& diagnostics, Language language) {
  qm::Lang lang = language == Language::kChinese ? qm::Lang::kZh : qm::Lang::kEn;
  diagnostics.clear();
  if (result) {
    formatted = std::move(*result);
    return true;
  }
  for (const qm::Diagnostic& d : c.diags.all()) diagnostics.push_back(internal::Convert(d, lang));
  return false;
}

}  // namespace

bool FormatFile(const std::string& path, std::string& formatted, std::vector<Diagnostic>& diagnostics,
                Language language) {
  qm::driver::Compilation c;
  std::optional<std::string> result = qm::driver::FormatFile(path, c);
  return Formatted(std::move(result), c, formatted, diagnostics, language);
}

bool FormatText(const std::string& name, std::string text, std::string& formatted,
                std::vector<Diagnostic>& diagnostics, Language language) {
  qm::driver::Compilation c;
  std::optional<std::string> result = qm::driver::FormatText(name, std::move(text), c);
  return Formatted(std::move(result), c, formatted, diagnostics, language);
}

bool RuleSet::ok() const { return impl_->compiled.program != nullptr; }
const std::vector<Diagnostic>& RuleSet::diagnostics() const { return impl_->diagnostics; }
int RuleSet::error_count() const { return impl_->compiled.compilation->diags.error_count(); }
int RuleSet::warning_count() const { return impl_->compiled.compilation->diags.warning_count(); }
size_t RuleSet::rule_count() const { return ok() ? impl_->compiled.program->ir().checked.rules.size() : 0; }

std::string RuleSet::WhyNotPartitioned() const {
  if (!ok()) return {};
  std::optional<qm::Error> why = qm::shard::WhyNotSharded(impl_->compiled.program->ir(), qm::engine::Options{});
  return why ? why->Message(impl_->lang) : std::string();
}

std::vector<RuleSet::Tag> RuleSet::Tags() const {
  std::vector<Tag> out;
  if (!ok()) return out;
  const qm::check::Program& p = impl_->compiled.program->ir().checked;
  for (const qm::check::TagInfo& t : p.tags) out.push_back({t.name, t.description, t.segment >= 0, {}, {}});
  auto once = [](std::vector<std::string>& rules, const std::string& rule) {
    if (rules.empty() || rules.back() != rule) rules.push_back(rule);
  };
  // The tags a condition reads: its `has` nodes, also inside `where` filters.
  std::function<void(qm::check::NodeId, const std::string&)> reads = [&](qm::check::NodeId id, const std::string& rule) {
    if (id == qm::check::kNoNode) return;
    const qm::check::Node& n = p.nodes[id];
    if (n.kind == qm::check::NodeKind::kHas) once(out[n.tag].read_by, rule);
    if (n.kind == qm::check::NodeKind::kAggregate) reads(p.aggregates[n.aggregate].where, rule);
    for (qm::check::NodeId operand : n.operands) reads(operand, rule);
  };
  for (const qm::check::Rule& r : p.rules) {
    if (r.trigger.kind == qm::check::TriggerKind::kTagged || r.trigger.kind == qm::check::TriggerKind::kUntagged)
      once(out[r.trigger.tag].read_by, r.name);
    reads(r.condition, r.name);
    for (const qm::check::Action& a : r.actions) {
      reads(a.unless_where, r.name);
      if (a.kind == qm::check::ActionKind::kTag || a.kind == qm::check::ActionKind::kUntag) once(out[a.tag].set_by, r.name);
    }
  }
  return out;
}

struct Router::Impl {
  explicit Impl(std::shared_ptr<const RuleSet::Impl> rules)
      : rules(std::move(rules)), decoder(this->rules->compiled.program->ir()) {}
  std::shared_ptr<const RuleSet::Impl> rules;  // the decoder reads its program
  qm::event::Decoder decoder;
  qm::event::Event event;
  qm::event::Reject reject;
};

Router::Router(const RuleSet& rules) : impl_(std::make_unique<Impl>(rules.impl_)) {}
Router::~Router() = default;

Router::Route Router::Of(std::string_view line, int64_t line_number) {
  Impl& r = *impl_;
  Route route;
  switch (qm::event::DecodeLine(r.decoder, line, line_number, route.text, r.event, r.reject)) {
    case qm::event::LineKind::kBlank: return route;
    case qm::event::LineKind::kEvent:
      route.kind = Route::Kind::kCustomer;
      route.customer = r.event.customer;
      return route;
    case qm::event::LineKind::kRejected:
      if (!r.reject.customer.empty()) {  // check 7 passed: the customer's worker writes the reject
        route.kind = Route::Kind::kCustomer;
        route.customer = r.reject.customer;
        return route;
      }
      route.kind = Route::Kind::kRejected;
      qm::event::AppendRejectLine(route.reject, line_number, r.reject.reason, r.reject.field, {});
      route.reject.pop_back();  // its '\n'
      return route;
  }
  return route;
}

int PartitionOf(std::string_view customer, int partitions) {
  return static_cast<int>(qm::shard::ShardOf(customer, static_cast<size_t>(partitions)));
}

}  // namespace qianmian

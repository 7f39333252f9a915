// The AST builder: the labels of ANTLR's rule contexts (no parse tree is built) -> ast::RuleFile items with byte spans.
#include "compiler/parse/internal/parser.h"
#include "compiler/value/value.h"

#include <charconv>

namespace qm::parse_internal {

std::optional<ast::Item> Builder::BuildItem(QmParser::ItemContext* ctx) {
  ok_ = true;
  std::optional<ast::Item> item;
  if (auto* c = ctx->enumD) item = ast::EnumDecl{Id(c->enumName), Members(c->memberList)};
  else if (auto* c = ctx->eventD) item = ast::EventDecl{Id(c->eventName), Fields(c->fields)};
  else if (auto* c = ctx->profileD) item = ast::ProfileDecl{SpanOf(c->kw), Fields(c->fields)};
  else if (auto* c = ctx->tagD) item = ast::TagDecl{TagName(c->tag), StringText(c->description)};
  else if (auto* c = ctx->importD) item = ast::ImportDecl{StringText(c->path), SpanOf(c)};
  else if (auto* c = ctx->zoneD) item = ZoneOf(c);
  else if (auto* c = ctx->capD) item = CapOf(c);
  else if (auto* c = ctx->quietD) item = QuietOf(c);
  else if (auto* c = ctx->identityD) item = IdentityOf(c);
  else if (auto* c = ctx->segmentD) item = SegmentOf(c);
  else if (auto* c = ctx->renamedD) item = RenamedOf(c);
  else if (auto* c = ctx->ruleD) item = RuleOf(c);
  if (!ok_) return std::nullopt;
  return item;
}

ast::Ident Builder::TagName(QmParser::TagNameContext* c) {
  if (c->word != nullptr) return Id(c->word);
  ast::Ident id{StringText(c->quoted), SpanOf(c)};
  if (id.text.empty()) Fail<DiagKind::kEmptyTagName>(id.span);  // E23
  return id;
}

Span Builder::SpanOf(antlr4::ParserRuleContext* c) const {
  Span s = offsets_.Of(c->getStart());
  if (c->getStop() != nullptr && c->getStop()->getStopIndex() + 1 >= c->getStart()->getStartIndex()) {
    s.end = std::max(s.begin, offsets_.Of(c->getStop()).end);
  }
  return s;
}

void Builder::Fail(DiagKind kind, Span span, std::vector<std::string> args, std::optional<Help> help) {
  if (!ok_) return;  // one mistake, one error
  ok_ = false;
  diags_.Add(kind, &source_, span, std::move(args)).help = std::move(help);
}

std::vector<ast::Ident> Builder::Members(QmParser::MembersContext* c) {
  std::vector<ast::Ident> out;
  for (auto* n : c->names) out.push_back(Id(n));
  return out;
}

std::vector<ast::FieldDecl> Builder::Fields(QmParser::FieldListContext* c) {
  std::vector<ast::FieldDecl> out;
  if (c == nullptr) return out;
  for (auto* f : c->decls) {
    ast::FieldDecl field{Id(f->fieldName), {}, std::nullopt};
    auto* t = f->type;
    field.type.span = SpanOf(t);
    if (t->typeName != nullptr) field.type.name = Id(t->typeName);
    else field.type.inline_members = Members(t->inlineMembers);
    if (f->defaultValue != nullptr) field.default_value = ValueOf(f->defaultValue);
    if (f->mergeWord != nullptr) {
      Span span = SpanOf(f->policy);
      ast::Ident policy{offsets_.Slice(span), span};
      field.merge_span = policy.span;
      static const std::vector<std::string> kPolicies = {"keep", "sum", "max", "min"};
      for (size_t k = 0; k < kPolicies.size(); ++k)
        if (policy.text == kPolicies[k]) field.merge = static_cast<ast::MergePolicy>(k);
      if (!field.merge) Fail<DiagKind::kUnknownMergePolicy>(policy.span, {policy.text}, Suggest(policy.text, kPolicies));
    }
    out.push_back(std::move(field));
  }
  return out;
}

std::string Builder::StringText(const Token* n) {
  std::string raw = offsets_.Text(n);
  Span span = SpanOf(n);
  if (raw.rfind("\u201C", 0) == 0) return raw.substr(3, raw.size() - 6);  // reported by the lexer pass
  std::string out;
  for (size_t i = 1; i + 1 < raw.size(); ++i) {
    if (raw[i] != '\\') { out += raw[i]; continue; }
    char e = raw[++i];
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      default: {
        size_t len = 1;
        while (i + len < raw.size() && (static_cast<unsigned char>(raw[i + len]) & 0xC0) == 0x80) ++len;
        Span at{span.begin + static_cast<int32_t>(i) - 1, span.begin + static_cast<int32_t>(i + len)};
        Fail<DiagKind::kInvalidEscape>(at, {"\\" + raw.substr(i, len)}, Help::Of<HelpKind::kEscapesAllowed>({}));
      }
    }
  }
  return out;
}

ast::Literal Builder::DurationOf(const Token* n) {
  std::string text = offsets_.Text(n);
  ast::Literal lit{ast::Literal::Kind::kDuration, text, 0, false, SpanOf(n)};
  bool negative = text.front() == '-';  // E3: `-1d12h` is minus the whole literal
  std::optional<int64_t> ms = ParseDuration(std::string_view(text).substr(negative ? 1 : 0));
  if (!ms) {  // the lexer admits only well-formed literals, so it is the range (A3, D3)
    Fail<DiagKind::kNumberOutOfRange>(lit.span, {text}, Help::Of<HelpKind::kRangeLimits>({}));
    return lit;
  }
  lit.duration_ms = negative ? -*ms : *ms;
  return lit;
}

ast::Literal Builder::ConstantOf(QmParser::ConstantContext* c) {
  Span span = SpanOf(c);
  switch (c->token->getType()) {
    case QmLexer::STRING: return {ast::Literal::Kind::kString, StringText(c->token), 0, false, span};
    case QmLexer::DURATION: return DurationOf(c->token);
    case QmLexer::TRUE: return {ast::Literal::Kind::kBool, "true", 0, true, span};
    case QmLexer::FALSE: return {ast::Literal::Kind::kBool, "false", 0, false, span};
    default: break;
  }
  std::string text = offsets_.Slice(span);
  // Literals are exact decimals (A15) of at most 36 digits, which 128-bit
  // arithmetic holds; whether one fits an int or money is the checker's call.
  size_t digits = 0;
  for (char ch : text) digits += (ch >= '0' && ch <= '9');
  if (digits > 36) Fail<DiagKind::kNumberOutOfRange>(span, {text}, Help::Of<HelpKind::kRangeLimits>({}));
  return {ast::Literal::Kind::kNumber, text, 0, false, span};
}

ast::Value Builder::ValueOf(QmParser::LiteralContext* c) {
  if (c->word != nullptr) return Id(c->word);
  return ConstantOf(c->value);
}

ast::Name Builder::NameOf(QmParser::RefContext* c) {
  ast::Name n;
  n.span = SpanOf(c);
  const std::vector<QmParser::NameContext*>& names = c->names;
  if (c->qualifiedByProfile != nullptr) {
    n.profile_qualified = true;
    n.name = Id(names[0]);
  } else if (names.size() == 2) {
    n.qualifier = Id(names[0]);
    n.name = Id(names[1]);
  } else {
    n.name = Id(names[0]);
  }
  return n;
}

ast::Trigger Builder::TriggerOf(QmParser::TriggerContext* c) {
  // The first token tells the alternatives apart, but for `name becomes …`
  // and `name`: the second.
  switch (c->getStart()->getType()) {
    case QmLexer::ANY: return ast::AnyTrigger{};
    case QmLexer::TAGGED: return ast::TagTrigger{TagName(static_cast<QmParser::TaggedTriggerContext*>(c)->tag), false};
    case QmLexer::UNTAGGED: return ast::TagTrigger{TagName(static_cast<QmParser::UntaggedTriggerContext*>(c)->tag), true};
    case QmLexer::NO: {
      auto* t = static_cast<QmParser::QuietTriggerContext*>(c);
      std::optional<ast::Ident> event;
      if (t->event != nullptr) event = Id(t->event);
      return ast::QuietTrigger{event, DurationOf(t->quiet)};
    }
    default: break;
  }
  if (auto* t = dynamic_cast<QmParser::BecomesTriggerContext*>(c)) return ast::BecomesTrigger{Id(t->field), ValueOf(t->value)};
  return ast::EventTrigger{Id(static_cast<QmParser::EventTriggerContext*>(c)->event)};
}

bool Builder::Deeper(Span at) {
  if (++depth_ > kMaxNesting) {
    Fail<DiagKind::kNestingTooDeep>(at, {}, Help::Of<HelpKind::kSplitNesting>({}));
    return false;
  }
  return true;
}

ast::ExprPtr Builder::Expr(QmParser::ExprContext* c) {
  if (c->operands.size() == 1) return AndExpr(c->operands[0]);
  ast::Or node;
  for (auto* a : c->operands) node.operands.push_back(AndExpr(a));
  return std::make_unique<ast::Expr>(ast::Expr{SpanOf(c), std::move(node)});
}

ast::ExprPtr Builder::AndExpr(QmParser::AndExprContext* c) {
  if (c->operands.size() == 1) return Unary(c->operands[0]);
  ast::And node;
  for (auto* u : c->operands) node.operands.push_back(Unary(u));
  return std::make_unique<ast::Expr>(ast::Expr{SpanOf(c), std::move(node)});
}

ast::ExprPtr Builder::Unary(QmParser::UnaryContext* c) {
  if (c->negation != nullptr) {
    int saved = depth_;
    ast::ExprPtr inner = Deeper(SpanOf(c->negation)) ? Unary(c->inner) : nullptr;
    depth_ = saved;
    if (!inner) return Placeholder(SpanOf(c));
    return std::make_unique<ast::Expr>(ast::Expr{SpanOf(c), ast::Not{std::move(inner)}});
  }
  return Primary(c->atom);
}

ast::ExprPtr Builder::Placeholder(Span span) {
  return std::make_unique<ast::Expr>(ast::Expr{span, ast::And{}});
}

// The alternatives of `primary`, `predicateTail`, `action` and `simpleAction`
// start with different tokens, so the first token says which one a context
// is: no dynamic_cast.
ast::ExprPtr Builder::Primary(QmParser::PrimaryContext* c) {
  Span span = SpanOf(c);
  if (c->getStart()->getType() == QmLexer::LPAREN) {
    auto* p = static_cast<QmParser::ParenExprContext*>(c);
    int saved = depth_;
    ast::ExprPtr inner = Deeper(SpanOf(p->getStart())) ? Expr(p->inner) : Placeholder(span);
    depth_ = saved;
    if (inner) inner->span = span;  // the parentheses belong to the node's span
    return inner;
  }
  if (c->getStart()->getType() == QmLexer::HAS)
    return std::make_unique<ast::Expr>(ast::Expr{span, ast::Has{TagName(static_cast<QmParser::HasExprContext*>(c)->tag)}});
  auto* p = static_cast<QmParser::PredicateExprContext*>(c);
  auto lhs = std::make_unique<ast::Operand>(OperandOf(p->lhs));
  QmParser::PredicateTailContext* tail = p->tail;
  if (tail == nullptr) {
    // A field alone (C6, B9); anything else alone is a syntax error.
    if (auto* name = std::get_if<ast::Name>(lhs.get())) {
      return std::make_unique<ast::Expr>(ast::Expr{span, ast::BoolField{*name}});
    }
    Fail<DiagKind::kSyntaxError>(span, {"a comparison", Quote(offsets_.Slice(SpanOf(p->lhs))) + " alone"});
    return Placeholder(span);
  }
  switch (tail->getStart()->getType()) {
    case QmLexer::CONTAINS: {
      auto* t = static_cast<QmParser::ContainsTailContext*>(tail);
      return std::make_unique<ast::Expr>(ast::Expr{span, ast::Contains{std::move(lhs), ValueOf(t->needle)}});
    }
    case QmLexer::IN:
    case QmLexer::NOT: {
      bool negated = tail->getStart()->getType() == QmLexer::NOT;
      const std::vector<QmParser::LiteralContext*>& items =
          negated ? static_cast<QmParser::NotInTailContext*>(tail)->items : static_cast<QmParser::InTailContext*>(tail)->items;
      ast::InList list{std::move(lhs), {}, negated};
      for (auto* l : items) list.values.push_back(ValueOf(l));
      return std::make_unique<ast::Expr>(ast::Expr{span, std::move(list)});
    }
    default: {
      auto* t = static_cast<QmParser::CompareTailContext*>(tail);
      ast::CmpOp op = ast::CmpOp::kEq;
      switch (t->op->op->getType()) {
        case QmLexer::NE: op = ast::CmpOp::kNe; break;
        case QmLexer::LT: op = ast::CmpOp::kLt; break;
        case QmLexer::LE: op = ast::CmpOp::kLe; break;
        case QmLexer::GT: op = ast::CmpOp::kGt; break;
        case QmLexer::GE: op = ast::CmpOp::kGe; break;
        default: break;
      }
      auto rhs = std::make_unique<ast::Operand>(OperandOf(t->rhs));
      return std::make_unique<ast::Expr>(ast::Expr{span, ast::Compare{op, std::move(lhs), std::move(rhs)}});
    }
  }
}

ast::ZoneDecl Builder::ZoneOf(QmParser::ZoneDeclContext* c) {
  ast::ZoneDecl zone;
  zone.span = c->offset != nullptr ? SpanOf(c->offset) : SpanOf(c->zoneName);
  zone.text = offsets_.Slice(zone.span);
  std::optional<int> minutes = ParseOffset(zone.text);  // `Z` or ±HH:MM, HH <= 23 (E1)
  if (!minutes || zone.text == "z") Fail<DiagKind::kInvalidZone>(zone.span, {zone.text});
  else zone.minutes = *minutes;
  return zone;
}

ast::CapDecl Builder::CapOf(QmParser::CapDeclContext* c) {
  ast::CapDecl cap;
  cap.span = SpanOf(c);
  cap.invite = c->kind->getType() == QmLexer::INVITE;
  std::string count = offsets_.Text(c->count);
  auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), cap.count);
  if (ec != std::errc() || end != count.data() + count.size() || cap.count < 1)
    Fail<DiagKind::kCapCountNotPositive>(SpanOf(c->count), {count});
  cap.per = DurationOf(c->per);
  for (auto* t : c->targets) cap.targets.emplace_back(TargetText(t), SpanOf(t));
  return cap;
}

ast::QuietDecl Builder::QuietOf(QmParser::QuietDeclContext* c) {
  ast::QuietDecl quiet;
  quiet.span = SpanOf(c);
  switch (c->kind->getType()) {
    case QmLexer::INVITE: quiet.kind = ast::QuietKind::kInvite; break;
    case QmLexer::NOTIFY: quiet.kind = ast::QuietKind::kNotify; break;
    default: quiet.kind = ast::QuietKind::kPush; break;
  }
  quiet.range_span = SpanOf(c->range);
  std::string range = offsets_.Slice(quiet.range_span);  // HH:MM-HH:MM, digits by the lexer
  auto minute_of_day = [&](size_t at, int& out) {
    int hh = (range[at] - '0') * 10 + (range[at + 1] - '0'), mm = (range[at + 3] - '0') * 10 + (range[at + 4] - '0');
    if (hh > 23 || mm > 59) {
      Span s{quiet.range_span.begin + static_cast<int32_t>(at), quiet.range_span.begin + static_cast<int32_t>(at) + 5};
      Fail<DiagKind::kInvalidTimeOfDay>(s, {range.substr(at, 5)});
    }
    out = hh * 60 + mm;
  };
  minute_of_day(0, quiet.start_minute);
  minute_of_day(6, quiet.end_minute);
  if (ok_ && quiet.start_minute == quiet.end_minute) Fail<DiagKind::kQuietIsEmpty>(quiet.range_span, {range});
  if (c->policy != nullptr) {
    ast::Ident policy = Id(c->policy);
    if (policy.text == "drop") quiet.drop = true;
    else if (policy.text != "defer")
      Fail<DiagKind::kUnknownQuietPolicy>(policy.span, {policy.text}, Suggest(policy.text, {"defer", "drop"}));
  }
  return quiet;
}

ast::IdentityDecl Builder::IdentityOf(QmParser::IdentityDeclContext* c) {
  ast::IdentityDecl d;
  d.span = SpanOf(c);
  for (auto* n : c->keys) d.keys.push_back(Id(n));
  return d;
}

ast::SegmentDecl Builder::SegmentOf(QmParser::SegmentDeclContext* c) {
  ast::SegmentDecl seg;
  seg.span = SpanOf(c);
  seg.name = TagName(c->tag);
  seg.description = StringText(c->description);
  ast::Ident rank = Id(c->rank);
  if (rank.text == "bottom") seg.top = false;
  else if (rank.text != "top")
    Fail<DiagKind::kUnknownSegmentRank>(rank.span, {rank.text}, Suggest(rank.text, {"top", "bottom"}));
  seg.percent = offsets_.Text(c->percent);
  seg.percent_span = {SpanOf(c->percent).begin, SpanOf(c->percentSign).end};
  seg.by = std::make_unique<ast::Operand>(OperandOf(c->by));
  seg.every = DurationOf(c->every);
  if (c->at != nullptr) {
    Span at = SpanOf(c->at);
    std::string text = offsets_.Slice(at);  // HH:MM, digits by the lexer
    int hh = (text[0] - '0') * 10 + (text[1] - '0'), mm = (text[3] - '0') * 10 + (text[4] - '0');
    if (hh > 23 || mm > 59) Fail<DiagKind::kInvalidTimeOfDay>(at, {text});
    seg.at_minute = hh * 60 + mm;
  }
  return seg;
}

ast::RenamedDecl Builder::RenamedOf(QmParser::RenamedDeclContext* c) {
  ast::RenamedDecl r;
  r.span = SpanOf(c);
  if (c->tagWord == nullptr) {
    ast::Ident kind = Id(c->kindName);
    static const std::vector<std::string> kKinds = {"field", "member", "target"};
    if (kind.text == "field") r.kind = ast::RenameKind::kField;
    else if (kind.text == "member") r.kind = ast::RenameKind::kMember;
    else if (kind.text == "target") r.kind = ast::RenameKind::kTarget;
    else Fail<DiagKind::kUnknownRenameKind>(kind.span, {kind.text}, Suggest(kind.text, kKinds));
  }
  auto side = [&](QmParser::RenamedNameContext* n, std::optional<ast::Ident>& enum_name, ast::Ident& name) {
    if (n->quoted != nullptr) {
      name = {StringText(n->quoted), SpanOf(n->quoted)};
      if (r.kind == ast::RenameKind::kField || r.kind == ast::RenameKind::kMember)  // E23
        Fail<DiagKind::kRenameQuotedName>(name.span, {name.text});
      else if (name.text.empty())
        Fail<DiagKind::kEmptyTagName>(name.span);
    } else {
      name = Id(n->plain);
    }
    if (n->dot != nullptr) {
      enum_name = Id(n->enumName);
      if (r.kind != ast::RenameKind::kMember)
        Fail<DiagKind::kRenameOnlyMembersHaveEnums>(SpanOf(n), {enum_name->text, name.text});
    } else if (r.kind == ast::RenameKind::kMember) {
      Fail<DiagKind::kRenameMemberNeedsEnum>(SpanOf(n));
    }
  };
  side(c->from, r.from_enum, r.from);
  side(c->to, r.to_enum, r.to);
  if (ok_ && r.kind == ast::RenameKind::kMember && r.from_enum->text != r.to_enum->text)
    Fail<DiagKind::kRenameEnumsDiffer>(SpanOf(c->to), {r.from_enum->text, r.to_enum->text});
  return r;
}

ast::Operand Builder::OperandOf(QmParser::OperandContext* c) {
  if (c->field != nullptr) return NameOf(c->field);
  if (auto* k = c->clockCall) {
    ast::Ident func = IdOfToken(k->func->word);
    return ast::Clock{*ClockPartNamed(func.text), func, NameOf(k->arg), SpanOf(k)};
  }
  if (c->value != nullptr) return ConstantOf(c->value);
  if (auto* s = c->sinceCall) {
    ast::Since since;
    if (s->subject != nullptr) since.name = Id(s->subject);
    since.profile_qualified = s->profile != nullptr;
    return since;
  }
  ast::Aggregate agg;
  agg.span = SpanOf(c);
  auto where_and_within = [&](QmParser::WhereKwContext* w, QmParser::ExprContext* e,
                              QmParser::WindowContext* window) {
    if (w != nullptr) {
      int saved = depth_;
      agg.where = Deeper(SpanOf(w)) ? Expr(e) : Placeholder(SpanOf(w));
      depth_ = saved;
    }
    if (window == nullptr) return;
    agg.within_span = SpanOf(window);
    if (window->span != nullptr) {
      agg.within = DurationOf(window->span);
      return;
    }
    ast::Ident unit = Id(window->unit);  // D2
    agg.within_this = PeriodNamed(unit.text);
    if (!agg.within_this) {
      std::vector<std::string> units;
      for (Period p : {Period::kDay, Period::kWeek, Period::kMonth, Period::kQuarter, Period::kYear})
        units.emplace_back(qm::NameOf(p));
      Fail<DiagKind::kUnknownPeriod>(unit.span, {unit.text}, Suggest(unit.text, units));
    }
  };
  if (auto* a = dynamic_cast<QmParser::DistinctAggContext*>(c->agg)) {
    agg.func = ast::AggFunc::kCount;
    agg.distinct = true;
    if (a->any != nullptr) { agg.event = IdOfToken(a->any); agg.is_any = true; }
    else agg.event = Id(a->event);
    agg.field = Id(a->field);
    where_and_within(a->whereWord, a->filter, a->within);
    return agg;
  }
  if (auto* a = dynamic_cast<QmParser::CountAggContext*>(c->agg)) {
    agg.func = ast::AggFunc::kCount;
    if (a->any != nullptr) { agg.event = IdOfToken(a->any); agg.is_any = true; }
    else agg.event = Id(a->event);
    where_and_within(a->whereWord, a->filter, a->within);
    return agg;
  }
  auto* a = static_cast<QmParser::ValueAggContext*>(c->agg);
  switch (a->aggFunc->getType()) {
    case QmLexer::SUM: agg.func = ast::AggFunc::kSum; break;
    case QmLexer::MIN: agg.func = ast::AggFunc::kMin; break;
    case QmLexer::MAX: agg.func = ast::AggFunc::kMax; break;
    default: agg.func = ast::AggFunc::kAvg; break;
  }
  if (a->any != nullptr) {
    agg.event = IdOfToken(a->any);
    agg.is_any = true;
  } else {
    agg.event = Id(a->event);
  }
  agg.field = Id(a->field);
  where_and_within(a->whereWord, a->filter, a->within);
  return agg;
}

ast::ActionValue Builder::ActionValueOf(QmParser::RefContext* ref, QmParser::ConstantContext* constant) {
  if (ref != nullptr) return NameOf(ref);
  return ConstantOf(constant);
}

ast::Action Builder::ActionOf(QmParser::ActionContext* c) {
  ast::Action action;
  action.span = SpanOf(c);
  QmParser::SimpleActionContext* simple;
  if (c->getStart()->getType() == QmLexer::AFTER) {
    auto* d = static_cast<QmParser::DelayedActionContext*>(c);
    action.after = DurationOf(d->delay);
    if (d->unlessAny != nullptr) { action.unless = IdOfToken(d->unlessAny); action.unless_any = true; }
    else if (d->unlessEvent != nullptr) action.unless = Id(d->unlessEvent);
    if (d->whereWord != nullptr) {  // D7: counts as a nesting level, as in aggregates (B5)
      int saved = depth_;
      action.unless_where = Deeper(SpanOf(d->whereWord)) ? Expr(d->unlessWhere) : Placeholder(SpanOf(d->whereWord));
      depth_ = saved;
    }
    simple = d->body;
  } else {
    simple = static_cast<QmParser::ImmediateActionContext*>(c)->body;
  }
  const size_t verb = simple->getStart()->getType();
  if (verb == QmLexer::SET) {
    auto* s = static_cast<QmParser::SetActionContext*>(simple);
    action.action = ast::SetAction{NameOf(s->field), ActionValueOf(s->fromRef, s->fromConstant)};
  } else if (verb == QmLexer::ADD) {
    auto* s = static_cast<QmParser::AddActionContext*>(simple);
    action.action = ast::AddAction{NameOf(s->field), ActionValueOf(s->fromRef, s->fromConstant)};
  } else if (verb == QmLexer::TAG || verb == QmLexer::UNTAG) {
    QmParser::TagNameContext* tag = verb == QmLexer::TAG ? static_cast<QmParser::TagActionContext*>(simple)->tag
                                                         : static_cast<QmParser::UntagActionContext*>(simple)->tag;
    action.action = ast::TagAction{TagName(tag), verb == QmLexer::UNTAG};
  } else if (verb == QmLexer::PUSH || verb == QmLexer::INVITE) {
    auto* s = static_cast<QmParser::PushActionContext*>(simple);
    ast::PushAction push;
    push.invite = s->kind->getType() == QmLexer::INVITE;
    push.target = TargetText(s->to);
    push.target_span = SpanOf(s->to);
    push.target_quoted = s->to->quoted != nullptr;
    if (s->every != nullptr) push.every = DurationOf(s->every);
    action.action = std::move(push);
  } else {
    auto* s = static_cast<QmParser::NotifyActionContext*>(simple);
    action.action = ast::NotifyAction{TargetText(s->to), SpanOf(s->to), StringText(s->message), SpanOf(s->message),
                                      s->to->quoted != nullptr};
  }
  return action;
}

std::string Builder::TargetText(QmParser::TargetContext* t) {
  return t->word != nullptr ? Id(t->word).text : StringText(t->quoted);
}

ast::Rule Builder::RuleOf(QmParser::RuleDeclContext* c) {
  ast::Rule rule;
  if (c->ruleName != nullptr) rule.name = Id(c->ruleName);
  rule.when_span = SpanOf(c->whenWord);
  QmParser::TriggerContext* trigger = c->on;
  rule.trigger_span = SpanOf(trigger);
  rule.trigger = TriggerOf(trigger);
  depth_ = 0;
  if (c->condition != nullptr) rule.condition = Expr(c->condition);
  for (auto* a : c->actions) rule.actions.push_back(ActionOf(a));
  rule.span = SpanOf(c);
  return rule;
}

}  // namespace qm::parse_internal

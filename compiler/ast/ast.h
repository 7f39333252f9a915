// The syntax tree of one rule file: value nodes with byte spans, exactly as
// written. Names are not resolved here; the checker does that and produces a
// separate typed program (check/check.h).
#ifndef QM_COMPILER_AST_AST_H_
#define QM_COMPILER_AST_AST_H_

#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "compiler/source/source.h"
#include "compiler/value/value.h"

namespace qm::ast {

struct Ident {
  std::string text;
  Span span;
};

// A literal as written. Bare words are not literals: they are `Name`s, and
// the checker decides (A13) whether one is a field, a member or text.
struct Literal {
  enum class Kind { kNumber, kDuration, kString, kBool };
  Kind kind;
  std::string text;      // number text (may start with `-`), string contents (unescaped)
  int64_t duration_ms = 0;  // kDuration
  bool bool_value = false;  // kBool
  Span span;
};

// `name`, `event.name` or `profile.name`.
struct Name {
  std::optional<Ident> qualifier;
  bool profile_qualified = false;  // written `profile.x`
  Ident name;
  Span span;
};

// A value in a list (`in (...)`), after `contains`, as a default, or after
// `becomes`: a literal or a bare word.
using Value = std::variant<Literal, Ident>;
Span SpanOf(const Value& v);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class CmpOp { kEq, kNe, kLt, kLe, kGt, kGe };
const char* Spelling(CmpOp op);

enum class AggFunc { kCount, kSum, kMin, kMax, kAvg };
const char* Spelling(AggFunc f);

struct Aggregate {
  AggFunc func;
  Ident event;                  // `any` is an Ident with text "any" and is_any set
  bool is_any = false;
  std::optional<Ident> field;   // sum/min/max/avg, count(distinct …)
  bool distinct = false;        // `count(distinct E.f …)` (D10)
  ExprPtr where;                // optional
  std::optional<Literal> within;
  std::optional<Period> within_this;  // D2: `within this month`
  Span within_span;             // `within …` as written
  Span span;                    // `count(...)` as written
};

struct Since {
  std::optional<Ident> name;    // empty for `since(any)`
  bool profile_qualified = false;
};

// `hour(ts)` and the other clock functions (D1).
struct Clock {
  ClockPart part;
  Ident func;
  Name arg;
  Span span;
};

// A comparison operand.
using Operand = std::variant<Name, Literal, Aggregate, Since, Clock>;

struct Compare { CmpOp op; std::unique_ptr<Operand> lhs, rhs; };
struct InList { std::unique_ptr<Operand> operand; std::vector<Value> values; bool negated = false; };
struct Contains { std::unique_ptr<Operand> operand; Value value; };
struct Has { Ident tag; };
struct BoolField { Name field; };
struct Not { ExprPtr operand; };
struct And { std::vector<ExprPtr> operands; };
struct Or { std::vector<ExprPtr> operands; };

using ExprKind = std::variant<Compare, InList, Contains, Has, BoolField, Not, And, Or>;

struct Expr {
  Span span;
  ExprKind kind;
};

// Triggers.
struct EventTrigger { Ident event; };
struct AnyTrigger {};
struct TagTrigger { Ident tag; bool untagged = false; };
struct BecomesTrigger { Ident field; Value value; };
struct QuietTrigger { std::optional<Ident> event; Literal duration; };  // event empty: `no any for`
using Trigger = std::variant<EventTrigger, AnyTrigger, TagTrigger, BecomesTrigger, QuietTrigger>;

// Actions. A value on the right of set/add is a Name (field, member or bare
// word) or a literal.
using ActionValue = std::variant<Name, Literal>;
struct SetAction { Name field; ActionValue value; };
struct AddAction { Name field; ActionValue value; };
struct TagAction { Ident tag; bool untag = false; };
struct PushAction {
  bool invite = false;
  std::string target;
  Span target_span;
  bool target_quoted = false;     // a string target may hold placeholders (D6)
  std::optional<Literal> every;
};
struct NotifyAction {
  std::string target;
  Span target_span;
  std::string message;
  Span message_span;
  bool target_quoted = false;
};
using SimpleAction = std::variant<SetAction, AddAction, TagAction, PushAction, NotifyAction>;

struct Action {
  Span span;
  std::optional<Literal> after;   // `after D ...`
  SimpleAction action;
  std::optional<Ident> unless;    // `unless E` (text "any" with unless_any)
  bool unless_any = false;
  ExprPtr unless_where;           // `unless E where COND` (D7)
};

struct Rule {
  std::optional<Ident> name;
  Span when_span;                 // the `when` keyword, for generated names (A10)
  Span trigger_span;
  Trigger trigger;
  ExprPtr condition;              // null when there is none
  std::vector<Action> actions;
  Span span;
};

// Types in declarations: a named type or an inline enum.
struct TypeRef {
  std::optional<Ident> name;
  std::vector<Ident> inline_members;  // `enum { ... }`
  Span span;
};

// How a profile field merges when two customers are one person (D12, E15).
enum class MergePolicy : uint8_t { kKeep, kSum, kMax, kMin };
const char* Spelling(MergePolicy p);

struct FieldDecl {
  Ident name;
  TypeRef type;
  std::optional<Value> default_value;
  std::optional<MergePolicy> merge;  // written `merge …`
  Span merge_span;                   // the policy word
};

struct EnumDecl { Ident name; std::vector<Ident> members; };
struct EventDecl { Ident name; std::vector<FieldDecl> fields; };
struct ProfileDecl { Span keyword; std::vector<FieldDecl> fields; };
struct TagDecl { Ident name; std::string description; };
struct ImportDecl { std::string path; Span span; };
struct ZoneDecl { int minutes = 0; std::string text; Span span; };  // D1
// `cap push 2 per 7d for (A, "B")` (D4).
struct CapDecl {
  bool invite = false;
  int64_t count = 0;
  Literal per;
  std::vector<std::pair<std::string, Span>> targets;  // empty: every target
  Span span;
};
// `quiet push 22:00-08:00 drop` (D5).
enum class QuietKind { kPush, kInvite, kNotify };
struct QuietDecl {
  QuietKind kind = QuietKind::kPush;
  int start_minute = 0, end_minute = 0;  // of the local day
  bool drop = false;
  Span range_span;
  Span span;
};

// `identity phone, unionid` (D11, E14).
struct IdentityDecl {
  std::vector<Ident> keys;
  Span span;
};

// `segment 超级用户 "…" top 10% by sum(order.amount) every 1d at 02:00` (D13).
struct SegmentDecl {
  Ident name;
  std::string description;
  bool top = true;
  std::string percent;  // as written
  Span percent_span;
  std::unique_ptr<Operand> by;
  Literal every;
  int at_minute = 0;  // of the local day
  Span span;
};

// `renamed member 等级.金卡 -> 等级.黄金` (D14).
enum class RenameKind { kTag, kField, kMember, kTarget };
struct RenamedDecl {
  RenameKind kind = RenameKind::kTag;
  std::optional<Ident> from_enum, to_enum;  // members only
  Ident from, to;
  Span span;
};

using Item = std::variant<EnumDecl, EventDecl, ProfileDecl, TagDecl, ImportDecl, ZoneDecl, CapDecl, QuietDecl,
                          IdentityDecl, SegmentDecl, RenamedDecl, Rule>;

// One parsed file. Items whose syntax was wrong are left out; `poisoned`
// names the declarations among them, so the checker does not report their
// uses as unknown (one mistake, one error).
// A token as the formatter needs it (parse::Options::keep_tokens): what it
// is, where, and whether a top-level item starts with it. Comments and
// whitespace are not tokens; they are the text between tokens.
enum class TokenKind : uint8_t {
  kKeyword, kName, kString, kNumber, kDuration, kOffset, kClockRange,
  kLBrace, kRBrace, kLParen, kRParen, kComma, kColon, kDot, kOperator,
};
struct Token {
  TokenKind kind;
  bool starts_item = false;
  Span span;
};

struct RuleFile {
  const Source* source = nullptr;
  std::vector<Item> items;
  std::vector<Span> item_spans;  // parallel to items: first token to last
  std::vector<Token> tokens;  // only with parse::Options::keep_tokens
  std::vector<std::string> poisoned_names;
  bool profile_poisoned = false;  // a `profile` block had a syntax error
  bool has_syntax_errors = false;
};

// A readable, stable dump of the tree, for parser tests: one line per item.
// It holds everything the item means and nothing of its layout, so equal
// dumps mean equal programs (the rule fingerprint, ir::Program).
std::string DebugString(const RuleFile& file);
std::string DebugString(const Item& item);

}  // namespace qm::ast

#endif  // QM_COMPILER_AST_AST_H_

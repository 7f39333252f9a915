#include "compiler/jit/internal/codegen.h"

#include <array>
#include <bit>
#include <cstddef>
#include <cstring>
#include <functional>
#include <map>
#include <string_view>

#include "compiler/jit/internal/llvm_includes.h"
#include "compiler/jit/internal/runtime_calls.h"

namespace qm::jit_internal {
namespace {

using check::Node;
using check::NodeId;
using check::NodeKind;

// Where Value's fields live, so generated code can read them in place.
constexpr uint64_t kValueSize = sizeof(Value);
constexpr uint64_t kKindOffset = offsetof(Value, kind);
constexpr uint64_t kIntOffset = offsetof(Value, i);
constexpr uint64_t kDoubleOffset = offsetof(Value, d);

// Where generated code finds the parts of a value in memory: a Value (an
// event field, a constant, a value read by a call) or a Stored (a profile
// field in place).
struct Layout {
  uint64_t kind, i, d;
  bool text = false;  // whether the text's length and bytes can be read in place
  uint64_t text_size = 0, text_data = 0;
};

// A Value's text is a std::string_view: its length and data pointer, in the
// library's order, read from a view of known length.
Layout ValueLayout() {
  static_assert(sizeof(std::string_view) == 2 * sizeof(uint64_t));
  static const char probe[] = "ab";
  auto words = std::bit_cast<std::array<uint64_t, 2>>(std::string_view(probe, 2));
  constexpr uint64_t base = offsetof(Value, text);
  Layout l{kKindOffset, kIntOffset, kDoubleOffset, true};
  l.text_size = words[0] == 2 ? base : base + 8;
  l.text_data = words[0] == 2 ? base + 8 : base;
  return l;
}

// A Stored's text is a std::string. Libraries that keep a pointer to the
// bytes and the length as words in the object, short strings included (as
// libstdc++ does), have its text read in place; others have it read through
// a call.
Layout StoredLayout() {
  Stored s;
  auto offset = [&s](const void* part) {
    return static_cast<uint64_t>(static_cast<const char*>(part) - reinterpret_cast<const char*>(&s));
  };
  Layout l{offset(&s.kind), offset(&s.i), offset(&s.d)};
  auto words_of = [](const std::string& text) {
    std::array<uint64_t, sizeof(std::string) / sizeof(uint64_t)> words{};
    std::memcpy(words.data(), static_cast<const void*>(&text), sizeof words);
    return words;
  };
  const std::string long_text(40, 'x'), short_text("ab");
  auto long_words = words_of(long_text), short_words = words_of(short_text);
  const uint64_t base = offset(&s.text);
  for (size_t d = 0; d < long_words.size(); ++d) {
    for (size_t n = 0; n < long_words.size(); ++n) {
      if (long_words[d] == reinterpret_cast<uintptr_t>(long_text.data()) && long_words[n] == long_text.size() &&
          short_words[d] == reinterpret_cast<uintptr_t>(short_text.data()) && short_words[n] == short_text.size()) {
        l.text = true;
        l.text_data = base + d * sizeof(uint64_t);
        l.text_size = base + n * sizeof(uint64_t);
        return l;
      }
    }
  }
  return l;
}

// Lists up to this long are compared inline; longer ones call qm_rt_in.
constexpr size_t kInlineListLimit = 16;
// `contains` scans texts up to this many bytes in generated code.
constexpr int64_t kScannedTextBytes = 64;
// Condition nodes (about ten IR instructions each) up to which O2 pays for
// itself: peers20 has 107, 100 generated rules 2,300.
constexpr size_t kOptimizeNodes = 300;

bool IntLike(check::TypeKind k) {
  switch (k) {
    case check::TypeKind::kInt: case check::TypeKind::kMoney: case check::TypeKind::kBool:
    case check::TypeKind::kTime: case check::TypeKind::kDuration: case check::TypeKind::kEnum:
      return true;
    default:
      return false;
  }
}

class Codegen {
 public:
  Codegen(const ir::Program& program, const ConstantTable& constants, llvm::LLVMContext& context)
      : program_(program), p_(program.checked), constants_(constants), branching_(Optimized(program)), ctx_(context),
        module_(std::make_unique<llvm::Module>("qm_rules", context)), b_(context) {
    i8_ = b_.getInt8Ty();
    i32_ = b_.getInt32Ty();
    i64_ = b_.getInt64Ty();
    f64_ = b_.getDoubleTy();
    ptr_ = b_.getPtrTy();
    void_ = b_.getVoidTy();
    auto declare = [&](const char* name, llvm::Type* ret, std::vector<llvm::Type*> args) {
      return llvm::Function::Create(llvm::FunctionType::get(ret, args, false), llvm::Function::ExternalLinkage,
                                    name, module_.get());
    };
    profile_field_ = declare("qm_rt_profile_field", void_, {ptr_, i32_, ptr_});
    aggregate_ = declare("qm_rt_aggregate", void_, {ptr_, i32_, ptr_});
    aggregate_int_ = declare("qm_rt_aggregate_int", i64_, {ptr_, i32_});
    since_ = declare("qm_rt_since", void_, {ptr_, i32_, ptr_});
    since_field_ = declare("qm_rt_since_field", void_, {ptr_, i32_, ptr_});
    now_ = declare("qm_rt_now", void_, {ptr_, ptr_});
    customer_ = declare("qm_rt_customer", void_, {ptr_, ptr_});
    has_tag_ = declare("qm_rt_has_tag", i8_, {ptr_, i32_});
    compare_ = declare("qm_rt_compare", i32_, {ptr_, ptr_});
    in_ = declare("qm_rt_in", i32_, {ptr_, ptr_, i32_});
    contains_ = declare("qm_rt_contains", i8_, {ptr_, ptr_});
    text_contains_ = declare("qm_rt_text_contains", i8_, {ptr_, i64_, ptr_, i64_});
    clock_ = declare("qm_rt_clock", void_, {ptr_, i32_, i32_, ptr_});
    // The C library's: LLVM knows it, and expands short constant lengths.
    memcmp_ = declare("memcmp", i32_, {ptr_, ptr_, i64_});
    memcmp_->setDoesNotThrow();
    memcmp_->setOnlyReadsMemory();
    // What the runtime calls may touch: they read anything (the engine's
    // state) and write only through their pointer arguments, which they do
    // not keep. Saying so lets LLVM keep values in registers across calls
    // and keeps the optimizer's alias queries cheap on large rule sets.
    for (llvm::Function* f : {profile_field_, aggregate_, aggregate_int_, since_, since_field_, now_, customer_,
                              has_tag_, compare_, in_, contains_, text_contains_, clock_}) {
      f->setDoesNotThrow();
      f->setWillReturn();
      f->setMemoryEffects(llvm::MemoryEffects::readOnly() | llvm::MemoryEffects::argMemOnly(llvm::ModRefInfo::ModRef));
      for (llvm::Argument& arg : f->args()) {
        if (arg.getType()->isPointerTy()) arg.addAttr(llvm::Attribute::NoCapture);
      }
    }
  }

  std::unique_ptr<llvm::Module> Build(FunctionNames& names) {
    const size_t events = p_.events.size();
    // Rule and filter functions with the same condition are one function:
    // 1,000 generated rules have ~850 filters but a handful of distinct ones.
    std::unordered_map<std::string, std::string> by_condition;
    names.event_fns.assign(events, "");
    names.rule_fns.assign(p_.rules.size(), "");
    names.where_fns.assign(program_.filters.size(), "");
    for (size_t e = 0; e < events; ++e) {
      const std::vector<int32_t>& rules = program_.rules_by_event[e];
      if (rules.empty()) continue;
      std::string name = "qm_event_" + std::to_string(e);
      llvm::Function* f = Begin(name, i32_, {ptr_, ptr_, ptr_, ptr_, ptr_});
      // Each rule's number is written at the end of those that hold, which
      // grows by one when it holds too: no branch on the outcome.
      llvm::Value* out = f->getArg(4);
      llvm::Value* count = b_.getInt32(0);
      for (int32_t rule : rules) {
        llvm::Value* holds = RuleHolds(rule);
        b_.CreateStore(b_.getInt32(rule), b_.CreateInBoundsGEP(i32_, out, count));
        count = b_.CreateAdd(count, b_.CreateZExt(holds, i32_));
      }
      b_.CreateRet(count);
      names.event_fns[e] = name;
    }
    for (size_t r = 0; r < p_.rules.size(); ++r) {
      check::TriggerKind kind = p_.rules[r].trigger.kind;
      if (kind == check::TriggerKind::kEvent || kind == check::TriggerKind::kAny) continue;
      NodeId cond = p_.rules[r].condition;
      std::string& name = by_condition[cond == check::kNoNode ? "true" : Key(cond)];
      if (name.empty()) {
        name = "qm_rule_" + std::to_string(r);
        Begin(name, i8_, {ptr_, ptr_, ptr_, ptr_});
        b_.CreateRet(b_.CreateZExt(RuleHolds(static_cast<int32_t>(r)), i8_));
      }
      names.rule_fns[r] = name;
    }
    for (size_t f = 0; f < program_.filters.size(); ++f) {
      std::string& name = by_condition[Key(program_.filters[f])];
      if (name.empty()) {
        name = "qm_where_" + std::to_string(f);
        Begin(name, i8_, {ptr_, ptr_, ptr_, ptr_});
        b_.CreateRet(b_.CreateZExt(ShortCircuit(program_.filters[f]), i8_));
      }
      names.where_fns[f] = name;
    }
    return std::move(module_);
  }

 private:
  // Starts a function; every value it computes is cached per function, so an
  // aggregate or comparison that several rules use is computed once per step.
  llvm::Function* Begin(const std::string& name, llvm::Type* ret, std::vector<llvm::Type*> args) {
    llvm::Function* f = llvm::Function::Create(llvm::FunctionType::get(ret, args, false),
                                               llvm::Function::ExternalLinkage, name, module_.get());
    f->setDoesNotThrow();
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", f));
    view_ = f->getArg(0);
    consts_ = f->getArg(1);
    fields_ = f->getArg(2);
    profile_ = f->getArg(3);
    slots_.clear();
    fields_read_.clear();
    profile_read_.clear();
    layouts_.clear();
    bools_.clear();
    ints_.clear();
    loads_.clear();
    set_.clear();
    return f;
  }

  llvm::Value* RuleHolds(int32_t r) {
    NodeId cond = p_.rules[r].condition;
    return cond == check::kNoNode ? b_.getTrue() : ShortCircuit(cond);
  }

  // A condition whose top is `a and b and ...`: each operand past the first
  // is read only when those before it hold, so a rule that fails on its
  // event type's field makes no call for its profile or aggregates. Values
  // computed past the first branch do not dominate what follows: they are
  // forgotten when the condition ends.
  llvm::Value* ShortCircuit(NodeId cond) {
    const Node& n = p_.nodes[cond];
    if (!branching_ || n.kind != NodeKind::kAnd || n.operands.size() < 2) return Bool(cond);
    llvm::Value* holds = Bool(n.operands[0]);
    llvm::BasicBlock* done = llvm::BasicBlock::Create(ctx_, "rule", b_.GetInsertBlock()->getParent());
    std::vector<std::pair<llvm::BasicBlock*, llvm::Value*>> exits;
    in_branch_ = true;
    for (size_t k = 1; k < n.operands.size(); ++k) {
      llvm::BasicBlock* next = llvm::BasicBlock::Create(ctx_, "and", done->getParent());
      b_.CreateCondBr(holds, next, done);
      exits.emplace_back(b_.GetInsertBlock(), b_.getFalse());
      b_.SetInsertPoint(next);
      holds = Bool(n.operands[k]);
    }
    exits.emplace_back(b_.GetInsertBlock(), holds);
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
    llvm::PHINode* result = b_.CreatePHI(b_.getInt1Ty(), static_cast<unsigned>(exits.size()));
    for (auto& [from, value] : exits) result->addIncoming(value, from);
    for (auto it = forget_.rbegin(); it != forget_.rend(); ++it) (*it)();
    forget_.clear();
    in_branch_ = false;
    return result;
  }
  template <class Map, class K>
  void Remember(Map& cache, const K& key) {
    if (in_branch_) forget_.push_back([&cache, key] { cache.erase(key); });
  }

  // A canonical key for a node: nodes with equal keys generate the same code,
  // so equal subexpressions share one result and equal conditions one function.
  const std::string& Key(NodeId id) {
    std::string& cached = keys_[id];
    if (cached.empty()) cached = MakeKey(id);
    return cached;
  }
  std::string MakeKey(NodeId id) {
    const Node& n = p_.nodes[id];
    // Fixed-width fields as bytes: a key is compared and hashed, never read.
    std::string key;
    auto put = [&key](auto field) {
      char bytes[sizeof field];
      std::memcpy(bytes, &field, sizeof field);
      key.append(bytes, sizeof field);
    };
    // An event field is read by index whatever the event (its type says how
    // it compares), so `qty > 2` is one key in the filters of every event.
    int32_t event = n.kind == NodeKind::kEventField ? -1 : static_cast<int32_t>(n.event);
    put(n.kind), put(n.op), put(n.negated), put(event), put(static_cast<int32_t>(n.field));
    put(static_cast<int32_t>(n.aggregate)), put(static_cast<int32_t>(n.tag)), put(n.clock);
    put(n.type.kind), put(static_cast<int32_t>(n.type.enum_id));
    // Constants by what they hold, not where they sit in the table.
    for (const check::Constant& c : n.constants) {
      put(c.type.kind), put(static_cast<int32_t>(c.type.enum_id)), put(c.i), put(c.d), put(c.exact.units),
          put(c.exact.scale), put(c.text.size());
      key += c.text;
    }
    // Operands by the number of their key: keys stay short however deep the condition.
    put(n.operands.size());
    for (NodeId o : n.operands) put(canonical_.try_emplace(Key(o), canonical_.size()).first->second);
    return key;
  }

  llvm::Value* ConstSlot(int32_t index) {
    return At(consts_, static_cast<uint64_t>(index) * kValueSize);
  }

  // A pointer to the Value of a value node: an event field in place, a
  // constant in the table, or a leaf read once into the frame.
  llvm::Value* Slot(NodeId id) {
    const Node& n = p_.nodes[id];
    if (n.kind == NodeKind::kConstant) return ConstSlot(constants_.index.at(id));
    const std::string& key = Key(id);
    if (n.kind == NodeKind::kEventField) {
      llvm::Value*& field = fields_read_[key];
      if (field == nullptr) {
        field = At(fields_, static_cast<uint64_t>(n.field) * kValueSize);
        Remember(fields_read_, key);
      }
      return field;
    }
    auto it = slots_.find(key);
    if (it != slots_.end()) return it->second;
    llvm::BasicBlock& entry = b_.GetInsertBlock()->getParent()->getEntryBlock();
    llvm::AllocaInst* slot = new llvm::AllocaInst(llvm::ArrayType::get(i8_, kValueSize), 0, "v", &*entry.getFirstInsertionPt());
    slot->setAlignment(llvm::Align(8));
    switch (n.kind) {
      case NodeKind::kProfileField: b_.CreateCall(profile_field_, {view_, b_.getInt32(n.field), slot}); break;
      case NodeKind::kAggregate: b_.CreateCall(aggregate_, {view_, b_.getInt32(n.aggregate), slot}); break;
      case NodeKind::kSince: b_.CreateCall(since_, {view_, b_.getInt32(n.event), slot}); break;
      case NodeKind::kSinceField: b_.CreateCall(since_field_, {view_, b_.getInt32(n.field), slot}); break;
      case NodeKind::kTs: b_.CreateCall(now_, {view_, slot}); break;
      case NodeKind::kCustomer: b_.CreateCall(customer_, {view_, slot}); break;
      case NodeKind::kClock:
        b_.CreateCall(clock_, {Slot(n.operands[0]), b_.getInt32(static_cast<int32_t>(n.clock)),
                               b_.getInt32(p_.zone_minutes), slot});
        break;
      case NodeKind::kConstant: case NodeKind::kEventField:  // above
      case NodeKind::kCompare: case NodeKind::kIn: case NodeKind::kContains: case NodeKind::kHas:
      case NodeKind::kNot: case NodeKind::kAnd: case NodeKind::kOr:
        break;  // bool-valued: Bool() computes them; as values they are never read
    }
    slots_.emplace(key, slot);
    Remember(slots_, key);
    return slot;
  }

  // Where a value node can be read in place: a profile field in the
  // customer's profile; any other where Slot puts it.
  llvm::Value* Place(NodeId id) {
    const Node& n = p_.nodes[id];
    if (n.kind != NodeKind::kProfileField) return Slot(id);
    const std::string& key = Key(id);
    llvm::Value*& field = profile_read_[key];
    if (field == nullptr) {
      field = At(profile_, static_cast<uint64_t>(n.field) * sizeof(Stored));
      Remember(profile_read_, key);
      layouts_[field] = &stored_;
    }
    return field;
  }
  const Layout& LayoutOf(llvm::Value* place) const {
    auto it = layouts_.find(place);
    return it == layouts_.end() ? value_ : *it->second;
  }

  // Unoptimized code is compiled instruction by instruction, so none is
  // emitted that folds away: a zero offset, an `and` with true, an `or` with false.
  llvm::Value* At(llvm::Value* base, uint64_t offset) {
    return offset == 0 ? base : b_.CreateConstInBoundsGEP1_64(i8_, base, offset);
  }
  llvm::Value* And(llvm::Value* a, llvm::Value* b) {
    if (a == b_.getTrue()) return b;
    if (b == b_.getTrue()) return a;
    return b_.CreateAnd(a, b);
  }
  llvm::Value* Or(llvm::Value* a, llvm::Value* b) {
    if (a == b_.getFalse()) return b;
    if (b == b_.getFalse()) return a;
    return b_.CreateOr(a, b);
  }
  // A slot is written once, by the call that reads it (an event field is
  // never written), so each of its parts is loaded once per function: code
  // branches only around a byte compare and rejoins before anything else.
  llvm::Value* Load(llvm::Type* type, llvm::Value* slot, uint64_t offset) {
    llvm::Value*& v = loads_[{slot, offset}];
    if (v == nullptr) {
      v = b_.CreateLoad(type, At(slot, offset));
      Remember(loads_, std::pair{slot, offset});
    }
    return v;
  }
  llvm::Value* LoadInt(llvm::Value* slot) { return Load(i64_, slot, LayoutOf(slot).i); }
  llvm::Value* LoadDouble(llvm::Value* slot) { return Load(f64_, slot, LayoutOf(slot).d); }
  llvm::Value* IsSet(llvm::Value* slot) {
    llvm::Value*& v = set_[slot];
    if (v == nullptr) {
      v = b_.CreateICmpNE(Load(i8_, slot, LayoutOf(slot).kind), b_.getInt8(0));
      Remember(set_, slot);
    }
    return v;
  }
  // Values that are never unset need no check: counts and sums (0 over
  // nothing, A19, D10) and the step's time.
  bool AlwaysSet(NodeId id) const {
    const Node& n = p_.nodes[id];
    if (n.kind == NodeKind::kTs) return true;
    if (n.kind != NodeKind::kAggregate) return false;
    const check::AggregateInfo& a = p_.aggregates[n.aggregate];
    return a.distinct || a.func == check::AggFunc::kCount || a.func == check::AggFunc::kSum;
  }

  // The integer of an int-like value node known to be set.
  llvm::Value* IntOf(NodeId id) {
    const Node& n = p_.nodes[id];
    if (n.kind != NodeKind::kAggregate || !AlwaysSet(id)) return LoadInt(Place(id));
    llvm::Value*& v = ints_[Key(id)];
    if (v == nullptr) {
      v = b_.CreateCall(aggregate_int_, {view_, b_.getInt32(n.aggregate)});
      Remember(ints_, Key(id));
    }
    return v;
  }

  llvm::Value* Bool(NodeId id) {
    const std::string& key = Key(id);
    auto it = bools_.find(key);
    if (it != bools_.end()) return it->second;
    llvm::Value* v = BoolUncached(id);
    bools_.emplace(key, v);
    Remember(bools_, key);
    return v;
  }

  llvm::Value* BoolUncached(NodeId id) {
    const Node& n = p_.nodes[id];
    switch (n.kind) {
      case NodeKind::kCompare: return Compare(n);
      case NodeKind::kIn: {
        const std::vector<check::Constant>& list = n.constants;
        if (llvm::Value* inline_in = InlineIn(n)) return inline_in;
        llvm::Value* r = b_.CreateCall(in_, {Slot(n.operands[0]), ConstSlot(constants_.index.at(id)),
                                             b_.getInt32(static_cast<int32_t>(list.size()))});
        // C5: unset (-1) is false either way.
        return b_.CreateICmpEQ(r, b_.getInt32(n.negated ? 0 : 1));
      }
      case NodeKind::kContains:
        if (branching_ && TextInPlace(n.operands[0]))
          return TextContains(Place(n.operands[0]), n.constants[0].text);
        return b_.CreateICmpNE(b_.CreateCall(contains_, {Slot(n.operands[0]), ConstSlot(constants_.index.at(id))}),
                               b_.getInt8(0));
      case NodeKind::kHas:
        return b_.CreateICmpNE(b_.CreateCall(has_tag_, {view_, b_.getInt32(n.tag)}), b_.getInt8(0));
      case NodeKind::kNot: {
        // `not has T`: the inverse compare (the first, if unused, is dead code
        // instruction selection skips), not an `xor` after it.
        llvm::Value* v = Bool(n.operands[0]);
        if (auto* cmp = llvm::dyn_cast<llvm::ICmpInst>(v))
          return b_.CreateICmp(cmp->getInversePredicate(), cmp->getOperand(0), cmp->getOperand(1));
        return b_.CreateNot(v);
      }
      case NodeKind::kAnd: case NodeKind::kOr: {
        llvm::Value* acc = n.kind == NodeKind::kAnd ? b_.getTrue() : b_.getFalse();
        for (NodeId o : n.operands) acc = n.kind == NodeKind::kAnd ? And(acc, Bool(o)) : Or(acc, Bool(o));
        return acc;
      }
      case NodeKind::kConstant: case NodeKind::kEventField: case NodeKind::kProfileField: case NodeKind::kTs:
      case NodeKind::kCustomer: case NodeKind::kAggregate: case NodeKind::kSince: case NodeKind::kSinceField:
      case NodeKind::kClock: {
        // A bool-valued leaf.
        llvm::Value* slot = Place(id);
        llvm::Value* nonzero = b_.CreateICmpNE(LoadInt(slot), b_.getInt64(0));
        return AlwaysSet(id) ? nonzero : And(IsSet(slot), nonzero);
      }
    }
    return b_.getFalse();  // not reached: every kind is handled
  }

  // The static representation of a side, for inlining.
  enum class Repr { kInt, kDouble, kOther };
  struct Side {
    Repr repr = Repr::kOther;
    bool constant = false;
    int64_t i = 0;
    double d = 0;
    check::TypeKind kind = check::TypeKind::kError;
  };

  Side Describe(NodeId id) {
    const Node& n = p_.nodes[id];
    Side s;
    s.kind = n.type.kind;
    if (n.kind == NodeKind::kConstant) {
      const check::Constant& c = n.constants[0];
      s.constant = true;
      if (c.type.kind == check::TypeKind::kDecimal) {
        s.repr = Repr::kOther;  // converted against the other side below
      } else if (IntLike(c.type.kind)) {
        s.repr = Repr::kInt;
        s.i = c.i;
      } else if (c.type.kind == check::TypeKind::kNumber) {
        s.repr = Repr::kDouble;
        s.d = c.d;
      }
      return s;
    }
    if (n.kind == NodeKind::kAggregate && p_.aggregates[n.aggregate].func == check::AggFunc::kAvg &&
        n.type.kind != check::TypeKind::kNumber) {
      return s;  // an exact ratio at run time
    }
    if (n.kind == NodeKind::kCustomer || n.type.kind == check::TypeKind::kText) return s;
    if (IntLike(n.type.kind)) s.repr = Repr::kInt;
    if (n.type.kind == check::TypeKind::kNumber) s.repr = Repr::kDouble;
    return s;
  }

  llvm::Value* Holds(check::CmpOp op, llvm::Value* a, llvm::Value* b, bool is_double) {
    if (is_double) {  // ordered: NaN compares false, `!=` too (A17 spirit; matches CompareValues)
      switch (op) {
        case check::CmpOp::kEq: return b_.CreateFCmpOEQ(a, b);
        case check::CmpOp::kNe: return b_.CreateFCmpONE(a, b);
        case check::CmpOp::kLt: return b_.CreateFCmpOLT(a, b);
        case check::CmpOp::kLe: return b_.CreateFCmpOLE(a, b);
        case check::CmpOp::kGt: return b_.CreateFCmpOGT(a, b);
        case check::CmpOp::kGe: return b_.CreateFCmpOGE(a, b);
      }
    }
    switch (op) {
      case check::CmpOp::kEq: return b_.CreateICmpEQ(a, b);
      case check::CmpOp::kNe: return b_.CreateICmpNE(a, b);
      case check::CmpOp::kLt: return b_.CreateICmpSLT(a, b);
      case check::CmpOp::kLe: return b_.CreateICmpSLE(a, b);
      case check::CmpOp::kGt: return b_.CreateICmpSGT(a, b);
      case check::CmpOp::kGe: return b_.CreateICmpSGE(a, b);
    }
    return b_.getFalse();
  }

  // A decimal literal as the other side's integer representation, when exact.
  std::optional<int64_t> DecimalAs(const check::Constant& c, check::TypeKind other) {
    if (other == check::TypeKind::kInt) return DecimalToInt(c.exact);
    if (other == check::TypeKind::kMoney) return DecimalToCents(c.exact);
    return std::nullopt;
  }

  llvm::Value* Compare(const Node& n) {
    NodeId l = n.operands[0], r = n.operands[1];
    Side a = Describe(l), b = Describe(r);
    const Node& rn = p_.nodes[r];
    // Decimal literals become the other side's integer when that is exact.
    if (b.constant && rn.constants[0].type.kind == check::TypeKind::kDecimal && a.repr == Repr::kInt) {
      if (auto v = DecimalAs(rn.constants[0], a.kind)) { b.repr = Repr::kInt; b.i = *v; b.kind = a.kind; }
    }
    if (b.constant && rn.constants[0].type.kind == check::TypeKind::kDecimal && a.repr == Repr::kDouble) {
      b.repr = Repr::kDouble;
      b.d = rn.constants[0].d;  // A15: the literal's nearest double
    }
    bool same_int = a.repr == Repr::kInt && b.repr == Repr::kInt && a.kind == b.kind;
    bool doubles = a.repr == Repr::kDouble && (b.repr == Repr::kDouble || (b.repr == Repr::kInt && b.kind == check::TypeKind::kInt));
    if (same_int || doubles) {
      llvm::Value* set = b_.getTrue();
      auto operand = [&](const Side& s, NodeId id, bool as_double) -> llvm::Value* {
        if (s.constant) {
          if (as_double) return llvm::ConstantFP::get(f64_, s.repr == Repr::kDouble ? s.d : static_cast<double>(s.i));
          return b_.getInt64(s.i);
        }
        if (AlwaysSet(id) && s.repr == Repr::kInt) {
          llvm::Value* i = IntOf(id);
          return as_double ? b_.CreateSIToFP(i, f64_) : i;
        }
        llvm::Value* slot = Place(id);
        if (!AlwaysSet(id)) set = And(set, IsSet(slot));
        if (!as_double) return LoadInt(slot);
        return s.repr == Repr::kDouble ? LoadDouble(slot) : b_.CreateSIToFP(LoadInt(slot), f64_);
      };
      llvm::Value* x = operand(a, l, doubles);
      llvm::Value* y = operand(b, r, doubles);
      return And(set, Holds(n.op, x, y, doubles));
    }
    // Text against a text literal: lengths, then bytes.
    if (branching_ && (n.op == check::CmpOp::kEq || n.op == check::CmpOp::kNe)) {
      const Node& ln = p_.nodes[l];
      bool left_text = ln.kind == NodeKind::kConstant && ln.constants[0].type.kind == check::TypeKind::kText;
      bool right_text = rn.kind == NodeKind::kConstant && rn.constants[0].type.kind == check::TypeKind::kText;
      if (left_text != right_text) {
        NodeId x = left_text ? r : l;
        const std::string& text = (left_text ? ln : rn).constants[0].text;
        if (p_.nodes[x].type.kind == check::TypeKind::kText && TextInPlace(x)) {
          llvm::Value* slot = Place(x);
          llvm::Value* same = TextIs(slot, text);
          // C5 spirit: an unset side is neither equal nor different.
          return n.op == check::CmpOp::kEq ? same : And(IsSet(slot), b_.CreateNot(same));
        }
      }
    }
    // Everything else through the shared comparison (text, ratios, mixed kinds).
    llvm::Value* order = b_.CreateCall(compare_, {Slot(l), Slot(r)});
    llvm::Value* ordered = b_.CreateICmpNE(order, b_.getInt32(kUnordered));
    return And(ordered, Holds(n.op, order, b_.getInt32(0), false));
  }

  // `x in (...)` over texts (in branching code) or over one int-like kind,
  // as compares: null when the list mixes kinds or is long (qm_rt_in
  // decides those).
  llvm::Value* InlineIn(const Node& n) {
    const Node& x = p_.nodes[n.operands[0]];
    if (n.constants.size() > kInlineListLimit) return nullptr;
    bool text = x.type.kind == check::TypeKind::kText;
    if (text ? !branching_ || !TextInPlace(n.operands[0]) : !IntLike(x.type.kind)) return nullptr;
    for (const check::Constant& c : n.constants)
      if (c.type.kind != x.type.kind || (!text && c.type.enum_id != x.type.enum_id)) return nullptr;
    llvm::Value* slot = Place(n.operands[0]);
    llvm::Value* found = b_.getFalse();
    for (const check::Constant& c : n.constants) {
      if (text) found = Or(found, TextIs(slot, c.text));
      else found = Or(found, b_.CreateICmpEQ(LoadInt(slot), b_.getInt64(c.i)));
    }
    // C5: an unset `x` is neither in nor not in the list.
    if (!n.negated) return text ? found : And(IsSet(slot), found);
    return And(IsSet(slot), b_.CreateNot(found));
  }

  bool TextInPlace(NodeId id) const { return p_.nodes[id].kind != NodeKind::kProfileField || stored_.text; }

  // Whether the text value at `slot` is exactly `text` (false when unset).
  llvm::Value* TextIs(llvm::Value* slot, std::string_view text) {
    const Layout& layout = LayoutOf(slot);
    llvm::Value* length =
        And(IsSet(slot), b_.CreateICmpEQ(Load(i64_, slot, layout.text_size), b_.getInt64(text.size())));
    if (text.empty()) return length;
    llvm::Value* data = Load(ptr_, slot, layout.text_data);
    llvm::BasicBlock* from = b_.GetInsertBlock();
    llvm::BasicBlock* bytes = llvm::BasicBlock::Create(ctx_, "bytes", from->getParent());
    llvm::BasicBlock* joined = llvm::BasicBlock::Create(ctx_, "text", from->getParent());
    b_.CreateCondBr(length, bytes, joined);
    b_.SetInsertPoint(bytes);
    llvm::Value* same = b_.CreateICmpEQ(b_.CreateCall(memcmp_, {data, Literal(text), b_.getInt64(text.size())}),
                                        b_.getInt32(0));
    b_.CreateBr(joined);
    b_.SetInsertPoint(joined);
    llvm::PHINode* result = b_.CreatePHI(b_.getInt1Ty(), 2);
    result->addIncoming(b_.getFalse(), from);
    result->addIncoming(same, bytes);
    return result;
  }

  // Whether the text value at `slot` contains `needle` (false when unset).
  // Short texts are scanned here, a byte then the rest (LLVM expands the
  // constant-length memcmp); longer ones go to the library's search, which
  // wins past a few dozen bytes.
  llvm::Value* TextContains(llvm::Value* slot, std::string_view needle) {
    const Layout& layout = LayoutOf(slot);
    llvm::Value* set = IsSet(slot);
    if (needle.empty()) return set;
    llvm::Value* size = Load(i64_, slot, layout.text_size);
    llvm::Value* data = Load(ptr_, slot, layout.text_data);
    const uint64_t m = needle.size();
    llvm::Function* fn = b_.GetInsertBlock()->getParent();
    auto block = [&](const char* name) { return llvm::BasicBlock::Create(ctx_, name, fn); };
    llvm::BasicBlock *from = b_.GetInsertBlock(), *sized = block("contains.sized"), *scan = block("contains.scan"),
                     *loop = block("contains.loop"), *candidate = block("contains.candidate"),
                     *next = block("contains.next"), *search = block("contains.search"), *joined = block("contains");
    b_.CreateCondBr(set, sized, joined);
    b_.SetInsertPoint(sized);
    b_.CreateCondBr(b_.CreateICmpUGT(size, b_.getInt64(kScannedTextBytes)), search, scan);

    b_.SetInsertPoint(search);
    llvm::Value* found_far = b_.CreateICmpNE(
        b_.CreateCall(text_contains_, {data, size, Literal(needle), b_.getInt64(m)}), b_.getInt8(0));
    b_.CreateBr(joined);

    b_.SetInsertPoint(scan);
    llvm::Value* last = b_.CreateSub(size, b_.getInt64(m));  // the last start, when size >= m
    b_.CreateCondBr(b_.CreateICmpUGE(size, b_.getInt64(m)), loop, joined);
    b_.SetInsertPoint(loop);
    llvm::PHINode* at = b_.CreatePHI(i64_, 2);
    at->addIncoming(b_.getInt64(0), scan);
    llvm::Value* first = b_.CreateLoad(i8_, b_.CreateGEP(i8_, data, at));
    b_.CreateCondBr(b_.CreateICmpEQ(first, b_.getInt8(static_cast<uint8_t>(needle[0]))), candidate, next);
    b_.SetInsertPoint(candidate);
    llvm::Value* rest = b_.getTrue();
    if (m > 1) {
      llvm::Value* here = b_.CreateGEP(i8_, data, b_.CreateAdd(at, b_.getInt64(1)));
      llvm::Value* tail = b_.CreateGEP(i8_, Literal(needle), b_.getInt64(1));
      rest = b_.CreateICmpEQ(b_.CreateCall(memcmp_, {here, tail, b_.getInt64(m - 1)}), b_.getInt32(0));
    }
    b_.CreateCondBr(rest, joined, next);
    b_.SetInsertPoint(next);
    llvm::Value* after = b_.CreateAdd(at, b_.getInt64(1));
    at->addIncoming(after, next);
    b_.CreateCondBr(b_.CreateICmpULE(after, last), loop, joined);

    b_.SetInsertPoint(joined);
    llvm::PHINode* result = b_.CreatePHI(b_.getInt1Ty(), 5);
    result->addIncoming(b_.getFalse(), from);
    result->addIncoming(found_far, search);
    result->addIncoming(b_.getFalse(), scan);
    result->addIncoming(b_.getTrue(), candidate);
    result->addIncoming(b_.getFalse(), next);
    return result;
  }

  // A text literal's bytes, in the module: compiled code is shared between
  // equal programs, so it does not point into one program's constants.
  llvm::Value* Literal(std::string_view text) {
    llvm::GlobalVariable*& g = literals_[std::string(text)];
    if (g == nullptr) {
      llvm::Constant* bytes = llvm::ConstantDataArray::getString(ctx_, llvm::StringRef(text.data(), text.size()), false);
      g = new llvm::GlobalVariable(*module_, bytes->getType(), true, llvm::GlobalValue::PrivateLinkage, bytes, "text");
      g->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    }
    return g;
  }

  const ir::Program& program_;
  const check::Program& p_;
  const ConstantTable& constants_;
  const bool branching_;
  llvm::LLVMContext& ctx_;
  std::unique_ptr<llvm::Module> module_;
  llvm::IRBuilder<> b_;
  llvm::Type *i8_, *i32_, *i64_, *f64_, *ptr_, *void_;
  llvm::Function *profile_field_, *aggregate_, *aggregate_int_, *since_, *since_field_, *now_, *customer_, *has_tag_,
      *compare_, *in_, *contains_, *text_contains_, *clock_, *memcmp_;
  const Layout value_ = ValueLayout(), stored_ = StoredLayout();
  llvm::Value* view_ = nullptr;
  llvm::Value* consts_ = nullptr;
  llvm::Value* fields_ = nullptr;
  llvm::Value* profile_ = nullptr;
  std::unordered_map<std::string, llvm::Value*> slots_, bools_, ints_, fields_read_, profile_read_;
  std::unordered_map<llvm::Value*, const Layout*> layouts_;  // places that are not Values
  std::unordered_map<std::string, llvm::GlobalVariable*> literals_;
  bool in_branch_ = false;
  std::vector<std::function<void()>> forget_;
  std::map<std::pair<llvm::Value*, uint64_t>, llvm::Value*> loads_;
  std::unordered_map<llvm::Value*, llvm::Value*> set_;
  std::vector<std::string> keys_ = std::vector<std::string>(p_.nodes.size());
  std::unordered_map<std::string, size_t> canonical_;
};

}  // namespace

ConstantTable BuildConstants(const ir::Program& program) {
  const check::Program& p = program.checked;
  ConstantTable t;
  for (size_t id = 0; id < p.nodes.size(); ++id) {
    const Node& n = p.nodes[id];
    if (n.kind != NodeKind::kConstant && n.kind != NodeKind::kIn && n.kind != NodeKind::kContains) continue;
    t.index.emplace(static_cast<NodeId>(id), static_cast<int32_t>(t.values.size()));
    for (const check::Constant& c : n.constants) t.values.push_back(ir::ConstantValue(c));
  }
  return t;
}

bool Optimized(const ir::Program& program) { return program.checked.nodes.size() <= kOptimizeNodes; }

std::unique_ptr<llvm::Module> BuildModule(const ir::Program& program, const ConstantTable& constants,
                                          llvm::LLVMContext& context, FunctionNames& names) {
  return Codegen(program, constants, context).Build(names);
}

}  // namespace qm::jit_internal

// The one translation unit that includes LLJIT and PassBuilder (they cost
// 10-30 s to compile); code generation lives in internal/codegen.cc.
#include "compiler/jit/jit.h"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <unordered_map>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wredundant-move"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/ThreadSafeModule.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#pragma GCC diagnostic pop

#include "compiler/jit/internal/codegen.h"
#include "compiler/jit/internal/runtime_calls.h"

namespace qm::jit {
namespace {

// (view, constants, the event's fields, the profile, out): jit_internal::FunctionNames.
using EventFn = int32_t (*)(const ir::StepView*, const Value*, const Value*, const Stored*, int32_t*);
using PredicateFn = uint8_t (*)(const ir::StepView*, const Value*, const Value*, const Stored*);

double Ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since).count();
}

// Machine code for one rule set. Immutable once built; shared by every
// evaluator of an equal program (same fingerprint) in this process.
struct Compiled {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::vector<EventFn> event_fns;
  std::vector<PredicateFn> rule_fns, where_fns;
};

// Compiled code by program fingerprint. It outlives the evaluators (a
// service recreating a Runner, or reloading rules it ran before, compiles
// nothing), up to kCacheEntries rule sets, least recently used first out;
// evaluators keep their own code alive. Each entry has its own lock, held
// while it compiles: a rule set cached or compiled elsewhere never waits
// behind another's compile.
constexpr size_t kCacheEntries = 16;
struct CacheEntry {
  std::mutex compiling;
  std::shared_ptr<Compiled> code;  // null until compiled
  uint64_t last_used = 0;
};
struct Cache {
  std::mutex mutex;  // guards `entries` and `clock`, never held while compiling
  std::unordered_map<std::string, std::shared_ptr<CacheEntry>> entries;
  uint64_t clock = 0;

  std::shared_ptr<CacheEntry> Entry(const std::string& fingerprint) {
    std::lock_guard<std::mutex> lock(mutex);
    std::shared_ptr<CacheEntry>& entry = entries[fingerprint];
    if (!entry) entry = std::make_shared<CacheEntry>();
    entry->last_used = ++clock;
    return entry;
  }
  // Drops the least recently used entries beyond the bound (and any whose
  // compile failed).
  void Trim() {
    std::lock_guard<std::mutex> lock(mutex);
    while (entries.size() > kCacheEntries) {
      auto oldest = entries.begin();
      for (auto it = entries.begin(); it != entries.end(); ++it)
        if (it->second->last_used < oldest->second->last_used) oldest = it;
      entries.erase(oldest);
    }
  }
};
Cache& TheCache() {
  static auto* cache = new Cache();  // never destroyed: evaluators may outlive static destruction
  return *cache;
}

std::string ToString(llvm::Error error) { return llvm::toString(std::move(error)); }

void Optimize(llvm::Module& module, llvm::TargetMachine* machine) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder builder(machine);
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2).run(module, mam);
}

std::shared_ptr<Compiled> Compile(const ir::Program& program, const jit_internal::ConstantTable& constants,
                                  std::string* error, CompileStats* stats) {
  static std::once_flag init;
  std::call_once(init, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  auto fail = [&](std::string message) -> std::shared_ptr<Compiled> {
    if (error) *error = std::move(message);
    return nullptr;
  };
  auto start = std::chrono::steady_clock::now();
  auto machine_builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!machine_builder) return fail(ToString(machine_builder.takeError()));
  auto layout = machine_builder->getDefaultDataLayoutForTarget();
  if (!layout) return fail(ToString(layout.takeError()));
  auto context = std::make_unique<llvm::LLVMContext>();
  jit_internal::FunctionNames names;
  std::unique_ptr<llvm::Module> module = jit_internal::BuildModule(program, constants, *context, names);
  module->setDataLayout(*layout);
  module->setTargetTriple(machine_builder->getTargetTriple().str());
  std::string broken;
  llvm::raw_string_ostream broken_out(broken);
  if (llvm::verifyModule(*module, &broken_out)) return fail("generated code does not verify: " + broken);
  if (stats) stats->codegen_ms = Ms(start);

  // O2 pays for itself on small rule sets only: its cost grows fast with size
  // (1,000 rules: 5 s against 0.2 s unoptimized, docs/performance.md).
  size_t instructions = module->getInstructionCount();
  bool optimize = jit_internal::Optimized(program);
  start = std::chrono::steady_clock::now();
  if (optimize) {
    auto machine = machine_builder->createTargetMachine();
    if (!machine) return fail(ToString(machine.takeError()));
    Optimize(*module, machine->get());
  } else {
    machine_builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::None);
  }
  if (stats) {
    stats->optimize_ms = Ms(start);
    stats->optimized = optimize;
    stats->instructions = instructions;
  }
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*machine_builder)).create();
  if (!jit) return fail("cannot create the JIT: " + ToString(jit.takeError()));

  start = std::chrono::steady_clock::now();
  llvm::orc::SymbolMap symbols;
  for (const auto& [name, address] : jit_internal::RuntimeSymbols()) {
    symbols[(*jit)->mangleAndIntern(name)] = llvm::orc::ExecutorSymbolDef(
        llvm::orc::ExecutorAddr::fromPtr(address), llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
  }
  if (auto err = (*jit)->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(symbols))))
    return fail(ToString(std::move(err)));
  if (auto err = (*jit)->addIRModule(llvm::orc::ThreadSafeModule(std::move(module), std::move(context))))
    return fail(ToString(std::move(err)));
  auto compiled = std::make_shared<Compiled>();
  auto lookup = [&](const std::string& name) -> void* {
    if (name.empty()) return nullptr;
    auto symbol = (*jit)->lookup(name);
    if (!symbol) {
      if (error) *error = ToString(symbol.takeError());
      return nullptr;
    }
    return symbol->toPtr<void*>();
  };
  for (const std::string& n : names.event_fns) compiled->event_fns.push_back(reinterpret_cast<EventFn>(lookup(n)));
  for (const std::string& n : names.rule_fns) compiled->rule_fns.push_back(reinterpret_cast<PredicateFn>(lookup(n)));
  for (const std::string& n : names.where_fns) compiled->where_fns.push_back(reinterpret_cast<PredicateFn>(lookup(n)));
  if (error && !error->empty()) return nullptr;
  compiled->jit = std::move(*jit);
  if (stats) stats->jit_ms = Ms(start);
  return compiled;
}

class JitEvaluator final : public ir::Evaluator {
 public:
  JitEvaluator(const ir::Program& program, jit_internal::ConstantTable constants, std::shared_ptr<Compiled> code)
      : rules_by_event_(program.rules_by_event), constants_(std::move(constants)), code_(std::move(code)) {
    size_t widest = 0;
    for (const check::EventInfo& e : program.checked.events) widest = std::max(widest, e.fields.size());
    no_event_.resize(widest);
    size_t most = 0;
    for (const std::vector<int32_t>& rules : rules_by_event_) most = std::max(most, rules.size());
    held_.resize(most);
  }

  // The event type's function evaluates all its rules at once.
  void MatchEvent(int32_t type, const ir::StepView& view, std::vector<int32_t>& matched) override {
    const std::vector<int32_t>& candidates = rules_by_event_[type];
    if (candidates.empty()) return;
    const int32_t held =
        code_->event_fns[type](&view, constants_.values.data(), Fields(view), view.ProfileFields(), held_.data());
    matched.insert(matched.end(), held_.data(), held_.data() + held);
  }

  void MatchRules(const std::vector<int32_t>& candidates, const ir::StepView& view,
                  std::vector<int32_t>& matched) override {
    for (int32_t r : candidates) {
      PredicateFn fn = code_->rule_fns[r];
      if (fn(&view, constants_.values.data(), Fields(view), view.ProfileFields())) matched.push_back(r);
    }
  }

  bool Filter(int32_t filter, const ir::StepView& view) override {
    return code_->where_fns[filter](&view, constants_.values.data(), Fields(view), view.ProfileFields());
  }

 private:
  // A step without an event reads every field unset (A13).
  const Value* Fields(const ir::StepView& view) const {
    const Value* fields = view.EventFields();
    return fields != nullptr ? fields : no_event_.data();
  }

  const std::vector<std::vector<int32_t>>& rules_by_event_;
  jit_internal::ConstantTable constants_;
  std::shared_ptr<Compiled> code_;
  std::vector<Value> no_event_;  // as many unset Values as the widest event has fields
  std::vector<int32_t> held_;    // room for the rules of the event type with the most
};

}  // namespace

std::unique_ptr<ir::Evaluator> MakeJit(const ir::Program& program, std::string* error, CompileStats* stats) {
  jit_internal::ConstantTable constants = jit_internal::BuildConstants(program);
  std::shared_ptr<CacheEntry> entry = TheCache().Entry(program.fingerprint);
  std::shared_ptr<Compiled> code;
  {
    std::lock_guard<std::mutex> lock(entry->compiling);
    code = entry->code;
    if (code && stats) stats->cache_hit = true;
    if (!code) {
      std::string message;
      code = Compile(program, constants, &message, stats);
      if (!code) {
        if (error) *error = message;
        return nullptr;
      }
      entry->code = code;
    }
  }
  TheCache().Trim();
  return std::make_unique<JitEvaluator>(program, std::move(constants), std::move(code));
}

std::string DumpIr(const ir::Program& program) {
  jit_internal::ConstantTable constants = jit_internal::BuildConstants(program);
  llvm::LLVMContext context;
  jit_internal::FunctionNames names;
  std::unique_ptr<llvm::Module> module = jit_internal::BuildModule(program, constants, context, names);
  std::string text;
  llvm::raw_string_ostream out(text);
  module->print(out, nullptr);
  return text;
}

}  // namespace qm::jit

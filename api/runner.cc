// Runner: events fed one line at a time, state in memory.
#include "api/internal.h"
#include "compiler/interp/interp.h"
#include "runtime/coverage/coverage.h"
#include "compiler/value/value.h"
#include "runtime/event/decode.h"
#include "runtime/input/line_reader.h"
#include "runtime/run/run.h"
#include "runtime/shard/shard.h"
#include "runtime/state/durable.h"
#include "runtime/state/inspect.h"

#include <chrono>
#include <system_error>
#include <thread>

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

std::vector<Coverage::RuleActivity> Coverage::Activity() const {
  std::vector<RuleActivity> out;
  if (!impl_->observer) return out;
  const qm::check::Program& p = impl_->rules->compiled.program->ir().checked;
  const std::vector<qm::coverage::Activity>& activity = impl_->observer->activity();
  for (size_t r = 0; r < p.rules.size(); ++r) {
    RuleActivity a{p.rules[r].name, activity[r].matched, {}, activity[r].suppressed};
    for (size_t k = 0; k < p.rules[r].actions.size(); ++k) {
      const qm::check::Action& action = p.rules[r].actions[k];
      // The action itself, without `after …` and `unless …`: `push 复购提醒`, `tag 高意向`.
      std::string what = std::string(qm::check::Spelling(action.kind)) + " ";
      switch (action.kind) {
        case qm::check::ActionKind::kSet: case qm::check::ActionKind::kAdd: what += p.profile[action.field].name; break;
        case qm::check::ActionKind::kTag: case qm::check::ActionKind::kUntag: what += p.tags[action.tag].name; break;
        default: what += action.text; break;
      }
      a.emitted.emplace_back(std::move(what), activity[r].applied[k]);
    }
    out.push_back(std::move(a));
  }
  return out;
}

namespace {

// Collects one call's lines for its delivery.
class BatchOutput final : public qm::engine::Output {
 public:
  void Action(std::string_view line) override { Add(line, actions_); }
  void Reject(std::string_view line) override { Add(line, rejects_); }
  void Warning(std::string_view) override {}  // cascade_limit lines carry the same news
  bool empty() const { return actions_.empty() && rejects_.empty(); }
  // The views are made only now: the text may have moved while it grew.
  const Batch& Take() {
    batch_.actions.clear();
    batch_.rejects.clear();
    for (auto [from, size] : actions_) batch_.actions.emplace_back(text_.data() + from, size);
    for (auto [from, size] : rejects_) batch_.rejects.emplace_back(text_.data() + from, size);
    return batch_;
  }
  void Clear() {
    text_.clear();
    actions_.clear();
    rejects_.clear();
  }

 private:
  void Add(std::string_view line, std::vector<std::pair<size_t, size_t>>& to) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    to.emplace_back(text_.size(), line.size());
    text_ += line;
  }
  std::string text_;
  std::vector<std::pair<size_t, size_t>> actions_, rejects_;
  Batch batch_;
};

// What an engine counted, by name (state::Tallies), for a commit.
qm::state::Tallies Named(const qm::engine::Stats& stats, const qm::check::Program& p) {
  qm::state::Tallies t;
  for (size_t r = 0; r < stats.fired.size() && r < p.rules.size(); ++r)
    if (stats.fired[r] > 0) t.fired[p.rules[r].name] += stats.fired[r];
  t.actions = stats.actions;
  t.suppressed = stats.suppressed;
  return t;
}

}  // namespace

struct Runner::Impl {
  std::shared_ptr<const RuleSet::Impl> rules;
  qm::Lang lang = qm::Lang::kEn;
  std::unique_ptr<qm::ir::Evaluator> evaluator;
  std::unique_ptr<qm::state::Store> store;
  qm::state::DurableStore* durable = nullptr;  // `store`, when it has a state directory
  std::optional<qm::state::Checkpoint> resumed;  // the state directory's last commit, when opened
  BatchOutput output;
  Deliver deliver;
  qm::run::Files* files = nullptr;  // RunStream's: the engine writes into them, nothing is taken back
  std::unique_ptr<qm::engine::Engine> engine;
  std::vector<std::unique_ptr<qm::state::Store>> shard_stores;  // the shards', without a state directory
  std::unique_ptr<qm::shard::Shards> shards;  // a run split over threads: `engine` stays idle
  int64_t line = 0;
  int64_t ahead_line = 0;  // the last line given to the engine ahead (RunnerAccess::Ahead)
  int tz_minutes = 0;
  int64_t lateness_ms = 0;
  int64_t fired_until = qm::state::kNever;
  int64_t evict_idle_ms = 0;              // 0: never
  int64_t latest = qm::state::kNever;     // the latest event time seen: what idleness is measured from
  std::string position;  // given with the last line fed
  RunOptions options;
  qm::engine::Stats carried;  // what engines replaced by Reload counted
  // What the state directory had tallied when opened, and what engines
  // replaced by Reload counted since: a commit adds the current engine's.
  qm::state::Tallies tallied;
  bool busy = false;     // inside a call: its delivery may not call back
  Stats own;             // the Runner's own counts (customers, deliveries, commits)

  // A run split over threads frees each shard's states on a thread of its
  // own: freeing 100,000 customers takes tens of milliseconds, which one
  // thread would otherwise spend alone at the end of the run.
  ~Impl() {
    shards.reset();  // its threads run on the stores: they stop first
    if (shard_stores.size() < 2) return;
    std::vector<std::jthread> freeing;
    for (std::unique_ptr<qm::state::Store>& s : shard_stores) {
      try {
        freeing.emplace_back([store = std::move(s)]() mutable { store.reset(); });
      } catch (const std::system_error&) {  // no thread to be had: the store is freed here, with the lambda
      }
    }
  }

  // Checks and opens everything, writing nothing until every check passed.
  std::optional<internal::RunnerAccess::Failure> Open(const RuleSet& rule_set, const RunOptions& run_options,
                                                      qm::run::Files* run_files,
                                                      const std::function<void(const qm::Error&)>& on_notice,
                                                      int threads = 1, bool threads_asked = false);
  // Splits the run over `threads` engines when the rules allow it.
  std::optional<qm::Error> Shard(int threads, bool asked, const qm::engine::Options& engine_options,
                                 const std::function<void(const qm::Error&)>& on_notice);

  std::string Message(const qm::Error& e) const { return e.Message(lang); }
  qm::engine::Output& target() { return files != nullptr ? static_cast<qm::engine::Output&>(files->sink()) : output; }

  void Evict() {
    if (evict_idle_ms > 0 && latest != qm::state::kNever) engine->Evict(latest - evict_idle_ms);
  }

  // Runs one call: its lines go to the host in one delivery, and when that
  // fails the engine takes the call back (Engine::Mark/Undo).
  template <class F>
  Status Call(F body) {
    if (busy) return {Message(qm::Error::Of<qm::ErrorKind::kReentrantCall>())};
    if (files != nullptr) {
      body();
      return {};
    }
    busy = true;
    struct Done {
      bool& busy;
      ~Done() { busy = false; }
    } done{busy};
    const int64_t line_before = line;
    engine->Mark();
    output.Clear();
    body();
    if (output.empty() || !deliver) return {};
    std::string why;
    try {
      if (!deliver(output.Take())) why = Message(qm::Error::Of<qm::ErrorKind::kDeliveryRefused>());
    } catch (const std::exception& e) {
      why = e.what();
    } catch (...) {
      why = "an exception";
    }
    output.Clear();
    if (why.empty()) return {};
    engine->Undo();
    line = line_before;
    ++own.failed_deliveries;
    return {Message(qm::Error::Of<qm::ErrorKind::kDeliveryFailed>({why}))};
  }

  // Commits every changed state with `checkpoint`, whose position fields the
  // caller filled in.
  std::optional<qm::Error> Commit(qm::state::Checkpoint checkpoint) {
    if (shards) shards->Drain();  // RunStream drained before syncing the files: nothing is left
    checkpoint.input_lines = line;
    checkpoint.tz_minutes = tz_minutes;
    checkpoint.lateness_ms = lateness_ms;
    checkpoint.high_mark = shards ? shards->high_mark() : engine->high_mark();
    checkpoint.held = shards ? shards->held() : engine->held();
    checkpoint.segments = engine->segments();
    const qm::check::Program& p = rules->compiled.program->ir().checked;
    checkpoint.tallies = tallied;
    checkpoint.tallies.Add(Named(shards ? shards->stats() : engine->stats(), p));
    checkpoint.tallies.tag_descriptions.clear();
    for (const qm::check::TagInfo& t : p.tags) checkpoint.tallies.tag_descriptions.emplace_back(t.name, t.description);
    auto start = std::chrono::steady_clock::now();
    if (std::optional<qm::Error> failed = durable->Commit(checkpoint)) return failed;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ++own.commits;
    own.last_commit_seconds = seconds;
    own.max_commit_seconds = std::max(own.max_commit_seconds, seconds);
    Evict();  // only committed states can leave memory
    return std::nullopt;
  }
};

Runner::Runner() : impl_(std::make_unique<Impl>()) {}
Runner::~Runner() = default;

std::unique_ptr<Runner> Runner::Create(const RuleSet& rules, const RunOptions& options, LineCallback on_action,
                                       LineCallback on_reject, std::string* error) {
  Deliver deliver;
  if (on_action || on_reject)
    deliver = [on_action = std::move(on_action), on_reject = std::move(on_reject)](const Batch& batch) {
      if (on_action)
        for (std::string_view line : batch.actions) on_action(line);
      if (on_reject)
        for (std::string_view line : batch.rejects) on_reject(line);
      return true;
    };
  return Create(rules, options, std::move(deliver), error);
}

std::optional<internal::RunnerAccess::Failure> Runner::Impl::Open(
    const RuleSet& rule_set, const RunOptions& run_options, qm::run::Files* run_files,
    const std::function<void(const qm::Error&)>& on_notice, int threads, bool threads_asked) {
  using qm::Error;
  using qm::ErrorKind;
  using Failure = internal::RunnerAccess::Failure;
  rules = internal::RuleSetAccess::Share(rule_set);
  lang = rules->lang;
  options = run_options;
  files = run_files;
  if (!rule_set.ok()) return Failure{Error::Of<ErrorKind::kRulesHaveErrors>(), {}};
  std::optional<int> tz = qm::ParseOffset(options.tz);
  if (!tz) return Failure{Error::Of<ErrorKind::kBadTz>({options.tz}), {}};
  std::optional<int64_t> lateness = options.lateness.empty() ? 0 : qm::ParseDuration(options.lateness);
  if (!lateness) return Failure{Error::Of<ErrorKind::kBadLateness>({options.lateness}), {}};
  tz_minutes = *tz;
  lateness_ms = *lateness;
  if (!options.evict_idle.empty()) {
    std::optional<int64_t> idle = qm::ParseDuration(options.evict_idle);
    if (!idle || *idle <= 0) return Failure{Error::Of<ErrorKind::kBadEvictIdle>({options.evict_idle}), {}};
    if (options.state_dir.empty()) return Failure{Error::Of<ErrorKind::kEvictNeedsState>(), {}};
    evict_idle_ms = *idle;
  }
  qm::engine::Observer* observer = nullptr;
  if (options.coverage != nullptr) {
    if (options.coverage->impl_->rules != rules) return Failure{Error::Of<ErrorKind::kCoverageOfAnotherRuleSet>(), {}};
    observer = options.coverage->impl_->observer.get();
  }
  const qm::Program& program = *rules->compiled.program;
  std::unique_ptr<qm::state::DurableStore> opened_store;
  if (!options.state_dir.empty()) {
    const std::string& dir = options.state_dir;
    qm::state::DurableStore::OpenResult opened = qm::state::DurableStore::Open(dir, program.ir());
    if (!opened.changes.empty()) {
      size_t n = opened.changes.size();
      return Failure{Error::Of<ErrorKind::kCannotContinueState>({dir, std::to_string(n), n == 1 ? "" : "s"}),
                     std::move(opened.changes)};
    }
    if (!opened.store) return Failure{opened.error.value_or(Error{}), {}};
    if (on_notice)
      for (const Error& notice : opened.notices) on_notice(notice);
    resumed = opened.store->checkpoint();
    if (resumed) tallied = resumed->tallies;
    // A directory is kept by `qm run` (positions in its files) or by a host
    // (positions it gives): neither can continue the other's.
    if (resumed && files != nullptr && resumed->host_position)
      return Failure{Error::Of<ErrorKind::kStateKeptByHost>({dir}), {}};
    if (resumed && files == nullptr && !resumed->host_position)
      return Failure{Error::Of<ErrorKind::kStateKeptByRun>({dir}), {}};
    if (resumed && resumed->tz_minutes != *tz)  // `+08:00`, as --tz takes it
      return Failure{Error::Of<ErrorKind::kTzDiffers>({dir, qm::FormatTime(0, resumed->tz_minutes).substr(19)}), {}};
    if (resumed && resumed->lateness_ms != *lateness)
      return Failure{Error::Of<ErrorKind::kLatenessDiffers>({dir, qm::FormatDuration(resumed->lateness_ms)}), {}};
    if (files != nullptr)
      if (std::optional<Error> refused = files->Continue(resumed)) return Failure{*refused, {}};
    opened_store = std::move(opened.store);
  }
  std::string jit_error;
  evaluator = program.MakeEvaluator(internal::Convert(options.engine), &jit_error);
  if (!evaluator) return Failure{Error::Of<ErrorKind::kJitFailed>({jit_error}), {}};
  // Every check passed: only now is anything written.
  if (opened_store) {
    if (std::optional<Error> failed = opened_store->BeginWriting()) return Failure{*failed, {}};
    durable = opened_store.get();
    store = std::move(opened_store);
  } else {
    store = qm::state::MakeMemoryStore(program.ir());
  }
  if (files != nullptr)
    if (std::optional<Error> failed = files->Begin()) return Failure{*failed, {}};
  const qm::engine::Options engine_options{.tz_minutes = *tz, .lateness_ms = *lateness, .observer = observer};
  engine = std::make_unique<qm::engine::Engine>(program.ir(), *evaluator, *store, target(), engine_options);
  if (resumed) {
    line = resumed->input_lines;
    if (resumed->host_position) position = *resumed->host_position;
    engine->Resume();
    engine->Restore(resumed->held, resumed->high_mark);
    engine->RestoreSegments(resumed->segments);
    if (evict_idle_ms > 0) {
      store->ForEach([&](qm::state::CustomerState& s) { latest = std::max(latest, s.clock); });
      Evict();
    }
  }
  if (threads > 1)
    if (std::optional<Error> failed = Shard(threads, threads_asked, engine_options, on_notice)) return Failure{*failed, {}};
  return std::nullopt;
}

std::optional<qm::Error> Runner::Impl::Shard(int threads, bool asked, const qm::engine::Options& engine_options,
                                             const std::function<void(const qm::Error&)>& on_notice) {
  using qm::Error;
  using qm::ErrorKind;
  const qm::Program& program = *rules->compiled.program;
  if (engine_options.observer != nullptr || files == nullptr) return std::nullopt;
  if (std::optional<Error> why = qm::shard::WhyNotSharded(program.ir(), engine_options)) {
    if (asked && on_notice) on_notice(Error::Of<ErrorKind::kOneThread>({why->Message(lang)}));
    return std::nullopt;
  }
  std::vector<qm::shard::Shards::Part> parts;
  for (int i = 0; i < threads; ++i) {
    std::string jit_error;
    qm::shard::Shards::Part& part = parts.emplace_back();
    part.evaluator = program.MakeEvaluator(internal::Convert(options.engine), &jit_error);
    if (!part.evaluator) return Error::Of<ErrorKind::kJitFailed>({jit_error});
  }
  // A durable run's states stay its store's, split by thread: one commit
  // writes them all.
  std::vector<qm::state::Store*> stores;
  if (durable != nullptr) {
    const size_t n = static_cast<size_t>(threads);
    stores = durable->Split(n, [n](const std::string& id) { return qm::shard::ShardOf(id, n); });
  } else {
    for (int i = 0; i < threads; ++i) stores.push_back(shard_stores.emplace_back(qm::state::MakeMemoryStore(program.ir())).get());
  }
  for (int i = 0; i < threads; ++i) parts[i].store = stores[i];
  qm::shard::Resumed continued{.lines_before = line};
  if (resumed) continued.held = resumed->held, continued.high_mark = resumed->high_mark;
  shards = std::make_unique<qm::shard::Shards>(program.ir(), std::move(parts), target(), engine_options,
                                               std::move(continued));
  return std::nullopt;
}

std::unique_ptr<Runner> Runner::Create(const RuleSet& rules, const RunOptions& options, Deliver deliver,
                                       std::string* error) {
  std::unique_ptr<Runner> runner(new Runner());
  Impl& r = *runner->impl_;
  r.deliver = std::move(deliver);
  std::optional<internal::RunnerAccess::Failure> failed = r.Open(rules, options, nullptr, nullptr);
  if (!failed) return runner;
  if (error != nullptr) {
    *error = r.Message(failed->error);
    for (const qm::Diagnostic& d : failed->changes) *error += "\n" + internal::Convert(d, r.lang).rendered;
  }
  return nullptr;
}

namespace internal {

std::unique_ptr<Runner> RunnerAccess::OpenForRun(const RuleSet& rules, const RunOptions& options,
                                                 qm::run::Files& files, int threads, bool asked,
                                                 const std::function<void(const qm::Error&)>& on_notice,
                                                 Failure& failure) {
  std::unique_ptr<Runner> runner(new Runner());
  std::optional<Failure> failed = runner->impl_->Open(rules, options, &files, on_notice, threads, asked);
  if (!failed) return runner;
  failure = std::move(*failed);
  return nullptr;
}

void RunnerAccess::Drain(Runner& runner) {
  if (runner.impl_->shards) runner.impl_->shards->Drain();
}

const std::optional<qm::state::Checkpoint>& RunnerAccess::Resumed(const Runner& runner) {
  return runner.impl_->resumed;
}

void RunnerAccess::Ahead(Runner& runner, qm::input::LineReader& reader) {
  Runner::Impl& r = *runner.impl_;
  if (r.shards) return;  // the shards decode their batches themselves
  std::string_view next;
  while (r.engine->AheadRoom() > 0 && reader.Peek(next)) {
    r.ahead_line = std::max(r.ahead_line, r.line) + 1;
    r.engine->Ahead(next, r.ahead_line);
  }
}

std::optional<qm::Error> RunnerAccess::Commit(Runner& runner, qm::state::Checkpoint checkpoint) {
  return runner.impl_->Commit(std::move(checkpoint));
}

}  // namespace internal

FeedResult Runner::Feed(std::string_view line, std::string_view position, int64_t line_number) {
  if (line_number > 0) impl_->line = line_number - 1;
  return Feed(line, position);
}

FeedResult Runner::Feed(std::string_view line, std::string_view position) {
  Impl& r = *impl_;
  FeedResult result;
  if (r.shards) {  // its outcome comes a batch later: RunStream does not ask
    r.shards->Feed(line);
    ++r.line;
    result.outcome = FeedResult::Outcome::kHeld;
    return result;
  }
  qm::engine::LineOutcome outcome;
  result.status = r.Call([&] { outcome = r.engine->ProcessLine(line, ++r.line); });
  if (!result.ok()) return result;
  r.position.assign(position);
  r.latest = std::max(r.latest, outcome.ts);
  switch (outcome.kind) {
    case qm::engine::LineOutcome::kAccepted: result.outcome = FeedResult::Outcome::kAccepted; break;
    case qm::engine::LineOutcome::kHeld: result.outcome = FeedResult::Outcome::kHeld; break;
    case qm::engine::LineOutcome::kBlank: result.outcome = FeedResult::Outcome::kBlank; break;
    case qm::engine::LineOutcome::kRejected:
      result.outcome = FeedResult::Outcome::kRejected;
      result.reason = outcome.reason;
      result.field = std::move(outcome.field);
      result.customer = std::move(outcome.customer);
      break;
  }
  return result;
}

Status Runner::EndOfInput() {
  if (impl_->shards) {
    impl_->shards->EndOfInput();
    return {};
  }
  return impl_->Call([&] { impl_->engine->ReleaseAll(); });
}

Status Runner::FireUntil(std::string_view time) {
  Impl& r = *impl_;
  std::optional<int64_t> until = qm::event::ParseTimeArgument(time);
  if (!until) return {r.Message(qm::Error::Of<qm::ErrorKind::kBadTime>({std::string(time)}))};
  if (*until < r.fired_until)
    return {r.Message(qm::Error::Of<qm::ErrorKind::kTimeGoesBack>(
        {qm::FormatTime(*until, r.tz_minutes), qm::FormatTime(r.fired_until, r.tz_minutes)}))};
  Status status = r.Call([&] { r.shards ? r.shards->FireUntil(*until) : r.engine->FireUntil(*until); });
  if (status.ok()) r.fired_until = *until, r.latest = std::max(r.latest, *until);
  return status;
}

Runner::Committed Runner::Commit(std::optional<std::string> position) {
  Impl& r = *impl_;
  Committed result;
  if (r.busy) {
    result.status.error = r.Message(qm::Error::Of<qm::ErrorKind::kReentrantCall>());
    return result;
  }
  if (r.durable == nullptr) {
    result.status.error = r.Message(qm::Error::Of<qm::ErrorKind::kCommitNeedsStateDirectory>());
    return result;
  }
  if (position) r.position = std::move(*position);
  qm::state::Checkpoint checkpoint;
  checkpoint.host_position = r.position;
  if (std::optional<qm::Error> failed = r.Commit(std::move(checkpoint))) {
    result.status.error = r.Message(*failed);
    return result;
  }
  result.position = r.position;
  return result;
}

std::optional<std::string> Runner::committed_position() const {
  if (impl_->durable == nullptr || !impl_->durable->checkpoint()) return std::nullopt;
  return impl_->durable->checkpoint()->host_position;
}

Status Runner::Reload(const RuleSet& rules, std::vector<std::string>* notices) {
  using qm::Error;
  using qm::ErrorKind;
  Impl& r = *impl_;
  if (r.busy) return {r.Message(Error::Of<ErrorKind::kReentrantCall>())};
  auto next = internal::RuleSetAccess::Share(rules);
  if (!rules.ok()) return {r.Message(Error::Of<ErrorKind::kRulesHaveErrors>())};
  if (r.options.coverage != nullptr) return {r.Message(Error::Of<ErrorKind::kCoverageOfAnotherRuleSet>())};
  const qm::Program& now = *next->compiled.program;
  std::string jit_error;
  std::unique_ptr<qm::ir::Evaluator> evaluator = now.MakeEvaluator(internal::Convert(r.options.engine), &jit_error);
  if (!evaluator) return {r.Message(Error::Of<ErrorKind::kJitFailed>({jit_error}))};
  r.engine->WakeAll();  // evicted states are remapped too
  std::string name = r.options.state_dir.empty() ? qm::Bilingual("the Runner's memory", "Runner 的内存") : r.options.state_dir;
  qm::state::Migration m = qm::state::Migrate(*r.store, r.rules->compiled.program->ir(), now.ir(), name);
  if (!m.changes.empty()) {
    size_t n = m.changes.size();
    std::string why = r.Message(Error::Of<ErrorKind::kCannotContinueState>({name, std::to_string(n), n == 1 ? "" : "s"}));
    for (const qm::Diagnostic& d : m.changes) why += "\n" + internal::Convert(d, r.lang).rendered;
    return {why};
  }
  // Every check passed: the states have moved to `m.store`.
  std::vector<qm::state::HeldLine> held = r.engine->held();
  int64_t high_mark = r.engine->high_mark();
  std::vector<qm::state::SegmentStatus> segments = r.engine->segments();
  r.carried.AddCounts(r.engine->stats());
  r.carried.fired.clear();  // by the old rules' positions: kept by name in `tallied`
  r.tallied.Add(Named(r.engine->stats(), r.rules->compiled.program->ir().checked));
  r.engine.reset();
  if (r.durable != nullptr) {
    r.durable->Adopt(std::move(m.store), now.ir());
  } else {
    r.store = std::move(m.store);
  }
  r.evaluator = std::move(evaluator);
  r.rules = std::move(next);
  r.lang = r.rules->lang;
  r.engine = std::make_unique<qm::engine::Engine>(
      now.ir(), *r.evaluator, *r.store, r.target(),
      qm::engine::Options{.tz_minutes = r.tz_minutes, .lateness_ms = r.lateness_ms});
  r.engine->Resume();
  r.engine->Restore(std::move(held), high_mark);
  r.engine->RestoreSegments(segments);
  if (notices != nullptr)
    for (const qm::Error& notice : m.notices) notices->push_back(r.Message(notice));
  return {};
}

bool Runner::Forget(std::string_view customer) {
  Impl& r = *impl_;
  if (r.busy) return false;
  return r.engine->Forget(std::string(customer));
}

Stats Runner::stats() const {
  if (impl_->shards) {
    Stats s = internal::Convert(impl_->shards->stats());
    s.customers = impl_->shards->customers();
    return s;
  }
  qm::engine::Stats counted = impl_->engine->stats();
  counted.AddCounts(impl_->carried);
  Stats s = internal::Convert(counted);
  s.customers = static_cast<int64_t>(impl_->store->size());
  s.customers_evicted = static_cast<int64_t>(impl_->store->evicted());
  s.failed_deliveries = impl_->own.failed_deliveries;
  s.commits = impl_->own.commits;
  s.last_commit_seconds = impl_->own.last_commit_seconds;
  s.max_commit_seconds = impl_->own.max_commit_seconds;
  return s;
}

std::string Runner::SetProfile(std::string_view customer,
                               const std::vector<std::pair<std::string, std::optional<std::string>>>& fields,
                               const std::vector<std::string>& tags) {
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
  qm::state::CustomerState* state = impl_->engine->Find(id);
  if (state == nullptr) state = &impl_->store->Create(id);
  impl_->store->Touch(*state);
  for (const auto& [f, v] : values) state->profile[f] = qm::state::Stored::Of(v);
  for (int32_t t : tag_ids) state->tags.Set(t, true);
  return "";
}

bool Runner::Customer(std::string_view customer, CustomerView& out) const {
  const std::string id(customer);
  const qm::state::CustomerState* state = impl_->engine->Find(id);
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

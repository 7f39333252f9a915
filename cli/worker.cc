// `qm worker`: runs rules over partitions of a NATS JetStream stream that
// `qm publish` fills, each partition with its own durable state, and
// publishes the actions to an output stream; killed at any moment and
// started again, it continues exactly (docs/scale-out.md).
//
// Per partition, a commit makes the state, the last stream sequence run
// and the last output published durable in one write, after the server
// confirmed every output before it; only then is the input acknowledged.
// An output's id is partition:sequence:index, and on start the output
// stream's last id says which outputs of the replayed events are already
// there: they are not sent again.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "broker/broker.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "compiler/value/value.h"

namespace qm::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct WorkerOptions {
  std::vector<std::string> rules;
  std::string nats = "nats://127.0.0.1:4222", stream, out_stream, state, partitions = "all", name;
  qianmian::RunOptions run;
  int batch = 1000;
  int replicas = 1;
  int64_t lease_ms = 30 * 1000;
  int64_t commit_ms = 1000;
  int64_t progress_ms = 10 * 1000;
  int64_t window_ms = 2 * 60 * 1000;
  int64_t patience_ms = 5 * 60 * 1000;
  bool drain = false;
  bool json = false;
};

std::optional<int> ParseWorkerArgs(const std::vector<std::string>& args, WorkerOptions& o, qianmian::Language& lang) {
  lang = LangOfArgs(args, lang);
  Flags flags;
  if (auto usage = SplitFlags(args,
                              {"--nats", "--stream", "--out-stream", "--state", "--partitions", "--name", "--engine",
                               "--tz", "--lateness", "--batch", "--lease", "--commit-interval", "--progress-every",
                               "--replicas", "--dedupe-window", "--patience", "--format", "--lang"},
                              {"--drain"}, "worker", flags))
    return Usage(*usage, lang);
  o.rules = flags.positional;
  o.drain = flags.switches.count("--drain") > 0;
  for (const auto& [flag, v] : flags.values) {
    if (flag == "--nats") o.nats = v;
    else if (flag == "--stream") o.stream = v;
    else if (flag == "--out-stream") o.out_stream = v;
    else if (flag == "--state") o.state = v;
    else if (flag == "--partitions") o.partitions = v;
    else if (flag == "--name") o.name = v;
    else if (flag == "--tz") {
      if (!qianmian::IsValidTz(v)) return Usage(Error::Of<ErrorKind::kBadTz>({v}), lang);
      o.run.tz = v;
    } else if (flag == "--lateness") o.run.lateness = v;
    else if (flag == "--engine") {
      if (v != "interp" && v != "jit") return Usage(Error::Of<ErrorKind::kEngineTakes>(), lang);
      o.run.engine = v == "jit" ? qianmian::Engine::kJit : qianmian::Engine::kInterpreter;
    } else if (flag == "--batch" || flag == "--replicas") {
      std::optional<int64_t> n = WholeNumber(v, 1, flag == "--batch" ? 100000 : 5);
      if (!n) return Usage(Error::Of<ErrorKind::kNeedsPositiveValue>({flag, v}), lang);
      (flag == "--batch" ? o.batch : o.replicas) = static_cast<int>(*n);
    } else if (flag == "--format") {
      if (v != "text" && v != "json") return Usage(Error::Of<ErrorKind::kFormatTakes>(), lang);
      o.json = v == "json";
    } else if (flag == "--lang") {
      std::optional<qianmian::Language> chosen = ParseLang(v);
      if (!chosen) return Usage(Error::Of<ErrorKind::kLangTakes>(), lang);
      lang = *chosen;
    } else {  // durations
      std::optional<int64_t> ms = ParseDuration(v);
      if (!ms || *ms <= 0) return Usage(Error::Of<ErrorKind::kNeedsDuration>({flag, v}), lang);
      if (flag == "--lease") o.lease_ms = *ms;
      else if (flag == "--commit-interval") o.commit_ms = *ms;
      else if (flag == "--progress-every") o.progress_ms = *ms;
      else if (flag == "--dedupe-window") o.window_ms = *ms;
      else o.patience_ms = *ms;
    }
  }
  if (o.rules.empty()) return Usage(Error::Of<ErrorKind::kNeedsRuleFile>({"worker"}), lang);
  for (const auto& [name, value] : {std::pair{"--stream S", &o.stream}, std::pair{"--out-stream O", &o.out_stream},
                                    std::pair{"--state DIR", &o.state}})
    if (value->empty()) return Usage(Error::Of<ErrorKind::kNeedsOption>({"worker", name}), lang);
  for (const std::string* name : {&o.stream, &o.out_stream})
    if (std::optional<Error> bad = broker::CheckStreamName(*name)) return Usage(*bad, lang);
  return std::nullopt;
}

// `0-3,6` or `all`, among `count` partitions; empty when it is neither.
std::vector<int> PartitionList(const std::string& text, int count) {
  std::vector<bool> chosen(static_cast<size_t>(count), false);
  if (text == "all") chosen.assign(chosen.size(), true);
  size_t start = 0;
  while (text != "all" && start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t dash = item.find('-');
    std::optional<int64_t> low = WholeNumber(item.substr(0, dash), 0, count - 1);
    std::optional<int64_t> high = dash == std::string::npos ? low : WholeNumber(item.substr(dash + 1), 0, count - 1);
    if (!low || !high || *low > *high) return {};
    for (int64_t p = *low; p <= *high; ++p) chosen[static_cast<size_t>(p)] = true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  std::vector<int> list;
  for (int p = 0; p < count; ++p)
    if (chosen[static_cast<size_t>(p)]) list.push_back(p);
  return list;
}

// Where an output stands: the input sequence whose step wrote it and its
// index among that step's lines. Outputs are published in this order.
struct Mark {
  uint64_t sequence = 0;
  int64_t index = -1;  // -1 with sequence 0: nothing
  bool operator<=(const Mark& other) const {
    return sequence < other.sequence || (sequence == other.sequence && index <= other.index);
  }
  bool none() const { return sequence == 0; }
  std::string Text() const { return std::to_string(sequence) + ":" + std::to_string(index); }
};

// `SEQ:INDEX` (after `partition:` in an output's id).
std::optional<Mark> ParseMark(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::optional<int64_t> seq = WholeNumber(std::string(text.substr(0, colon)), 0, INT64_MAX);
  std::optional<int64_t> index = WholeNumber(std::string(text.substr(colon + 1)), -1, INT64_MAX);
  if (!seq || !index) return std::nullopt;
  return Mark{static_cast<uint64_t>(*seq), *index};
}

std::atomic<bool> stop_requested{false};
void RequestStop(int) { stop_requested = true; }

// What the main thread reports of a partition; written by its thread.
struct Progress {
  std::mutex mutex;
  uint64_t consumed = 0, committed = 0, lag = 0;
  int64_t events = 0, actions = 0, rejects = 0, already_published = 0, commits = 0;
  std::string state = "starting";  // running, drained, stopped, failed
};

class PartitionRun {
 public:
  PartitionRun(const WorkerOptions& o, const qianmian::RuleSet& rules, int partition, const std::string& owner, Lang l)
      : o_(o), rules_(rules), partition_(partition), owner_(owner), l_(l) {}

  // Runs until stopped, drained (--drain) or failed; the error, if any.
  std::optional<Error> Run() {
    std::optional<Error> failed = Loop();
    if (failed) {
      Set([](Progress& p) { p.state = "failed"; });
    }
    if (lease_ && !failed) lease_->Release();
    // The runner (and its state directory) goes before the connection.
    runner_.reset();
    consumer_.reset();
    publisher_.reset();
    lease_.reset();
    connection_.reset();
    return failed;
  }

  Progress progress;

 private:
  template <typename F>
  void Set(F f) {
    std::lock_guard<std::mutex> lock(progress.mutex);
    f(progress);
  }

  void Say(const Error& e) {
    const Error said = Error::Of<ErrorKind::kPartitionFailed>({std::to_string(partition_), e.Message(l_)});
    std::fprintf(stderr, "qm worker: %s\n", said.Message(l_).c_str());
  }

  std::optional<Error> Loop() {
    Error error;
    broker::Connection::Events events{
        .lost = [this](const std::string& url) { Say(Error::Of<ErrorKind::kNatsLost>({url})); },
        .back = [this](const std::string& url, double away) {
          char seconds[32];
          std::snprintf(seconds, sizeof seconds, "%.1f", away);
          Say(Error::Of<ErrorKind::kNatsBack>({url, seconds}));
        }};
    connection_ = broker::Connection::Open(o_.nats, "qm worker " + owner_ + " #" + std::to_string(partition_), events, error);
    if (!connection_) return error;
    lease_ = broker::Lease::Take(*connection_, o_.stream, partition_, owner_, o_.lease_ms, error);
    if (!lease_) return error;

    qianmian::RunOptions run = o_.run;
    run.state_dir = (std::filesystem::path(o_.state) / ("partition-" + std::to_string(partition_))).string();
    std::error_code ignored;
    std::filesystem::create_directories(o_.state, ignored);
    std::string failure;
    runner_ = qianmian::Runner::Create(
        rules_, run, [this](const qianmian::Batch& batch) { return Deliver(batch); }, &failure);
    if (!runner_) return Error::Of<ErrorKind::kOther>({failure});

    // The committed position: `SEQUENCE OUTPUT-MARK`.
    uint64_t start = 1;
    Mark committed_out;
    if (std::optional<std::string> position = runner_->committed_position()) {
      size_t space = position->find(' ');
      std::optional<int64_t> seq = WholeNumber(position->substr(0, space), 0, INT64_MAX);
      std::optional<Mark> out = space == std::string::npos ? std::nullopt : ParseMark(position->substr(space + 1));
      if (!seq || !out) return Error::Of<ErrorKind::kBadPosition>({*position});
      fed_ = committed_ = static_cast<uint64_t>(*seq);
      start = fed_ + 1;
      committed_out = *out;
    }
    out_stream_ = broker::PartitionStream(o_.out_stream, partition_);
    out_subject_ = broker::PartitionSubject(o_.out_stream, partition_);
    std::string last_id;
    if (std::optional<Error> failed = connection_->LastStoredId(out_stream_, out_subject_, last_id)) return failed;
    const std::string prefix = std::to_string(partition_) + ":";
    if (!last_id.empty()) {
      std::optional<Mark> mark = last_id.starts_with(prefix) ? ParseMark(last_id.substr(prefix.size())) : std::nullopt;
      if (!mark) return Error::Of<ErrorKind::kStreamNotOurs>({out_stream_, last_id});
      stored_ = *mark;
    }
    if (!(committed_out <= stored_))
      return Error::Of<ErrorKind::kOutputLost>({out_stream_, stored_.Text(), committed_out.Text()});
    last_out_ = committed_out;

    publisher_ = std::make_unique<broker::Publisher>(*connection_, 4096, 5000, o_.patience_ms);
    consumer_ = broker::Consumer::Open(*connection_, broker::PartitionStream(o_.stream, partition_), start, error);
    if (!consumer_) return error;
    Set([&](Progress& p) {
      p.state = "running";
      p.consumed = p.committed = fed_;
    });

    Clock::time_point last_commit = Clock::now();
    broker::Consumer::Fetched fetched;
    while (!stop_requested) {
      if (std::optional<Error> lost = lease_->Keep()) return lost;
      if (std::optional<Error> failed = consumer_->Fetch(o_.batch, 500, fetched)) return failed;
      if (fetched.skipped > 0)
        Say(Error::Of<ErrorKind::kMessagesGone>({std::to_string(fetched.skipped),
                                                 std::to_string(fetched.messages.front().sequence),
                                                 broker::PartitionStream(o_.stream, partition_)}));
      int64_t events = 0;
      for (const broker::Consumer::Message& m : fetched.messages) {
        step_ = m.sequence;
        step_index_ = 0;
        if (!m.until.empty()) {
          // A heartbeat: the input so far is whole up to this time (D9's
          // held lines go, then C3's timers), as at the end of `qm run --until`.
          qianmian::Status status = runner_->EndOfInput();
          if (status.ok()) {
            status = runner_->FireUntil(m.until);
            if (!status.ok() && !delivery_error_) {  // a heartbeat before one already fired to: nothing to do
              Say(Error::Of<ErrorKind::kOther>({status.error}));
              status = {};
            }
          }
          if (!status.ok()) return DeliveryFailure(status.error);
        } else {
          qianmian::FeedResult result = runner_->Feed(m.data, std::to_string(m.sequence), m.line);
          if (!result.ok()) return DeliveryFailure(result.status.error);
          ++events;
        }
        fed_ = m.sequence;
      }
      Set([&](Progress& p) {
        p.consumed = fed_;
        p.events += events;
        p.lag = fetched.idle ? 0 : consumer_->pending();
      });
      const bool due = Clock::now() - last_commit >= std::chrono::milliseconds(o_.commit_ms);
      if (fed_ > committed_ && (due || fetched.idle)) {
        if (std::optional<Error> failed = Commit()) return failed;
        last_commit = Clock::now();
      }
      if (fetched.idle && o_.drain) {
        Set([](Progress& p) { p.state = "drained"; });
        return std::nullopt;
      }
    }
    if (std::optional<Error> failed = Commit()) return failed;
    Set([](Progress& p) { p.state = "stopped"; });
    return std::nullopt;
  }

  std::optional<Error> DeliveryFailure(const std::string& status) {
    if (delivery_error_) return delivery_error_;
    return Error::Of<ErrorKind::kOther>({status});
  }

  // Whether the lease is held, waiting while it cannot be renewed (the
  // server away) up to --patience; an error once it is lost.
  std::optional<Error> HoldLease() {
    const Clock::time_point start = Clock::now();
    while (!lease_->Held()) {
      if (std::optional<Error> lost = lease_->Keep()) return lost;
      if (Clock::now() - start >= std::chrono::milliseconds(o_.patience_ms))
        return Error::Of<ErrorKind::kLeaseLost>({owner_});
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return std::nullopt;
  }

  // Every output confirmed, the lease still held: then the state, the
  // sequence and the last output in one write; then the acknowledgement.
  std::optional<Error> Commit() {
    if (fed_ == committed_) return std::nullopt;
    if (std::optional<Error> failed = publisher_->Finish()) return failed;
    if (std::optional<Error> lost = HoldLease()) return lost;
    qianmian::Runner::Committed done = runner_->Commit(std::to_string(fed_) + " " + last_out_.Text());
    if (!done.status.ok()) return Error::Of<ErrorKind::kOther>({done.status.error});
    committed_ = fed_;
    consumer_->AckReturned();
    Set([&](Progress& p) {
      p.committed = committed_;
      ++p.commits;
    });
    return std::nullopt;
  }

  // A step's lines, as outputs `partition:sequence:index`: actions, then
  // rejects, each marked with the header Qm-Kind. Those the output stream
  // already holds (a step run again after a restart) are not sent again.
  bool Deliver(const qianmian::Batch& batch) {
    if (std::optional<Error> lost = HoldLease()) {
      delivery_error_ = lost;
      return false;
    }
    int64_t actions = 0, rejects = 0, already = 0;
    auto send = [&](std::string_view line, const char* kind) {
      Mark mark{step_, step_index_++};
      if (mark <= stored_) {
        ++already;
        last_out_ = mark;
        return true;
      }
      broker::Publisher::Message message;
      message.subject = out_subject_;
      message.id = std::to_string(partition_) + ":" + mark.Text();
      message.headers = {{"Qm-Kind", kind}};
      message.data = line;
      message.line = ++published_;
      if (std::optional<Error> failed = publisher_->Publish(message)) {
        delivery_error_ = failed;
        return false;
      }
      last_out_ = mark;
      return true;
    };
    for (std::string_view line : batch.actions) {
      if (!send(line, "action")) return false;
      ++actions;
    }
    for (std::string_view line : batch.rejects) {
      if (!send(line, "reject")) return false;
      ++rejects;
    }
    Set([&](Progress& p) {
      p.actions += actions;
      p.rejects += rejects;
      p.already_published += already;
    });
    return true;
  }

  const WorkerOptions& o_;
  const qianmian::RuleSet& rules_;
  const int partition_;
  const std::string owner_;
  const Lang l_;
  std::unique_ptr<broker::Connection> connection_;
  std::unique_ptr<broker::Lease> lease_;
  std::unique_ptr<broker::Publisher> publisher_;
  std::unique_ptr<broker::Consumer> consumer_;
  std::unique_ptr<qianmian::Runner> runner_;
  std::string out_stream_, out_subject_;
  uint64_t fed_ = 0, committed_ = 0;
  uint64_t step_ = 0;       // the sequence of the message being run
  int64_t step_index_ = 0;  // its next output's index
  Mark stored_;             // the last output the stream held at start
  Mark last_out_;           // the last output published (or found stored)
  int64_t published_ = 0;
  std::optional<Error> delivery_error_;
};

void Report(const std::vector<std::unique_ptr<PartitionRun>>& runs, const std::vector<int>& partitions, double seconds,
            bool json, Lang l) {
  for (size_t i = 0; i < runs.size(); ++i) {
    Progress& p = runs[i]->progress;
    std::lock_guard<std::mutex> lock(p.mutex);
    const double rate = seconds > 0 ? static_cast<double>(p.events) / seconds : 0;
    if (json) {
      std::fprintf(stderr,
                   "{\"partition\":%d,\"state\":\"%s\",\"consumed\":%" PRIu64 ",\"committed\":%" PRIu64
                   ",\"lag\":%" PRIu64 ",\"events\":%" PRId64 ",\"actions\":%" PRId64 ",\"rejects\":%" PRId64
                   ",\"already_published\":%" PRId64 ",\"commits\":%" PRId64 ",\"events_per_second\":%.0f,\"seconds\":%.1f}\n",
                   partitions[i], p.state.c_str(), p.consumed, p.committed, p.lag, p.events, p.actions, p.rejects,
                   p.already_published, p.commits, rate, seconds);
    } else if (l == Lang::kZh) {
      const std::map<std::string, const char*> kStates = {
          {"starting", "启动中"}, {"running", "运行中"}, {"drained", "已处理完"}, {"stopped", "已停止"}, {"failed", "失败"}};
      std::fprintf(stderr,
                   "qm worker：分区 %d %s：已处理到序号 %" PRIu64 "（积压 %" PRIu64 "），已提交到 %" PRIu64 "；%" PRId64
                   " 个事件（每秒 %.0f），%" PRId64 " 个动作，%" PRId64 " 行拒收\n",
                   partitions[i], kStates.at(p.state), p.consumed, p.lag, p.committed, p.events, rate, p.actions,
                   p.rejects);
    } else {
      std::fprintf(stderr,
                   "qm worker: partition %d %s: through sequence %" PRIu64 " (lag %" PRIu64 "), committed %" PRIu64
                   "; %" PRId64 " events (%.0f/s), %" PRId64 " actions, %" PRId64 " rejects\n",
                   partitions[i], p.state.c_str(), p.consumed, p.lag, p.committed, p.events, rate, p.actions, p.rejects);
    }
  }
}

}  // namespace

int WorkerCommand(const std::vector<std::string>& args, qianmian::Language lang) {
  WorkerOptions o;
  if (std::optional<int> usage = ParseWorkerArgs(args, o, lang)) return *usage;
  const Lang l = LangOf(lang);
  auto fail = [&](const Error& e) {
    std::fprintf(stderr, "qm worker: %s\n", e.Message(l).c_str());
    return kExitErrors;
  };
  qianmian::RuleSet rules = qianmian::RuleSet::FromFiles(o.rules, lang);
  for (const qianmian::Diagnostic& d : rules.diagnostics()) std::fputs(d.rendered.c_str(), stderr);
  if (!rules.ok()) return kExitErrors;
  if (std::string why = rules.WhyNotPartitioned(); !why.empty()) return fail(Error::Of<ErrorKind::kNotPartitioned>({why}));

  Error error;
  std::unique_ptr<broker::Connection> connection = broker::Connection::Open(o.nats, "qm worker", {}, error);
  if (!connection) return fail(error);
  int count = 0;
  if (std::optional<Error> failed = connection->RecordedPartitions(o.stream, count)) return fail(*failed);
  std::vector<int> partitions = PartitionList(o.partitions, count);
  if (partitions.empty())
    return Usage(Error::Of<ErrorKind::kNeedsPartitionList>({o.stream, std::to_string(count), o.partitions}), lang);
  int64_t window_ms = 0;
  if (std::optional<Error> failed = connection->EnsurePartitions(o.out_stream, count, o.replicas, o.window_ms, window_ms))
    return fail(*failed);
  connection.reset();

  // The owner name a lease carries: a worker started again on the same
  // state directory of the same host takes its partitions back at once.
  if (o.name.empty()) {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    std::error_code ignored;
    o.name = std::string(host) + ":" + std::filesystem::absolute(o.state, ignored).lexically_normal().string();
  }
  std::string list;
  for (int p : partitions) list += (list.empty() ? "" : ",") + std::to_string(p);
  if (!o.json) {
    if (l == Lang::kZh)
      std::fprintf(stderr,
                   "qm worker `%s`：运行 `%s` 的分区 %s（共 %d 个），输出到 `%s`；最多每 %s 提交一次，输出流在 %s 内去重%s\n",
                   o.name.c_str(), o.stream.c_str(), list.c_str(), count, o.out_stream.c_str(),
                   FormatDuration(o.commit_ms).c_str(), FormatDuration(window_ms).c_str(),
                   window_ms < 2 * o.commit_ms ? "（窗口短于两个提交间隔：重启后重放的输出仍由输出流的末尾去重）" : "");
    else
      std::fprintf(stderr,
                   "qm worker `%s`: running partitions %s of `%s` (%d in all) into `%s`; commits at most %s apart, "
                   "the output streams drop duplicates within %s%s\n",
                   o.name.c_str(), list.c_str(), o.stream.c_str(), count, o.out_stream.c_str(),
                   FormatDuration(o.commit_ms).c_str(), FormatDuration(window_ms).c_str(),
                   window_ms < 2 * o.commit_ms
                       ? " (shorter than two commit intervals: outputs replayed after a restart are still skipped by the output stream's last id)"
                       : "");
  }

  struct sigaction action {};
  action.sa_handler = RequestStop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  std::vector<std::unique_ptr<PartitionRun>> runs;
  for (int p : partitions) runs.push_back(std::make_unique<PartitionRun>(o, rules, p, o.name, l));
  std::vector<std::optional<Error>> results(runs.size());
  std::mutex done_mutex;
  std::condition_variable done_cv;
  size_t done = 0;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < runs.size(); ++i)
    threads.emplace_back([&, i] {
      results[i] = runs[i]->Run();
      // One partition failing stops the others (cleanly: they commit), so
      // that a supervisor restarts the whole worker.
      if (results[i]) stop_requested = true;
      std::lock_guard<std::mutex> lock(done_mutex);
      ++done;
      done_cv.notify_all();
    });
  const Clock::time_point start = Clock::now();
  Clock::time_point next_report = start + std::chrono::milliseconds(o.progress_ms);
  {
    std::unique_lock<std::mutex> lock(done_mutex);
    while (done < runs.size()) {
      done_cv.wait_until(lock, std::min(next_report, Clock::now() + std::chrono::milliseconds(200)));
      if (Clock::now() >= next_report && done < runs.size()) {
        lock.unlock();
        Report(runs, partitions, std::chrono::duration<double>(Clock::now() - start).count(), o.json, l);
        lock.lock();
        next_report += std::chrono::milliseconds(o.progress_ms);
      }
    }
  }
  for (std::thread& t : threads) t.join();
  Report(runs, partitions, std::chrono::duration<double>(Clock::now() - start).count(), o.json, l);
  int exit = kExitOk;
  for (size_t i = 0; i < runs.size(); ++i)
    if (results[i]) {
      fail(Error::Of<ErrorKind::kPartitionFailed>({std::to_string(partitions[i]), results[i]->Message(l)}));
      exit = kExitErrors;
    }
  return exit;
}

}  // namespace qm::cli

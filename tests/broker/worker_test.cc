// `qm worker` against a real nats-server (docs/scale-out.md): two workers
// over eight partitions, killed at random moments and started again, end
// with each customer's lines exactly those of one `qm run` over the same
// events, none missing, none doubled; the same through a server restart;
// one worker per partition, and a worker that lost its lease commits
// nothing more.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "qianmian/qianmian.hpp"
#include "tests/support/files.h"
#include "tests/support/nats_server.h"
#include "tests/support/qm_process.h"

namespace qm::testing_internal {
namespace {

using namespace std::chrono_literals;

// Every kind of state a customer keeps: a stage, a profile field, tags,
// counts over windows, a `no … for` timer, an `after` action with its
// `unless`, a frequency cap and quiet hours that defer.
const char* kRules =
    "zone +08:00\n"
    "enum 阶段 { 未购, 已购, 沉睡 }\n"
    "event order { amount: money, product: text }\n"
    "event visit { page: text }\n"
    "profile {\n"
    "  stage: 阶段 = 未购\n"
    "  偏好: text\n"
    "}\n"
    "tag 复购客 \"再次下单的客户\"\n"
    "tag 流失风险 \"30 天未下单\"\n"
    "cap push 2 per 7d\n"
    "quiet push 22:00-08:00\n"
    "rule 首购: when order and stage = 未购 then set stage 已购, push \"欢迎-{product}\"\n"
    "rule 偏好: when visit then set 偏好 visit.page\n"
    "rule 复购提醒: when order and product = 面膜 then after 20d push \"复购提醒-{product}\" unless order where product = 面膜\n"
    "rule 复购: when order and count(order) >= 2 then tag 复购客\n"
    "rule 流失: when no order for 30d and stage = 已购 then set stage 沉睡, tag 流失风险, push 召回券\n"
    "rule 回流: when order and has 流失风险 then untag 流失风险, notify 导购 \"客户 {customer} 回流，本单 {amount} 元\"\n"
    "rule 浏览: when visit and count(visit within 3d) >= 3 then push \"推荐-{偏好}\"\n";

const char* kUntil = "2024-09-10T00:00:00+08:00";

// `n` events of `customers` customers over 90 days, in time order, one in a
// thousand with a bad amount (a reject that names its customer).
std::string Events(int n, int customers) {
  std::mt19937 random(7);
  const char* products[] = {"面膜", "洗面奶", "口红"};
  const char* pages[] = {"首页", "面膜", "口红"};
  std::string text;
  for (int i = 0; i < n; ++i) {
    const int64_t ts = 1717171200 + int64_t{i} * 90 * 86400 / n;
    const std::string customer = "c" + std::to_string(random() % customers);
    const uint32_t kind = random() % 1000;
    const std::string head = R"({"customer":")" + customer + R"(","ts":)" + std::to_string(ts);
    if (kind == 0) text += head + R"(,"type":"order","amount":"bad","product":"口红"})" "\n";
    else if (kind < 350)
      text += head + R"(,"type":"order","amount":")" + std::to_string(10 + random() % 490) + "." +
              std::to_string(10 + random() % 90) + R"(","product":")" + products[random() % 3] + "\"}\n";
    else text += head + R"(,"type":"visit","page":")" + pages[random() % 3] + "\"}\n";
  }
  return text;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

std::string CustomerOf(const std::string& line) {
  const std::string key = "\"customer\":\"";
  size_t at = line.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return line.substr(at, line.find('"', at) - at);
}

// A customer's actions, or (with " rejects") their reject lines: a run
// writes the two to two files.
std::string KeyOf(const std::string& line) {
  return CustomerOf(line) + (line.starts_with("{\"line\":") ? " rejects" : "");
}

// Each customer's lines, in order.
using ByCustomer = std::map<std::string, std::vector<std::string>>;

// A `qm worker` running in the background, its standard error in a file.
class Worker {
 public:
  Worker(const std::vector<std::string>& args, std::filesystem::path err) : err_(std::move(err)) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(err_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(fd, 2);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 1);
      std::vector<std::string> all = {QM_BINARY, "worker"};
      all.insert(all.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (std::string& a : all) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~Worker() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // True when it was still running and the signal ended it.
  bool Kill9() {
    bool running = waitpid(pid_, &status_, WNOHANG) == 0;
    if (running) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status_, 0);
    }
    pid_ = -1;
    return running;
  }
  void Signal(int signal) { kill(pid_, signal); }
  // The exit code; -1 when killed or not ended within `limit`.
  int Wait(std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (waitpid(pid_, &status_, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      std::this_thread::sleep_for(20ms);
    }
    pid_ = -1;
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }
  std::string err() const { return Read(err_); }

 private:
  std::filesystem::path err_;
  pid_t pid_ = -1;
  int status_ = 0;
};

class WorkerTest : public ::testing::Test {
 protected:
  static constexpr int kPartitions = 8;

  void SetUp() override {
    dir_ = TempDir("worker_test", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    Write(dir_ / "rules.qm", kRules);
    server_ = std::make_unique<NatsServer>(dir_ / "nats");
  }

  // Publishes the events with a heartbeat at kUntil, and returns what one
  // `qm run --until` (with `run_options`) writes for them, by customer.
  ByCustomer PublishAndRunOnce(const std::string& events, std::vector<std::string> run_options = {}) {
    Write(dir_ / "events.jsonl", events);
    Exit published = RunQm({"publish", (dir_ / "rules.qm").string(), "--events", (dir_ / "events.jsonl").string(),
                            "--nats", server_->url(), "--stream", "EV", "--partitions", std::to_string(kPartitions),
                            "--until", kUntil});
    EXPECT_EQ(published.code, 0) << published.err;
    run_options.insert(run_options.begin(), {"run", (dir_ / "rules.qm").string(), "--events",
                                             (dir_ / "events.jsonl").string(), "--out", (dir_ / "expected.jsonl").string(),
                                             "--rejects", (dir_ / "expected_rejects.jsonl").string(), "--until", kUntil});
    Exit run = RunQm(run_options);
    EXPECT_EQ(run.code, 0) << run.err;
    ByCustomer expected;
    for (const char* file : {"expected.jsonl", "expected_rejects.jsonl"})
      for (const std::string& line : Lines(Read(dir_ / file))) {
        expected[KeyOf(line)].push_back(line);
        ++expected_count_;
      }
    return expected;
  }

  std::vector<std::string> WorkerArgs(const std::string& partitions, const std::string& state,
                                      std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {(dir_ / "rules.qm").string(), "--nats", server_->url(), "--stream", "EV",
                                     "--out-stream", "OUT", "--state", (dir_ / state).string(), "--partitions",
                                     partitions, "--commit-interval", "1s", "--progress-every", "1s"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  // The output streams, by customer: each id once, in id order within its
  // partition, each line in its customer's partition.
  ByCustomer ReadOutput() {
    ByCustomer got;
    for (int p = 0; p < kPartitions; ++p) {
      std::set<std::string> ids;
      for (const StoredMessage& m : ReadStream(server_->url(), "OUT_" + std::to_string(p))) {
        EXPECT_TRUE(ids.insert(m.id).second) << "output " << m.id << " stored twice";
        EXPECT_EQ(m.id.substr(0, m.id.find(':')), std::to_string(p));
        const std::string customer = CustomerOf(m.data);
        EXPECT_EQ(qianmian::PartitionOf(customer, kPartitions), p) << m.data;
        got[KeyOf(m.data)].push_back(m.data);
      }
    }
    return got;
  }

  size_t OutputCount() {
    size_t n = 0;
    for (int p = 0; p < kPartitions; ++p) n += StreamCount(server_->url(), "OUT_" + std::to_string(p));
    return n;
  }

  static void ExpectSameLines(const ByCustomer& got, const ByCustomer& expected) {
    size_t differing = 0;
    for (const auto& [customer, lines] : expected) {
      auto it = got.find(customer);
      if (it == got.end() || it->second != lines) {
        if (++differing <= 3)
          ADD_FAILURE() << "customer " << customer << ": " << (it == got.end() ? 0 : it->second.size())
                        << " lines, expected " << lines.size();
      }
    }
    for (const auto& [customer, lines] : got)
      if (!expected.count(customer)) ADD_FAILURE() << "customer " << customer << " has lines a run does not write";
    EXPECT_EQ(differing, 0u);
  }

  std::filesystem::path dir_;
  std::unique_ptr<NatsServer> server_;
  size_t expected_count_ = 0;
};

// A number from the environment (a longer run by hand), else `fallback`.
int FromEnvironment(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && std::atoi(value) > 0 ? std::atoi(value) : fallback;
}

TEST_F(WorkerTest, TwoWorkersKilledAtRandomAndStartedAgainWriteEachCustomersLinesOnce) {
  // QM_WORKER_EVENTS=1000000 QM_WORKER_KILLS=10 for a longer run.
  const int events = FromEnvironment("QM_WORKER_EVENTS", 200000);
  const int kills_each = FromEnvironment("QM_WORKER_KILLS", 3);
  ByCustomer expected = PublishAndRunOnce(Events(events, events / 10));
  ASSERT_GE(expected.size(), static_cast<size_t>(events / 10 * 95 / 100));
  ASSERT_GE(expected_count_, static_cast<size_t>(events));

  // Each worker is killed at a random moment and started again, three
  // times; then it runs until its partitions are drained. One runs the
  // JIT, the other the interpreter: the same output either way.
  const unsigned seed = static_cast<unsigned>(std::random_device{}());
  std::printf("kill moments from seed %u\n", seed);
  std::atomic<int> kills{0};
  auto run = [&](const std::string& partitions, const std::string& state, unsigned salt, const char* engine) {
    std::mt19937 random(seed + salt);
    const std::filesystem::path err = dir_ / (state + ".err");
    for (int round = 0; round < kills_each; ++round) {
      Worker worker(WorkerArgs(partitions, state, {"--drain", "--engine", engine}), err);
      std::this_thread::sleep_for(std::chrono::milliseconds(100 + random() % 900));
      if (worker.Kill9()) ++kills;
    }
    Worker last(WorkerArgs(partitions, state, {"--drain", "--engine", engine}), err);
    EXPECT_EQ(last.Wait(300s), 0) << last.err();
  };
  std::thread a(run, "0-3", "a", 1, "jit"), b(run, "4-7", "b", 2, "interp");
  a.join();
  b.join();
  std::printf("%d workers killed mid-run\n", kills.load());
  EXPECT_GE(kills.load(), 2 * kills_each - 1) << "workers ended before they were killed: the test proves less than it should";
  ExpectSameLines(ReadOutput(), expected);

  // `qm state` reads a worker's directory as one: its partitions together.
  // Every customer with an accepted event has an action here.
  int64_t with_actions = 0;
  for (const auto& [key, lines] : expected) with_actions += !key.ends_with(" rejects");
  int64_t customers = 0;
  for (const char* state : {"a", "b"}) {
    RunOptions o;
    o.out_path = (dir_ / "stats.json").string();
    Exit stats = RunQm({"state", "stats", (dir_ / state).string(), "--format", "json"}, o);
    ASSERT_EQ(stats.code, 0) << stats.err;
    const std::string json = Read(dir_ / "stats.json");
    customers += std::stoll(json.substr(json.find("\"customers\":") + 12));
  }
  EXPECT_EQ(customers, with_actions);
}

// D9 in a worker: the lines --lateness holds are part of each partition's
// commit, so a worker killed while it holds some continues exactly; the
// heartbeat releases them as the end of one run does.
TEST_F(WorkerTest, LinesHeldForLatenessSurviveAKill) {
  ByCustomer expected = PublishAndRunOnce(Events(60000, 6000), {"--lateness", "6h"});
  {
    Worker worker(WorkerArgs("all", "w", {"--drain", "--lateness", "6h", "--batch", "200"}), dir_ / "w.err");
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (OutputCount() < expected_count_ / 3 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(worker.Kill9()) << "it ended before it was killed";
  }
  Worker again(WorkerArgs("all", "w", {"--drain", "--lateness", "6h"}), dir_ / "w.err");
  ASSERT_EQ(again.Wait(120s), 0) << again.err();
  ExpectSameLines(ReadOutput(), expected);
}

TEST_F(WorkerTest, AServerRestartedMidRunLosesAndDoublesNothing) {
  ByCustomer expected = PublishAndRunOnce(Events(200000, 20000));
  Worker a(WorkerArgs("0-3", "a"), dir_ / "a.err"), b(WorkerArgs("4-7", "b"), dir_ / "b.err");
  // Stopped once a fifth of the outputs are there.
  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (OutputCount() < expected_count_ / 5 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  const size_t before = OutputCount();
  server_->Stop();
  std::this_thread::sleep_for(1500ms);
  server_->Start();
  while (OutputCount() < expected_count_ && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(200ms);
  ASSERT_LT(before, expected_count_) << "the workers finished before the server stopped";
  // SIGTERM: each commits and exits 0.
  a.Signal(SIGTERM);
  b.Signal(SIGTERM);
  EXPECT_EQ(a.Wait(60s), 0) << a.err();
  EXPECT_EQ(b.Wait(60s), 0) << b.err();
  for (const Worker* w : {&a, &b}) {
    EXPECT_NE(w->err().find("lost the NATS server at"), std::string::npos) << w->err();
    EXPECT_NE(w->err().find("reconnected to NATS at"), std::string::npos) << w->err();
  }
  ExpectSameLines(ReadOutput(), expected);
}

TEST_F(WorkerTest, ASecondWorkerOnAnOwnedPartitionIsRefused) {
  PublishAndRunOnce(Events(20000, 2000));
  Worker first(WorkerArgs("0-1", "first"), dir_ / "first.err");
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (first.err().find("partition 1 running") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  Worker second(WorkerArgs("1-2", "second", {"--drain"}), dir_ / "second.err");
  EXPECT_EQ(second.Wait(60s), 1);
  EXPECT_NE(second.err().find("partition 1: the partition is taken by worker `"), std::string::npos) << second.err();
  // The first gives its partitions up when it stops: the second may take them at once.
  first.Signal(SIGTERM);
  EXPECT_EQ(first.Wait(60s), 0) << first.err();
  Worker again(WorkerArgs("1-2", "second", {"--drain"}), dir_ / "again.err");
  EXPECT_EQ(again.Wait(120s), 0) << again.err();
}

// The position a state directory committed, read through the public API.
std::string CommittedPosition(const std::filesystem::path& state) {
  qianmian::RuleSet rules = qianmian::RuleSet::FromText("rules.qm", kRules);
  std::string error;
  auto runner = qianmian::Runner::Create(rules, {.state_dir = state.string()},
                                         [](const qianmian::Batch&) { return true; }, &error);
  if (!runner) return "cannot open: " + error;
  return runner->committed_position().value_or("none");
}

TEST_F(WorkerTest, AWorkerWhoseLeaseRanOutCommitsNothingMore) {
  ByCustomer expected = PublishAndRunOnce(Events(200000, 20000));
  // The old owner is paused mid-run (a long GC pause, a frozen VM) past its lease.
  // It is paused once it has committed and while it still runs.
  Worker old_owner(WorkerArgs("0", "old", {"--lease", "2s", "--batch", "100", "--format", "json"}), dir_ / "old.err");
  auto deadline = std::chrono::steady_clock::now() + 60s;
  auto committed_once = [&] {
    const std::string err = old_owner.err();
    const size_t at = err.rfind("\"state\":\"running\",\"consumed\":");
    return at != std::string::npos && err.find("\"committed\":", at) != std::string::npos &&
           err[err.find("\"committed\":", at) + 12] != '0';
  };
  while (!committed_once() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  old_owner.Signal(SIGSTOP);
  ASSERT_TRUE(committed_once()) << old_owner.err();
  // What it had committed when it stopped: a copy of its directory then.
  const std::filesystem::path at_stop = dir_ / "old_at_stop";
  std::filesystem::copy(dir_ / "old" / "partition-0", at_stop, std::filesystem::copy_options::recursive);
  std::this_thread::sleep_for(2500ms);

  // Another worker takes the partition and runs it all.
  Worker new_owner(WorkerArgs("0", "new", {"--drain"}), dir_ / "new.err");
  EXPECT_EQ(new_owner.Wait(120s), 0) << new_owner.err();

  // The old one wakes: it finds its lease gone, and stops without a commit.
  old_owner.Signal(SIGCONT);
  EXPECT_EQ(old_owner.Wait(60s), 1) << old_owner.err();
  EXPECT_NE(old_owner.err().find("lost its lease on the partition"), std::string::npos) << old_owner.err();
  const std::string committed = CommittedPosition(at_stop);
  EXPECT_NE(committed, "none");
  EXPECT_EQ(CommittedPosition(dir_ / "old" / "partition-0"), committed);

  ByCustomer partition_zero;
  for (const auto& [customer, lines] : expected)
    if (qianmian::PartitionOf(CustomerOf(lines.front()), kPartitions) == 0) partition_zero[customer] = lines;
  ByCustomer got;
  for (const StoredMessage& m : ReadStream(server_->url(), "OUT_0")) got[KeyOf(m.data)].push_back(m.data);
  ExpectSameLines(got, partition_zero);
}

// Messages a worker did not get from `qm publish`: a heartbeat that is not
// a time, one earlier than one already applied, a line number that is not
// a number, a line that is not an event. Each is said and passed over;
// nothing stops the partition.
TEST_F(WorkerTest, MessagesNotFromPublishArePassedOverWithANote) {
  PublishAndRunOnce(R"({"type":"visit","customer":"c1","ts":1717171200,"page":"首页"})" "\n");
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, server_->url().c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
  const std::string subject = "EV." + std::to_string(qianmian::PartitionOf("c1", kPartitions));
  auto send = [&](const char* data, std::vector<std::pair<const char*, const char*>> headers) {
    natsMsg* m = nullptr;
    ASSERT_EQ(natsMsg_Create(&m, subject.c_str(), nullptr, data, static_cast<int>(std::strlen(data))), NATS_OK);
    for (const auto& [key, value] : headers) natsMsgHeader_Set(m, key, value);
    EXPECT_EQ(js_PublishMsg(nullptr, js, m, nullptr, nullptr), NATS_OK);
    natsMsg_Destroy(m);
  };
  send("", {{"Qm-Until", "someday"}});
  send("", {{"Qm-Until", "2024-06-01T00:00:00+08:00"}});  // before kUntil, already applied
  send(R"({"type":"visit","customer":"c1","ts":1725897600,"page":"口红"})", {{"Qm-Line", "twelve"}});
  send("{not json", {{"Qm-Line", "3"}});
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);

  Worker worker(WorkerArgs("all", "w", {"--drain"}), dir_ / "w.err");
  ASSERT_EQ(worker.Wait(120s), 0) << worker.err();
  EXPECT_NE(worker.err().find("not a time: `someday`"), std::string::npos) << worker.err();
  std::vector<std::string> lines;
  for (const StoredMessage& m : ReadStream(server_->url(), "OUT_" + subject.substr(3))) lines.push_back(m.data);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines.back(), R"({"line":3,"reason":"invalid_json"})");
  EXPECT_NE(lines[lines.size() - 2].find(R"("to":"口红")"), std::string::npos) << lines[lines.size() - 2];
}

// A message the stream no longer holds (removed by its limits, or by hand)
// is reported and jumped over; the messages before it in the same fetch
// are run, not dropped. The output is that of one run without its line.
TEST_F(WorkerTest, AMessageRemovedFromTheStreamIsReportedAndTheRestIsRun) {
  const std::string events = Events(3000, 300);
  PublishAndRunOnce(events);
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, server_->url().c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
  natsMsg* removed = nullptr;
  ASSERT_EQ(js_GetMsg(&removed, js, "EV_0", 50, nullptr, nullptr), NATS_OK);
  const char* line = nullptr;
  ASSERT_EQ(natsMsgHeader_Get(removed, "Qm-Line", &line), NATS_OK);
  const size_t removed_line = std::stoul(line);
  natsMsg_Destroy(removed);
  ASSERT_EQ(js_DeleteMsg(js, "EV_0", 50, nullptr, nullptr), NATS_OK);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);

  std::vector<std::string> lines = Lines(events);
  lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(removed_line - 1));
  std::string without;
  for (const std::string& l : lines) without += l + "\n";
  Write(dir_ / "without.jsonl", without);
  Exit run = RunQm({"run", (dir_ / "rules.qm").string(), "--events", (dir_ / "without.jsonl").string(), "--out",
                    (dir_ / "without_out.jsonl").string(), "--rejects", "/dev/null", "--until", kUntil});
  ASSERT_EQ(run.code, 0) << run.err;
  ByCustomer expected;
  for (const std::string& l : Lines(Read(dir_ / "without_out.jsonl"))) expected[KeyOf(l)].push_back(l);

  Worker worker(WorkerArgs("all", "w", {"--drain"}), dir_ / "w.err");
  ASSERT_EQ(worker.Wait(120s), 0) << worker.err();
  EXPECT_NE(worker.err().find("partition 0: 1 message(s) before sequence 51 are no longer in `EV_0`"), std::string::npos)
      << worker.err();
  ByCustomer got = ReadOutput();
  for (auto it = got.begin(); it != got.end();) it = it->first.ends_with(" rejects") ? got.erase(it) : std::next(it);
  ExpectSameLines(got, expected);
}

// Partitions that never held a message are drained at once.
TEST_F(WorkerTest, EmptyPartitionsAreDrained) {
  Write(dir_ / "events.jsonl", R"({"type":"visit","customer":"c1","ts":1717171200,"page":"首页"})" "\n");
  Exit published = RunQm({"publish", (dir_ / "rules.qm").string(), "--events", (dir_ / "events.jsonl").string(),
                          "--nats", server_->url(), "--stream", "EV", "--partitions", std::to_string(kPartitions)});
  ASSERT_EQ(published.code, 0) << published.err;
  Worker worker(WorkerArgs("all", "w", {"--drain"}), dir_ / "w.err");
  ASSERT_EQ(worker.Wait(60s), 0) << worker.err();
  EXPECT_EQ(OutputCount(), 1u);
}

TEST_F(WorkerTest, UsageErrorsExitTwo) {
  PublishAndRunOnce(R"({"type":"visit","customer":"c1","ts":1717171200,"page":"首页"})" "\n");
  const std::string rules = (dir_ / "rules.qm").string();
  Exit e = RunQm({"worker", rules, "--nats", server_->url(), "--out-stream", "OUT", "--state", "s"});
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(e.err.find("worker needs --stream S"), std::string::npos) << e.err;
  e = RunQm({"worker", rules, "--nats", server_->url(), "--stream", "EV", "--out-stream", "OUT", "--state", "s",
             "--lease", "soon"});
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(e.err.find("--lease takes a duration"), std::string::npos) << e.err;
  e = RunQm({"worker", rules, "--nats", server_->url(), "--stream", "EV", "--out-stream", "OUT", "--state", "s",
             "--partitions", "6-9"});
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(e.err.find("--partitions takes partitions of `EV` such as `0-3,6` (it has 8), not `6-9`"), std::string::npos)
      << e.err;
  e = RunQm({"worker", rules, "--nats", server_->url(), "--stream", "NONE", "--out-stream", "OUT", "--state", "s",
             "--lang", "zh"});
  EXPECT_EQ(e.code, 1);
  EXPECT_NE(e.err.find("流 `NONE` 还没有分区"), std::string::npos) << e.err;
}

TEST_F(WorkerTest, RulesThatNeedEveryCustomerTogetherAreRefused) {
  Write(dir_ / "identity.qm",
        "event order { phone: text }\n"
        "identity phone\n"
        "profile { n: int = 0 merge sum }\n"
        "rule r: when order then push x\n");
  Exit e = RunQm({"worker", (dir_ / "identity.qm").string(), "--nats", server_->url(), "--stream", "EV",
                  "--out-stream", "OUT", "--state", (dir_ / "s").string()});
  EXPECT_EQ(e.code, 1);
  EXPECT_NE(e.err.find("these rules cannot be split by customer: identity merges need every customer in one place"),
            std::string::npos)
      << e.err;
}

}  // namespace
}  // namespace qm::testing_internal

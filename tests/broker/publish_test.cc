// `qm publish` against a real nats-server (docs/scale-out.md): each line in
// its customer's partition stream once, in input order; lines naming no
// customer rejected as `qm run` rejects them; publishing again stores
// nothing twice; another partition count refused; a server restarted
// mid-publish loses and doubles nothing.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
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

const char* kRules =
    "event order { amount: money }\n"
    "event visit\n"
    "tag 买家 \"买过的客户\"\n"
    "rule 买了: when order then tag 买家\n";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// `customers` customers' order and visit lines, `n` in all.
std::string Events(int n, int customers) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    const std::string customer = "c" + std::to_string(i * 7919 % customers);
    const std::string ts = std::to_string(1717200000 + i);
    text += i % 3 == 0 ? R"({"type":"order","customer":")" + customer + R"(","ts":)" + ts + R"(,"amount":)" +
                             std::to_string(i % 500) + "}\n"
                       : R"({"type":"visit","customer":")" + customer + R"(","ts":)" + ts + "}\n";
  }
  return text;
}

class PublishTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir("publish_test", ::testing::UnitTest::GetInstance()->current_test_info()->name());
    Write(dir_ / "rules.qm", kRules);
    server_ = std::make_unique<NatsServer>(dir_ / "nats");
  }

  Exit Publish(const std::string& events, const std::string& stream, int partitions,
               std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"publish", (dir_ / "rules.qm").string(), "--events", events, "--nats",
                                     server_->url(), "--stream", stream, "--partitions", std::to_string(partitions),
                                     "--rejects", (dir_ / "rejects.jsonl").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    RunOptions o;
    o.out_path = (dir_ / "summary.json").string();
    return RunQm(args, o);
  }

  // Every partition's messages: each in the partition its customer maps
  // to, in input order; returns the lines they carry, by line number.
  std::map<int64_t, std::string> ReadAll(const std::string& stream, int partitions) {
    qianmian::RuleSet rules = qianmian::RuleSet::FromText("rules.qm", kRules);
    qianmian::Router router(rules);
    std::map<int64_t, std::string> lines;
    for (int p = 0; p < partitions; ++p) {
      int64_t last = 0;
      for (const StoredMessage& m : ReadStream(server_->url(), stream + "_" + std::to_string(p))) {
        EXPECT_EQ(m.subject, stream + "." + std::to_string(p));
        const int64_t line = std::stoll(m.line);
        qianmian::Router::Route route = router.Of(m.data, line);
        EXPECT_EQ(qianmian::PartitionOf(route.customer, partitions), p) << m.data;
        EXPECT_GT(line, last) << "partition " << p << " out of input order";
        last = line;
        EXPECT_EQ(m.id.substr(0, m.id.find('-')), m.line);
        EXPECT_TRUE(lines.emplace(line, m.data).second) << "line " << line << " stored twice";
      }
    }
    return lines;
  }

  fs::path dir_;
  std::unique_ptr<NatsServer> server_;
};

TEST_F(PublishTest, EachLineGoesOnceToItsCustomersPartitionAndUnroutableOnesAreRejectedAsRunRejectsThem) {
  std::string events =
      "\xEF\xBB\xBF" R"({"type":"order","customer":"a","ts":1717200000,"amount":5})" "\r\n"
      R"({"type":"visit","customer":"b","ts":1717200001})" "\n"
      "\n"
      "   \n"
      "{not json\n"
      R"({"type":"visit","ts":1717200002})" "\n"
      R"({"type":"nope","customer":"c","ts":1717200003})" "\n"
      R"({"type":"visit","customer":"","ts":1717200004})" "\n"
      R"({"type":"order","customer":"d","ts":"yesterday","amount":1})" "\n"
      R"({"type":"order","customer":"e","ts":1717200005,"amount":"lots"})" "\n";
  events += Events(2000, 300);
  Write(dir_ / "events.jsonl", events);
  Exit e = Publish((dir_ / "events.jsonl").string(), "EV", 4, {"--format", "json"});
  ASSERT_EQ(e.code, 0) << e.err;

  // Stored: every line naming a customer, those a worker will reject too
  // (`d`'s time, `e`'s amount), trimmed as a run reads them (A40).
  std::map<int64_t, std::string> stored = ReadAll("EV", 4);
  std::vector<std::string> lines = Lines(events);
  EXPECT_EQ(stored.size(), 2004u);
  EXPECT_EQ(stored[1], R"({"type":"order","customer":"a","ts":1717200000,"amount":5})");
  EXPECT_EQ(stored[2], lines[1]);
  EXPECT_EQ(stored[9], lines[8]);
  EXPECT_EQ(stored[10], lines[9]);
  for (size_t i = 10; i < lines.size(); ++i) EXPECT_EQ(stored[static_cast<int64_t>(i) + 1], lines[i]);

  // Not stored: the lines a run rejects without a customer, with the very
  // reject lines `qm run` writes for them.
  Exit run = RunQm({"run", (dir_ / "rules.qm").string(), "--events", (dir_ / "events.jsonl").string(), "--out",
                    "/dev/null", "--rejects", (dir_ / "run_rejects.jsonl").string()});
  ASSERT_EQ(run.code, 0) << run.err;
  std::string without_customer;
  for (const std::string& r : Lines(Read(dir_ / "run_rejects.jsonl")))
    if (r.find("\"customer\":") == std::string::npos) without_customer += r + "\n";
  EXPECT_EQ(Read(dir_ / "rejects.jsonl"), without_customer);
  EXPECT_EQ(Lines(without_customer).size(), 4u);

  std::string summary = Read(dir_ / "summary.json");
  EXPECT_NE(summary.find("\"lines\":2010,\"published\":2004,\"stored\":2004,\"duplicates\":0"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("\"rejects\":4"), std::string::npos) << summary;
}

TEST_F(PublishTest, PublishingAgainStoresNothingTwice) {
  Write(dir_ / "events.jsonl", Events(3000, 500));
  ASSERT_EQ(Publish((dir_ / "events.jsonl").string(), "EV", 3).code, 0);
  Exit again = Publish((dir_ / "events.jsonl").string(), "EV", 3, {"--format", "json"});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_NE(Read(dir_ / "summary.json").find("\"published\":3000,\"stored\":0,\"duplicates\":3000"), std::string::npos)
      << Read(dir_ / "summary.json");
  EXPECT_EQ(ReadAll("EV", 3).size(), 3000u);

  // Two equal lines at two places are two events.
  Write(dir_ / "twice.jsonl", R"({"type":"visit","customer":"z","ts":1717200000})" "\n"
                              R"({"type":"visit","customer":"z","ts":1717200000})" "\n");
  ASSERT_EQ(Publish((dir_ / "twice.jsonl").string(), "TWICE", 2).code, 0);
  EXPECT_EQ(ReadAll("TWICE", 2).size(), 2u);
}

TEST_F(PublishTest, AnotherPartitionCountIsRefused) {
  Write(dir_ / "events.jsonl", Events(100, 50));
  ASSERT_EQ(Publish((dir_ / "events.jsonl").string(), "EV", 4).code, 0);
  Exit e = Publish((dir_ / "events.jsonl").string(), "EV", 8);
  EXPECT_EQ(e.code, 1);
  EXPECT_NE(e.err.find("stream `EV` was first published with 4 partitions, not 8"), std::string::npos) << e.err;
  EXPECT_TRUE(ReadStream(server_->url(), "EV_4").empty());
}

TEST_F(PublishTest, UsageErrorsExitTwo) {
  Write(dir_ / "events.jsonl", Events(10, 5));
  const std::string rules = (dir_ / "rules.qm").string(), events = (dir_ / "events.jsonl").string();
  Exit e = RunQm({"publish", rules, "--events", events, "--stream", "E.V", "--partitions", "2"});
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(e.err.find("--stream `E.V` must be letters, digits"), std::string::npos) << e.err;
  e = RunQm({"publish", rules, "--events", events, "--stream", "EV"});
  EXPECT_EQ(e.code, 2);
  EXPECT_NE(e.err.find("publish needs --partitions N"), std::string::npos) << e.err;
  e = RunQm({"publish", rules, "--events", events, "--stream", "EV", "--partitions", "0"});
  EXPECT_EQ(e.code, 2);
  e = RunQm({"publish", rules, "--events", events, "--stream", "EV", "--partitions", "2", "--lang", "zh"});
  EXPECT_EQ(e.code, 1);  // nothing listens on the default port here
  EXPECT_NE(e.err.find("无法连接到 NATS"), std::string::npos) << e.err;
}

TEST_F(PublishTest, AServerRestartedMidPublishLosesAndDoublesNothing) {
  // The events come through a pipe, half before the server stops and half
  // while it is away, so the publisher is mid-stream when it goes.
  const int n = 200000;
  const std::string events = Events(n, 20000);
  const size_t half = events.find('\n', events.size() / 2) + 1;
  const fs::path fifo = dir_ / "events.fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  Exit published;
  std::thread publish([&] { published = Publish(fifo.string(), "EV", 8); });
  std::atomic<bool> half_written{false};
  std::thread writer([&] {
    // Close-on-exec: the server started meanwhile must not hold it open.
    int fd = open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
    auto write_all = [&](const char* p, size_t n) {
      for (ssize_t w; n > 0; p += w, n -= static_cast<size_t>(w))
        if ((w = write(fd, p, n)) <= 0) return;
    };
    write_all(events.data(), half);
    half_written = true;
    write_all(events.data() + half, events.size() - half);
    close(fd);
  });
  while (!half_written) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  server_->Stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  server_->Start();
  writer.join();
  publish.join();
  ASSERT_EQ(published.code, 0) << published.err;
  EXPECT_NE(published.err.find("lost the NATS server"), std::string::npos) << published.err;
  EXPECT_NE(published.err.find("reconnected to NATS"), std::string::npos) << published.err;
  std::map<int64_t, std::string> stored = ReadAll("EV", 8);
  EXPECT_EQ(stored.size(), static_cast<size_t>(n));
  std::vector<std::string> lines = Lines(events);
  for (int i = 0; i < n; i += 997) EXPECT_EQ(stored[i + 1], lines[static_cast<size_t>(i)]);
}

}  // namespace
}  // namespace qm::testing_internal

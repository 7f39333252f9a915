// A real NATS server for tests (Debian's nats-server, with JetStream): on
// 127.0.0.1, a free port, its store in a test's directory; stopped with
// the test, or stopped and started again on the same store mid-test. And a
// reader of what a stream holds, through the C client the broker uses.
#ifndef QM_TESTS_SUPPORT_NATS_SERVER_H_
#define QM_TESTS_SUPPORT_NATS_SERVER_H_

#include <arpa/inet.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/close_range.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace qm::testing_internal {

class NatsServer {
 public:
  // Starts a server storing in `dir`; throws when it does not listen within
  // 10 seconds (nats-server missing: `scripts/setup.sh` installs it).
  explicit NatsServer(std::filesystem::path dir) : dir_(std::move(dir)), port_(FreePort()) { Start(); }
  ~NatsServer() { Stop(); }

  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

  // SIGTERM, as a service manager stops it: it writes its store and ends.
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  void Start() {
    std::filesystem::create_directories(dir_);
    const std::string log = (dir_ / "server.log").string();
    pid_ = fork();
    if (pid_ == 0) {
      // Nothing of the test's (a pipe's write end would keep its reader waiting).
      close_range(3, ~0U, 0);
      const std::string port = std::to_string(port_), store = (dir_ / "store").string();
      execlp("nats-server", "nats-server", "-js", "-a", "127.0.0.1", "-p", port.c_str(), "-sd", store.c_str(),
             "-l", log.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!Listening()) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error("nats-server did not start (is it installed? scripts/setup.sh installs it); see " + log);
      }
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("nats-server did not listen within 10 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

 private:
  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t n = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    close(fd);
    return ntohs(a.sin_port);
  }
  bool Listening() const {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    close(fd);
    return ok;
  }

  std::filesystem::path dir_;
  int port_;
  pid_t pid_ = -1;
};

// One message of a stream, as stored.
struct StoredMessage {
  std::string subject, data, id, line;  // id: Nats-Msg-Id; line: Qm-Line
};

// How many messages stream `stream` holds; 0 when there is no such stream.
inline uint64_t StreamCount(const std::string& url, const std::string& stream) {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  if (natsConnection_ConnectTo(&nc, url.c_str()) != NATS_OK) return 0;
  natsConnection_JetStream(&js, nc, nullptr);
  uint64_t count = 0;
  jsStreamInfo* info = nullptr;
  if (js_GetStreamInfo(&info, js, stream.c_str(), nullptr, nullptr) == NATS_OK) {
    count = info->State.Msgs;
    jsStreamInfo_Destroy(info);
  }
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return count;
}

// Every message of stream `stream` on the server at `url`, in order
// (a pull consumer made and removed for the reading). Empty if there is no
// such stream.
inline std::vector<StoredMessage> ReadStream(const std::string& url, const std::string& stream) {
  std::vector<StoredMessage> out;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  if (natsConnection_ConnectTo(&nc, url.c_str()) != NATS_OK) throw std::runtime_error("cannot connect to " + url);
  natsConnection_JetStream(&js, nc, nullptr);
  jsStreamInfo* info = nullptr;
  if (js_GetStreamInfo(&info, js, stream.c_str(), nullptr, nullptr) == NATS_OK) {
    const uint64_t count = info->State.Msgs;
    const std::string subject = info->Config->Subjects[0];
    jsStreamInfo_Destroy(info);
    natsSubscription* sub = nullptr;
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Stream = stream.c_str();
    const std::string durable = "test-reader";
    if (js_PullSubscribe(&sub, js, subject.c_str(), durable.c_str(), nullptr, &options, nullptr) != NATS_OK)
      throw std::runtime_error("cannot read stream " + stream);
    while (out.size() < count) {
      natsMsgList list{};
      if (natsSubscription_Fetch(&list, sub, 1000, 5000, nullptr) != NATS_OK) break;
      for (int i = 0; i < list.Count; ++i) {
        natsMsg* m = list.Msgs[i];
        StoredMessage s;
        s.subject = natsMsg_GetSubject(m);
        s.data.assign(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
        const char* v = nullptr;
        if (natsMsgHeader_Get(m, "Nats-Msg-Id", &v) == NATS_OK) s.id = v;
        if (natsMsgHeader_Get(m, "Qm-Line", &v) == NATS_OK) s.line = v;
        natsMsg_Ack(m, nullptr);
        out.push_back(std::move(s));
      }
      natsMsgList_Destroy(&list);
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    js_DeleteConsumer(js, stream.c_str(), durable.c_str(), nullptr, nullptr);
  }
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return out;
}

}  // namespace qm::testing_internal

#endif  // QM_TESTS_SUPPORT_NATS_SERVER_H_

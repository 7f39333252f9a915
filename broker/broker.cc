#include "broker/broker.h"

#include <nats/nats.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace qm::broker {
namespace {

using Clock = std::chrono::steady_clock;

std::string Text(natsStatus status) {
  std::string text = natsStatus_GetText(status);
  // The library's own account of the last failure on this thread, when it
  // says more than the status ("timeout" alone names no cause).
  if (const char* detail = nats_GetLastError(nullptr); detail != nullptr && *detail != '\0' && text != detail)
    text += " (" + std::string(detail) + ")";
  return text;
}

std::string Text(natsStatus status, jsErrCode code) {
  std::string text = Text(status);
  if (code != 0) text += " [JetStream error " + std::to_string(static_cast<int>(code)) + "]";
  return text;
}


std::string ConnectedUrl(natsConnection* nc) {
  char url[512] = {0};
  if (natsConnection_GetConnectedUrl(nc, url, sizeof url) != NATS_OK || url[0] == '\0') return "?";
  return url;
}

std::string KeyValueBucket(std::string_view stream) { return "qm-" + std::string(stream); }

}  // namespace

std::optional<Error> CheckStreamName(std::string_view stream) {
  bool ok = !stream.empty() && stream.size() <= 200;
  for (char c : stream)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_');
  if (ok) return std::nullopt;
  return Error::Of<ErrorKind::kBadStreamName>({std::string(stream)});
}

std::string PartitionStream(std::string_view stream, int partition) {
  return std::string(stream) + "_" + std::to_string(partition);
}

std::string PartitionSubject(std::string_view stream, int partition) {
  return std::string(stream) + "." + std::to_string(partition);
}

struct Connection::Impl {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  Events events;
  std::atomic<int64_t> lost_at{0};  // steady-clock nanoseconds of the last loss
  std::atomic<bool> closing{false};  // our own close is no loss to report
  std::mutex url_mutex;
  std::string url;  // the server last connected to

  // The publisher's handler of confirmations, set while one exists; the
  // mutex keeps it from going while the library's thread calls it.
  std::mutex ack_mutex;
  std::function<void(natsMsg*, jsPubAck*, jsPubAckErr*)> on_ack;
  std::function<void()> on_lost;
  jsOptions js_options;

  // The library's limit of unconfirmed asynchronous messages: past it, a
  // publish waits up to 200 ms for room, then says NATS_TIMEOUT.
  void SetMaxPending(int max_pending) {
    jsCtx_Destroy(js);
    js = nullptr;
    js_options.PublishAsync.MaxPending = max_pending;
    natsConnection_JetStream(&js, nc, &js_options);
  }

  // The library calls back on a thread of its own, also after Close
  // returns; the closed callback comes last, so this waits for it before
  // the memory the callbacks use goes.
  std::mutex closed_mutex;
  std::condition_variable closed_cv;
  bool closed = false;

  ~Impl() {
    if (js != nullptr) jsCtx_Destroy(js);
    if (nc != nullptr) {
      closing = true;
      natsConnection_Close(nc);
      std::unique_lock<std::mutex> lock(closed_mutex);
      closed_cv.wait_for(lock, std::chrono::seconds(10), [&] { return closed; });
      lock.unlock();
      natsConnection_Destroy(nc);
    }
  }

  static void Closed(natsConnection*, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    std::lock_guard<std::mutex> lock(self->closed_mutex);
    self->closed = true;
    self->closed_cv.notify_all();
  }

  static void Lost(natsConnection* nc, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    if (self->closing) return;
    self->lost_at = Clock::now().time_since_epoch().count();
    {
      std::lock_guard<std::mutex> lock(self->ack_mutex);
      if (self->on_lost) self->on_lost();
    }
    std::string url;
    {
      std::lock_guard<std::mutex> lock(self->url_mutex);
      url = self->url;
    }
    if (self->events.lost) self->events.lost(url);
  }
  static void Back(natsConnection* nc, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    double away = std::chrono::duration<double>(Clock::now().time_since_epoch() -
                                                Clock::duration(self->lost_at.load())).count();
    std::string url = ConnectedUrl(nc);
    {
      std::lock_guard<std::mutex> lock(self->url_mutex);
      self->url = url;
    }
    if (self->events.back) self->events.back(url, away);
  }
  // Waits between reconnection attempts: 100 ms doubling to 5 s, with up to
  // a fifth more at random so that a fleet does not come back in step.
  static int64_t ReconnectDelay(natsConnection*, int attempts, void*) {
    int64_t wait = std::min<int64_t>(5000, int64_t{100} << std::min(attempts, 6));
    return wait + static_cast<int64_t>(Clock::now().time_since_epoch().count() % (wait / 5 + 1));
  }
  static void Acked(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    std::lock_guard<std::mutex> lock(self->ack_mutex);
    if (self->on_ack) self->on_ack(msg, ack, error);
    else natsMsg_Destroy(msg);
  }
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

std::unique_ptr<Connection> Connection::Open(const std::string& urls, const std::string& name, Events events,
                                             Error& error) {
  auto impl = std::make_unique<Impl>();
  impl->events = std::move(events);
  natsOptions* options = nullptr;
  natsStatus s = natsOptions_Create(&options);
  if (s == NATS_OK) s = natsOptions_SetURL(options, urls.c_str());
  if (s == NATS_OK) s = natsOptions_SetName(options, name.c_str());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(options, -1);  // for ever: the caller decides when to give up
  if (s == NATS_OK) s = natsOptions_SetCustomReconnectDelay(options, &Impl::ReconnectDelay, nullptr);
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(options, &Impl::Lost, impl.get());
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(options, &Impl::Back, impl.get());
  if (s == NATS_OK) s = natsOptions_SetClosedCB(options, &Impl::Closed, impl.get());
  // Nothing published while the server is away waits to go out by itself
  // on reconnection, ahead of what must be sent again first (Publisher).
  if (s == NATS_OK) s = natsOptions_SetReconnectBufSize(options, 1);
  if (s == NATS_OK) s = natsConnection_Connect(&impl->nc, options);
  if (s != NATS_OK) {
    error = Error::Of<ErrorKind::kNatsCannotConnect>({urls, Text(s)});
    natsOptions_Destroy(options);
    return nullptr;
  }
  natsOptions_Destroy(options);
  impl->url = ConnectedUrl(impl->nc);
  jsOptions& js_options = impl->js_options;
  jsOptions_Init(&js_options);
  js_options.PublishAsync.AckHandler = &Impl::Acked;
  js_options.PublishAsync.AckHandlerClosure = impl.get();
  if (s = natsConnection_JetStream(&impl->js, impl->nc, &js_options); s != NATS_OK) {
    error = Error::Of<ErrorKind::kNatsNoJetStream>({urls, Text(s)});
    return nullptr;
  }
  return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

std::optional<Error> Connection::EnsurePartitions(const std::string& stream, int partitions, int replicas,
                                                  int64_t duplicate_window_ms, int64_t& window_ms) {
  if (std::optional<Error> bad = CheckStreamName(stream)) return bad;
  jsCtx* js = impl_->js;
  jsErrCode code = static_cast<jsErrCode>(0);
  // The count first: two publishers starting at once agree on one.
  kvStore* kv = nullptr;
  kvConfig config;
  kvConfig_Init(&config);
  const std::string bucket = KeyValueBucket(stream);
  config.Bucket = bucket.c_str();
  config.History = 1;
  config.Replicas = replicas;
  natsStatus s = js_CreateKeyValue(&kv, js, &config);
  if (s != NATS_OK) s = js_KeyValue(&kv, js, bucket.c_str());  // it exists
  if (s != NATS_OK) return Error::Of<ErrorKind::kNatsBucket>({bucket, Text(s)});
  const std::string count = std::to_string(partitions);
  uint64_t revision = 0;
  s = kvStore_CreateString(&revision, kv, "partitions", count.c_str());
  if (s != NATS_OK) {
    kvEntry* entry = nullptr;
    s = kvStore_Get(&entry, kv, "partitions");
    std::string recorded = s == NATS_OK ? std::string(kvEntry_ValueString(entry)) : "";
    kvEntry_Destroy(entry);
    kvStore_Destroy(kv);
    if (s != NATS_OK) return Error::Of<ErrorKind::kNatsBucket>({bucket, Text(s)});
    if (recorded != count) return Error::Of<ErrorKind::kPartitionsDiffer>({stream, recorded, count});
  } else {
    kvStore_Destroy(kv);
  }

  window_ms = duplicate_window_ms;
  for (int p = 0; p < partitions; ++p) {
    const std::string name = PartitionStream(stream, p), subject = PartitionSubject(stream, p);
    const char* subjects[] = {subject.c_str()};
    jsStreamConfig c;
    jsStreamConfig_Init(&c);
    c.Name = name.c_str();
    c.Subjects = subjects;
    c.SubjectsLen = 1;
    c.Storage = js_FileStorage;
    c.Replicas = replicas;
    c.Duplicates = duplicate_window_ms * 1000000;  // nanoseconds
    jsStreamInfo* info = nullptr;
    s = js_AddStream(&info, js, &c, nullptr, &code);
    if (s != NATS_OK && code == JSStreamNameExistErr) {  // there, with other settings: kept if it is this partition
      s = js_GetStreamInfo(&info, js, name.c_str(), nullptr, &code);
      if (s != NATS_OK) return Error::Of<ErrorKind::kNatsStream>({name, Text(s, code)});
      const jsStreamConfig& have = *info->Config;
      std::string listed;
      for (int i = 0; i < have.SubjectsLen; ++i) listed += (i ? ", `" : "`") + std::string(have.Subjects[i]) + "`";
      bool same = have.SubjectsLen == 1 && subject == have.Subjects[0];
      window_ms = std::min(window_ms, have.Duplicates / 1000000);
      jsStreamInfo_Destroy(info);
      if (!same) return Error::Of<ErrorKind::kStreamTaken>({name, listed, subject, stream});
      continue;
    }
    if (s != NATS_OK) return Error::Of<ErrorKind::kNatsStream>({name, Text(s, code)});
    window_ms = std::min(window_ms, info->Config->Duplicates / 1000000);
    jsStreamInfo_Destroy(info);
  }
  return std::nullopt;
}

// Order: a partition's messages must be stored in input order (a worker
// runs each customer's events in the order stored). Each message names the
// id of the one before it in its stream (Nats-Expected-Last-Msg-Id), so the
// server refuses to store it after a gap: a message that found no stream
// (a server starting or stopping says "no responders") cannot be overtaken
// by the next. What is unconfirmed after a failure is sent again in input
// order, before anything new: while the connection is down nothing is
// buffered to go out by itself when it is back (a one-byte reconnect
// buffer), and after any failure new messages wait for the recovery.
struct Publisher::Impl {
  Connection::Impl& connection;
  int64_t ack_wait_ms, patience_ms;

  std::mutex mutex;
  std::deque<natsMsg*> failed;        // owned: not confirmed in time, or not sent
  bool recover = false;               // a failure since the last recovery
  std::optional<Error> refused;       // the first refusal
  Counts counts;
  std::unordered_map<std::string, std::string> last_id;  // per subject: the id of the last message published
  // Per input line: times the server said the message before it is not the
  // stream's last. Past a few rounds of sending again, someone else writes
  // the stream.
  static constexpr int kOutOfOrderTries = 20;
  std::unordered_map<int64_t, int> out_of_order;
  Clock::time_point last_progress = Clock::now();
  bool sent_any = false;

  Impl(Connection::Impl& connection, int64_t ack_wait_ms, int64_t patience_ms)
      : connection(connection), ack_wait_ms(ack_wait_ms), patience_ms(patience_ms) {
    std::lock_guard<std::mutex> lock(connection.ack_mutex);
    connection.on_ack = [this](natsMsg* msg, jsPubAck* ack, jsPubAckErr* error) { OnAck(msg, ack, error); };
    connection.on_lost = [this] {
      std::lock_guard<std::mutex> lock(mutex);
      recover = true;
    };
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(connection.ack_mutex);
      connection.on_ack = nullptr;
      connection.on_lost = nullptr;
    }
    std::vector<natsMsg*> left(failed.begin(), failed.end());
    TakePending(left);
    for (natsMsg* m : left) natsMsg_Destroy(m);
  }

  // Takes back from the library every message it still waits to have
  // confirmed (a confirmation arriving later is dropped).
  void TakePending(std::vector<natsMsg*>& into) {
    // libnats 3.4 crashes asked for the list before any asynchronous publish.
    if (!sent_any) return;
    natsMsgList pending;
    if (js_PublishAsyncGetPendingList(&pending, connection.js) != NATS_OK) return;
    for (int i = 0; i < pending.Count; ++i) {
      into.push_back(pending.Msgs[i]);
      pending.Msgs[i] = nullptr;
    }
    natsMsgList_Destroy(&pending);
  }

  static int64_t LineOf(natsMsg* m) {
    const char* line = nullptr;
    return natsMsgHeader_Get(m, "Qm-Line", &line) == NATS_OK ? std::strtoll(line, nullptr, 10) : 0;
  }

  // On the library's thread.
  void OnAck(natsMsg* msg, jsPubAck* ack, jsPubAckErr* error) {
    std::lock_guard<std::mutex> lock(mutex);
    if (ack != nullptr) {
      ++(ack->Duplicate ? counts.duplicates : counts.stored);
      last_progress = Clock::now();
      natsMsg_Destroy(msg);
    } else if (error != nullptr && error->ErrCode == JSStreamWrongLastMsgIDErr) {
      // The message before it in its stream is not stored (yet): it is sent
      // again, this one after it. A stream whose last message is older than
      // the duplicate window, after the server restarted, has forgotten its
      // id ("wrong last msg ID: "): then nothing of ours is stored after it,
      // and the message goes without the expectation.
      const std::string text = error->ErrText != nullptr ? error->ErrText : "";
      if (text.ends_with(": ")) natsMsgHeader_Delete(msg, "Nats-Expected-Last-Msg-Id");
      if (++out_of_order[LineOf(msg)] > kOutOfOrderTries) {
        if (!refused) refused = Error::Of<ErrorKind::kStreamNotOurs>({natsMsg_GetSubject(msg), text});
        natsMsg_Destroy(msg);
      } else {
        failed.push_back(msg);
        recover = true;
      }
    } else if (error != nullptr && error->ErrCode != 0) {  // the stream said no: sending again would not help
      if (!refused)
        refused = Error::Of<ErrorKind::kPublishRefused>(
            {std::to_string(LineOf(msg)), std::string(error->ErrText != nullptr ? error->ErrText : "") +
                                              " [JetStream error " + std::to_string(static_cast<int>(error->ErrCode)) + "]"});
      natsMsg_Destroy(msg);
    } else {  // no answer in time, or the connection went: ours to send again
      failed.push_back(msg);
      recover = true;
    }
  }

  bool Connected() const { return natsConnection_Status(connection.nc) == NATS_CONN_STATUS_CONNECTED; }

  // Sends `msg` (the library takes it). NATS_OK, or why it cannot be sent:
  // then `msg` is still ours.
  natsStatus Send(natsMsg*& msg) {
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = ack_wait_ms;
    sent_any = true;
    return js_PublishMsgAsync(connection.js, &msg, &options);
  }

  // Whether a failure is one that passes: the connection is away, or the
  // library's limit of unconfirmed messages was reached.
  // Whatever the status, a failure while the connection is not up (a
  // socket that broke mid-send says NATS_IO_ERROR) passes with it.
  bool Passes(natsStatus s) const {
    return s == NATS_TIMEOUT || s == NATS_INSUFFICIENT_BUFFER || s == NATS_CONNECTION_CLOSED ||
           s == NATS_NOT_YET_CONNECTED || s == NATS_CONNECTION_DISCONNECTED || s == NATS_STALE_CONNECTION ||
           s == NATS_IO_ERROR || !Connected();
  }

  // After a failure: once connected, everything unconfirmed (what the
  // library still waits for, and what failed) is sent again in input order.
  std::optional<Error> Recover() {
    for (;;) {
      while (!Connected()) {
        if (OutOfPatience()) return GiveUp();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      std::vector<natsMsg*> again;
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (!recover) return std::nullopt;
        recover = false;
        again.assign(failed.begin(), failed.end());
        failed.clear();
      }
      TakePending(again);
      std::stable_sort(again.begin(), again.end(), [](natsMsg* a, natsMsg* b) { return LineOf(a) < LineOf(b); });
      size_t k = 0;
      for (; k < again.size(); ++k) {
        natsStatus s = Send(again[k]);
        if (s == NATS_OK) {
          std::lock_guard<std::mutex> lock(mutex);
          ++counts.resent;
          continue;
        }
        if (!Passes(s)) {
          Error error = Error::Of<ErrorKind::kNatsSend>({std::to_string(LineOf(again[k])), Text(s)});
          for (size_t r = k; r < again.size(); ++r) natsMsg_Destroy(again[r]);
          return error;
        }
        break;  // gone again: the rest waits for the next round
      }
      if (k == again.size()) continue;
      {
        std::lock_guard<std::mutex> lock(mutex);
        failed.insert(failed.begin(), again.begin() + static_cast<std::ptrdiff_t>(k), again.end());
        recover = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  bool OutOfPatience() {
    std::lock_guard<std::mutex> lock(mutex);
    return Clock::now() - last_progress >= std::chrono::milliseconds(patience_ms);
  }

  // Nothing was confirmed for `patience_ms`: what the library still waits
  // for and what failed are dropped, and counted in the error.
  Error GiveUp() {
    std::vector<natsMsg*> left;
    TakePending(left);
    std::lock_guard<std::mutex> lock(mutex);
    left.insert(left.end(), failed.begin(), failed.end());
    failed.clear();
    recover = false;
    int64_t first = INT64_MAX;
    for (natsMsg* m : left) {
      first = std::min(first, LineOf(m));
      natsMsg_Destroy(m);
    }
    return Error::Of<ErrorKind::kPublishUnconfirmed>({std::to_string(left.size()), left.size() == 1 ? " was" : "s were",
                                                      std::to_string(patience_ms / 1000),
                                                      left.empty() ? "?" : std::to_string(first)});
  }

  // Sends a new message after any recovery it must wait for.
  std::optional<Error> SendNew(natsMsg*& msg) {
    for (;;) {
      if (std::optional<Error> failed_again = Recover()) return failed_again;
      natsStatus s = Send(msg);
      if (s == NATS_OK) return std::nullopt;
      if (!Passes(s)) return Error::Of<ErrorKind::kNatsSend>({std::to_string(LineOf(msg)), Text(s)});
      if (OutOfPatience()) return GiveUp();
      if (s != NATS_TIMEOUT) {  // not the limit of unconfirmed messages: the connection
        std::lock_guard<std::mutex> lock(mutex);
        recover = true;
      }
    }
  }
};

Publisher::Publisher(Connection& connection, int max_pending, int64_t ack_wait_ms, int64_t patience_ms)
    : impl_(std::make_unique<Impl>(*connection.impl_, ack_wait_ms, patience_ms)) {
  connection.impl_->SetMaxPending(max_pending);
}
Publisher::~Publisher() = default;

std::optional<Error> Publisher::Publish(const Message& message) {
  Impl& p = *impl_;
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, message.subject.c_str(), nullptr, message.data.data(),
                                static_cast<int>(message.data.size()));
  // The id is a header of the message itself, so that it goes with every
  // sending of it.
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Nats-Msg-Id", message.id.c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, "Qm-Line", std::to_string(message.line).c_str());
  std::string& last = p.last_id[message.subject];  // only this thread publishes
  if (s == NATS_OK && !last.empty()) s = natsMsgHeader_Set(msg, "Nats-Expected-Last-Msg-Id", last.c_str());
  last = message.id;
  for (const auto& [key, value] : message.headers)
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, key.c_str(), value.c_str());
  std::optional<Error> failed =
      s == NATS_OK ? p.SendNew(msg) : Error::Of<ErrorKind::kNatsSend>({std::to_string(message.line), Text(s)});
  natsMsg_Destroy(msg);  // no-op once the library took it
  if (failed) return failed;
  std::lock_guard<std::mutex> lock(p.mutex);
  return p.refused;
}

std::optional<Error> Publisher::Finish() {
  Impl& p = *impl_;
  for (;;) {
    if (std::optional<Error> failed = p.Recover()) return failed;
    if (!p.sent_any) return std::nullopt;
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = 200;
    natsStatus s = js_PublishAsyncComplete(p.connection.js, &options);
    {
      std::lock_guard<std::mutex> lock(p.mutex);
      if (s == NATS_OK && !p.recover && p.failed.empty()) return p.refused;
    }
    if (p.OutOfPatience()) return p.GiveUp();
  }
}

Publisher::Counts Publisher::counts() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->counts;
}

}  // namespace qm::broker

namespace qm::broker {

std::optional<Error> Connection::RecordedPartitions(const std::string& stream, int& partitions) {
  const std::string bucket = KeyValueBucket(stream);
  kvStore* kv = nullptr;
  natsStatus s = js_KeyValue(&kv, impl_->js, bucket.c_str());
  if (s == NATS_NOT_FOUND) return Error::Of<ErrorKind::kStreamNotPublished>({stream});
  if (s != NATS_OK) return Error::Of<ErrorKind::kNatsBucket>({bucket, Text(s)});
  kvEntry* entry = nullptr;
  s = kvStore_Get(&entry, kv, "partitions");
  if (s == NATS_OK) partitions = std::atoi(kvEntry_ValueString(entry));
  kvEntry_Destroy(entry);
  kvStore_Destroy(kv);
  if (s == NATS_NOT_FOUND) return Error::Of<ErrorKind::kStreamNotPublished>({stream});
  if (s != NATS_OK) return Error::Of<ErrorKind::kNatsBucket>({bucket, Text(s)});
  return std::nullopt;
}

std::optional<Error> Connection::LastStoredId(const std::string& stream, const std::string& subject, std::string& id) {
  id.clear();
  natsMsg* msg = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetLastMsg(&msg, impl_->js, stream.c_str(), subject.c_str(), nullptr, &code);
  if (s != NATS_OK) return code == JSNoMessageFoundErr ? std::nullopt
                                                       : std::optional(Error::Of<ErrorKind::kNatsStream>({stream, Text(s, code)}));
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &value) == NATS_OK) id = value;
  natsMsg_Destroy(msg);
  return std::nullopt;
}

namespace {
constexpr const char* kDurable = "qm-worker";
}

struct Consumer::Impl {
  Connection::Impl& connection;
  std::string stream;
  natsSubscription* sub = nullptr;
  natsMsgList batch{};      // the messages of the last fetch (their data is returned)
  uint64_t last = 0;        // the sequence last returned; 0: none yet
  uint64_t start = 1;       // where the consumer was last created
  bool fresh = true;        // created and nothing returned since: the first message sets the order
  std::string last_reply;   // to acknowledge the last message returned
  uint64_t pending = 0;

  ~Impl() {
    natsMsgList_Destroy(&batch);
    Drop();
  }

  void Drop() {
    if (sub == nullptr) return;
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
    sub = nullptr;
  }

  // The durable consumer, created anew at `from`.
  std::optional<Error> Position(uint64_t from) {
    Drop();
    jsErrCode code = static_cast<jsErrCode>(0);
    js_DeleteConsumer(connection.js, stream.c_str(), kDurable, nullptr, &code);
    jsConsumerConfig config;
    jsConsumerConfig_Init(&config);
    config.Durable = kDurable;
    config.DeliverPolicy = js_DeliverByStartSequence;
    config.OptStartSeq = from;
    config.AckPolicy = js_AckAll;
    // Order never depends on redelivery (see the class comment): a long
    // wait keeps the server from sending again what is being run.
    config.AckWait = int64_t{10} * 60 * 1000000000;
    config.MaxAckPending = 1 << 24;  // commits acknowledge many at once
    jsConsumerInfo* info = nullptr;
    natsStatus s = js_AddConsumer(&info, connection.js, stream.c_str(), &config, nullptr, &code);
    jsConsumerInfo_Destroy(info);
    if (s != NATS_OK) return Error::Of<ErrorKind::kNatsConsumer>({stream, Text(s, code)});
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Stream = stream.c_str();
    options.Consumer = kDurable;
    s = js_PullSubscribe(&sub, connection.js, nullptr, kDurable, nullptr, &options, &code);
    if (s != NATS_OK) return Error::Of<ErrorKind::kNatsConsumer>({stream, Text(s, code)});
    start = from;
    fresh = true;
    last_reply.clear();
    return std::nullopt;
  }

  bool Connected() const { return natsConnection_Status(connection.nc) == NATS_CONN_STATUS_CONNECTED; }

};

Consumer::Consumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Consumer::~Consumer() = default;

std::unique_ptr<Consumer> Consumer::Open(Connection& connection, const std::string& stream, uint64_t start,
                                         Error& error) {
  auto impl = std::make_unique<Impl>(Impl{.connection = *connection.impl_, .stream = stream});
  impl->last = start - 1;
  if (std::optional<Error> failed = impl->Position(start)) {
    error = *failed;
    return nullptr;
  }
  return std::unique_ptr<Consumer>(new Consumer(std::move(impl)));
}

std::optional<Error> Consumer::Fetch(int batch, int64_t wait_ms, Fetched& out) {
  Impl& c = *impl_;
  out.messages.clear();
  out.idle = false;
  out.skipped = 0;
  natsMsgList_Destroy(&c.batch);
  c.batch = natsMsgList{};
  if (!c.Connected()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(wait_ms, 100)));
    return std::nullopt;
  }
  if (c.sub == nullptr)
    if (std::optional<Error> failed = c.Position(c.last + 1)) return c.Connected() ? failed : std::nullopt;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = natsSubscription_Fetch(&c.batch, c.sub, batch, wait_ms, &code);
  if (s == NATS_TIMEOUT && c.batch.Count == 0) {
    // Nothing came: either nothing is left to send, or the consumer sent
    // messages that were lost (a server restarted, even one created just
    // before) and would send them again only after its acknowledgement
    // wait: then it is created again after the last message returned.
    jsConsumerInfo* info = nullptr;
    if (js_GetConsumerInfo(&info, c.connection.js, c.stream.c_str(), kDurable, nullptr, &code) != NATS_OK)
      return c.Connected() ? c.Position(c.last + 1) : std::nullopt;
    const uint64_t delivered = info->Delivered.Stream, pending = info->NumPending;
    jsConsumerInfo_Destroy(info);
    if (delivered > c.last) return c.Position(c.last + 1);
    out.idle = pending == 0;
    return std::nullopt;
  }
  if (s != NATS_OK && c.batch.Count == 0) {
    // The consumer is gone or the connection broke mid-fetch: created anew
    // at the next sequence once the server answers.
    if (c.Connected()) return c.Position(c.last + 1);
    return std::nullopt;
  }
  for (int i = 0; i < c.batch.Count; ++i) {
    natsMsg* m = c.batch.Msgs[i];
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, m) != NATS_OK) continue;
    const uint64_t seq = meta->Sequence.Stream;
    const uint64_t pending = meta->NumPending;
    jsMsgMetaData_Destroy(meta);
    if (seq <= c.last) continue;  // sent again: already returned
    if (seq != c.last + 1) {
      // A gap: what is missing may come later, behind. The messages before
      // it are returned; the consumer starts again after them.
      if (!c.fresh) return c.Position(c.last + 1);
      out.skipped += seq - (c.last + 1);  // a new consumer starts at the first message still there
    }
    c.fresh = false;
    c.last = seq;
    c.pending = pending;
    const char* reply = natsMsg_GetReply(m);
    c.last_reply = reply != nullptr ? reply : "";
    Message& message = out.messages.emplace_back();
    message.sequence = seq;
    message.data = std::string_view(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
    const char* until = nullptr;
    if (natsMsgHeader_Get(m, "Qm-Until", &until) == NATS_OK) message.until = until;
    const char* line = nullptr;
    if (natsMsgHeader_Get(m, "Qm-Line", &line) == NATS_OK) message.line = std::strtoll(line, nullptr, 10);
  }
  return std::nullopt;
}

void Consumer::AckReturned() {
  Impl& c = *impl_;
  if (c.last_reply.empty() || !c.Connected()) return;
  natsConnection_PublishString(c.connection.nc, c.last_reply.c_str(), "+ACK");
  c.last_reply.clear();
}

uint64_t Consumer::pending() const { return impl_->pending; }

struct Lease::Impl {
  Connection::Impl& connection;
  kvStore* kv = nullptr;
  std::string key, owner;
  int64_t ttl_ms = 0;
  uint64_t revision = 0;
  Clock::time_point renewed;  // when the last successful renewal was sent
  bool lost = false;

  ~Impl() {
    if (kv != nullptr) kvStore_Destroy(kv);
  }

  static int64_t WallMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::string Value(int64_t expires_ms) const { return std::to_string(expires_ms) + " " + owner; }
  static std::pair<int64_t, std::string> Parse(std::string_view value) {
    size_t space = value.find(' ');
    if (space == std::string_view::npos) return {0, std::string(value)};
    return {std::strtoll(std::string(value.substr(0, space)).c_str(), nullptr, 10), std::string(value.substr(space + 1))};
  }

  // Writes a new expiry over `over` (the revision read; 0: none).
  natsStatus Write(uint64_t over, int64_t expires_ms) {
    const std::string value = Value(expires_ms);
    Clock::time_point sent = Clock::now();
    uint64_t written = 0;
    natsStatus s = over == 0 ? kvStore_CreateString(&written, kv, key.c_str(), value.c_str())
                             : kvStore_UpdateString(&written, kv, key.c_str(), value.c_str(), over);
    if (s != NATS_OK) return s;
    revision = written;
    renewed = sent;
    return NATS_OK;
  }
};

Lease::Lease(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Lease::~Lease() = default;

std::unique_ptr<Lease> Lease::Take(Connection& connection, const std::string& stream, int partition,
                                   const std::string& owner, int64_t ttl_ms, Error& error) {
  auto impl = std::make_unique<Impl>(Impl{.connection = *connection.impl_});
  impl->key = "lease-" + std::to_string(partition);
  impl->owner = owner;
  impl->ttl_ms = ttl_ms;
  const std::string bucket = KeyValueBucket(stream);
  natsStatus s = js_KeyValue(&impl->kv, connection.impl_->js, bucket.c_str());
  if (s != NATS_OK) {
    error = Error::Of<ErrorKind::kNatsBucket>({bucket, Text(s)});
    return nullptr;
  }
  // Two workers starting at once: one write wins, the other reads again
  // and finds it held.
  for (int attempt = 0; attempt < 3; ++attempt) {
    kvEntry* entry = nullptr;
    s = kvStore_Get(&entry, impl->kv, impl->key.c_str());
    uint64_t over = 0;
    if (s == NATS_OK) {
      auto [expires_ms, holder] = Impl::Parse(kvEntry_ValueString(entry));
      over = kvEntry_Revision(entry);
      kvEntry_Destroy(entry);
      const int64_t left_ms = expires_ms - Impl::WallMs();
      if (holder != owner && left_ms > 0) {
        char seconds[32];
        std::snprintf(seconds, sizeof seconds, "%.1f", static_cast<double>(left_ms) / 1000);
        error = Error::Of<ErrorKind::kPartitionOwned>({holder, seconds});
        return nullptr;
      }
    } else if (s != NATS_NOT_FOUND) {
      error = Error::Of<ErrorKind::kNatsBucket>({bucket, Text(s)});
      return nullptr;
    }
    s = impl->Write(over, Impl::WallMs() + ttl_ms);
    if (s == NATS_OK) return std::unique_ptr<Lease>(new Lease(std::move(impl)));
  }
  error = Error::Of<ErrorKind::kNatsBucket>({bucket, Text(s)});
  return nullptr;
}

std::optional<Error> Lease::Keep() {
  Impl& l = *impl_;
  if (l.lost) return Error::Of<ErrorKind::kLeaseLost>({l.owner});
  if (Clock::now() - l.renewed < std::chrono::milliseconds(l.ttl_ms / 3)) return std::nullopt;
  const Clock::time_point sent = Clock::now();
  if (l.Write(l.revision, Impl::WallMs() + l.ttl_ms) == NATS_OK) return std::nullopt;
  // Not written: the connection is away (renew later), or the key moved
  // on: to another owner, or to this one when the bucket stored the write
  // but its answer was lost.
  kvEntry* entry = nullptr;
  natsStatus s = kvStore_Get(&entry, l.kv, l.key.c_str());
  if (s == NATS_OK) {
    if (kvEntry_Revision(entry) != l.revision) {
      if (Impl::Parse(kvEntry_ValueString(entry)).second == l.owner) {
        l.revision = kvEntry_Revision(entry);
        l.renewed = sent;
      } else {
        l.lost = true;
      }
    }
    kvEntry_Destroy(entry);
  } else if (s == NATS_NOT_FOUND) {
    l.lost = true;
  }
  if (l.lost) return Error::Of<ErrorKind::kLeaseLost>({l.owner});
  return std::nullopt;
}

bool Lease::Held() {
  if (Keep()) return false;
  Impl& l = *impl_;
  return Clock::now() - l.renewed < std::chrono::milliseconds(l.ttl_ms * 3 / 4);
}

void Lease::Release() {
  Impl& l = *impl_;
  if (l.lost) return;
  uint64_t written = 0;
  const std::string value = l.Value(0);
  if (kvStore_UpdateString(&written, l.kv, l.key.c_str(), value.c_str(), l.revision) == NATS_OK) l.revision = written;
  l.lost = true;
}

}  // namespace qm::broker

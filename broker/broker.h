// The broker a fleet of workers shares: NATS JetStream (docs/scale-out.md).
// A connection that reconnects by itself and says when it lost the server
// and got it back; the partition streams of an event stream; and publishing
// with ids the server drops duplicates by, so that sending a message again
// is always safe.
//
// Stream `S` in N partitions: partition p is the stream `S_p` holding the
// subject `S.p`; the count is recorded in the key-value bucket `qm-S`
// (key `partitions`) by the first publisher, and fixed from then on.
#ifndef QM_BROKER_BROKER_H_
#define QM_BROKER_BROKER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compiler/diag/diag.h"

namespace qm::broker {

// Why `stream` cannot name a partitioned stream (it becomes stream names
// and subject tokens), or nullopt.
std::optional<Error> CheckStreamName(std::string_view stream);
std::string PartitionStream(std::string_view stream, int partition);
std::string PartitionSubject(std::string_view stream, int partition);

class Connection {
 public:
  // Called from the client library's thread when the connection to the
  // server at `url` is lost (it then reconnects with growing waits, for
  // ever) and when it is back.
  struct Events {
    std::function<void(const std::string& url)> lost;
    std::function<void(const std::string& url, double seconds_away)> back;
  };
  // Connects to `urls` (`nats://host:port`, several separated by commas);
  // null and `error` when no server answers.
  static std::unique_ptr<Connection> Open(const std::string& urls, const std::string& name, Events events,
                                          Error& error);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Makes sure stream `stream` has `partitions` partition streams, each
  // on disk with `replicas` copies, dropping a message whose id it stored
  // within `duplicate_window_ms`. The first call for a stream records the
  // count; a later call with another count is refused. A partition
  // stream that exists keeps its settings; `window_ms` says the smallest
  // duplicate window among them.
  std::optional<Error> EnsurePartitions(const std::string& stream, int partitions, int replicas,
                                        int64_t duplicate_window_ms, int64_t& window_ms);

  struct Impl;

 private:
  explicit Connection(std::unique_ptr<Impl> impl);
  friend class Publisher;
  std::unique_ptr<Impl> impl_;
};

// Publishes asynchronously, at most `max_pending` unconfirmed at a time,
// keeping each stream's messages in the order they were published (by
// `Message::line`): what a lost connection or a missed confirmation left
// unconfirmed is sent again, with the same ids, in that order, before
// anything new. One the server refuses (a stream limit, a message too
// large) is a failure. Gives up when nothing was confirmed for
// `patience_ms` (the server is not coming back).
class Publisher {
 public:
  struct Message {
    std::string subject;
    std::string id;    // Nats-Msg-Id: the server stores one message per id within the duplicate window
    std::vector<std::pair<std::string, std::string>> headers;
    std::string_view data;
    int64_t line = 0;  // the input line: the order, and the header Qm-Line
  };
  struct Counts {
    int64_t stored = 0;      // confirmed as new
    int64_t duplicates = 0;  // confirmed as already stored
    int64_t resent = 0;      // times a message was sent again
  };

  Publisher(Connection& connection, int max_pending, int64_t ack_wait_ms, int64_t patience_ms);
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Sends `message`, waiting while `max_pending` are unconfirmed or the
  // server is away; nullopt once it is on its way.
  std::optional<Error> Publish(const Message& message);
  // Waits until every message is confirmed; the error says what was
  // refused, or how many were left unconfirmed.
  std::optional<Error> Finish();
  Counts counts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace qm::broker

#endif  // QM_BROKER_BROKER_H_

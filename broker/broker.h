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

  // The partition count recorded for `stream`, or an error when nothing
  // was published to it yet.
  std::optional<Error> RecordedPartitions(const std::string& stream, int& partitions);

  // The id (Nats-Msg-Id) of the last message stored in `stream` under
  // `subject`: empty when there is none.
  std::optional<Error> LastStoredId(const std::string& stream, const std::string& subject, std::string& id);

  struct Impl;

 private:
  explicit Connection(std::unique_ptr<Impl> impl);
  friend class Publisher;
  friend class Consumer;
  friend class Lease;
  std::unique_ptr<Impl> impl_;
};

// One partition stream's messages in stream order, once each, from a
// chosen sequence on, through a durable pull consumer. NATS 2.9 does not
// keep that order by itself: a consumer whose messages were lost in flight
// (a connection that broke, a server that restarted) sends them again only
// after its acknowledgement wait, and behind newer ones. So the consumer is
// created afresh at the sequence wanted (at start, and whenever the next
// message is not the one after the last), and a message already returned
// is never returned again.
class Consumer {
 public:
  struct Message {
    uint64_t sequence = 0;   // in the stream
    std::string_view data;
    std::string_view until;  // the header Qm-Until: a heartbeat (docs/scale-out.md)
    int64_t line = 0;        // the header Qm-Line: where the publisher read it; 0 when absent
  };
  // Starts at `start` (1: the beginning) in partition stream `stream`.
  static std::unique_ptr<Consumer> Open(Connection& connection, const std::string& stream, uint64_t start,
                                        Error& error);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  struct Fetched {
    std::vector<Message> messages;  // valid until the next Fetch
    // Nothing came, and the consumer has nothing after the last message returned.
    bool idle = false;
    uint64_t skipped = 0;  // sequences the stream no longer holds (its limits removed them), jumped over
  };
  // Up to `batch` messages, waiting up to `wait_ms` for the first. A
  // connection that is away gives none (not idle); a consumer that cannot
  // be created again is an error.
  std::optional<Error> Fetch(int batch, int64_t wait_ms, Fetched& out);
  // Acknowledges every message returned so far (the consumer's position
  // and lag as the server shows them; nothing depends on it for order).
  void AckReturned();
  // Messages in the stream after the last one returned, as of the last fetch.
  uint64_t pending() const;

 private:
  struct Impl;
  explicit Consumer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One owner for a partition at a time: a key in the stream's key-value
// bucket naming the owner and until when (its wall clock) it holds it,
// written only by compare-and-set on the revision read. The owner renews
// it every third of `ttl_ms`; another worker may take it once that time
// has passed, or at once when it has the same owner name (the same worker
// restarted). An owner that has not renewed within three quarters of
// `ttl_ms` (its own steady clock, so clocks may differ by up to a quarter)
// holds it no more: it must not commit or publish until a renewal
// succeeds, and a renewal finding another owner means the lease is lost.
class Lease {
 public:
  // Null and `error` when another owner holds it (kPartitionOwned) or the
  // bucket cannot be used.
  static std::unique_ptr<Lease> Take(Connection& connection, const std::string& stream, int partition,
                                     const std::string& owner, int64_t ttl_ms, Error& error);
  ~Lease();
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  // Renews when a third of the time has passed. An error once another
  // owner has it (or it cannot be renewed within its time): lost for good.
  std::optional<Error> Keep();
  // Whether it is held now (renewed recently enough); renews first when it
  // must.
  bool Held();
  // Gives it up (clean shutdown): another worker may take it at once.
  void Release();

 private:
  struct Impl;
  explicit Lease(std::unique_ptr<Impl> impl);
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

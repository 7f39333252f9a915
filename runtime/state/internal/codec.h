// The byte encoding of a state directory's records: varint writers and
// readers, one customer's state (`c:<id>`), the checkpoint. Records are
// checked when decoded, so a damaged or crafted record is refused, never
// trusted (docs/state.md). Used by the durable store, the schema code, and
// the tests and fuzz targets that craft records.
#ifndef QM_RUNTIME_STATE_INTERNAL_CODEC_H_
#define QM_RUNTIME_STATE_INTERNAL_CODEC_H_

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/state/durable.h"

namespace qm::state_internal {

using state::Checkpoint;
using state::CustomerState;
using state::Schema;
using state::Stored;

// Appends varints (zigzag for signed values), 8-byte doubles and
// length-prefixed strings.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void U(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void I(int64_t v) { U((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void D(double v) {
    char b[8];
    std::memcpy(b, &v, 8);
    out_.append(b, 8);
  }
  void S(std::string_view s) {
    U(s.size());
    out_.append(s);
  }
  void Strings(const std::vector<std::string>& v) {
    U(v.size());
    for (const std::string& s : v) S(s);
  }

 private:
  std::string& out_;
};

// Reads what Writer wrote; any overrun or malformed varint sets `ok` false
// and yields zeros, so a corrupt record is detected, never trusted.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint64_t U() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return Fail();
      uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return Fail();
  }
  int64_t I() {
    uint64_t u = U();
    return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1);
  }
  double D() {
    if (in_.size() - pos_ < 8) return static_cast<double>(Fail());
    double v;
    std::memcpy(&v, in_.data() + pos_, 8);
    pos_ += 8;
    return v;
  }
  std::string S() {
    uint64_t n = U();
    if (n > in_.size() - pos_) return Fail(), std::string();
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::vector<std::string> Strings() {
    std::vector<std::string> v(Count());
    for (std::string& s : v) s = S();
    return v;
  }
  // A count of following items, each at least one byte long.
  size_t Count() {
    uint64_t n = U();
    if (n > in_.size() - pos_) return Fail();
    return n;
  }
  // An index below `limit`.
  size_t Index(size_t limit) {
    uint64_t i = U();
    if (i >= limit) return Fail();
    return i;
  }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && pos_ == in_.size(); }

 private:
  uint64_t Fail() {
    ok_ = false;
    pos_ = in_.size();
    return 0;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

void PutStored(Writer& w, const Stored& v);
Stored GetStored(Reader& r);
// The value kind a stored type name (`money`, an enum's name) holds.
ValueKind KindOfType(const std::string& type);

// One customer's state, encoded by position in `schema`.
void EncodeState(const CustomerState& s, std::string& out);
// Decodes into `s` and checks what decoding alone cannot (Consistent);
// false when the record is damaged.
bool DecodeState(std::string_view bytes, const Schema& schema, CustomerState& s);
// A pending set/add holds a value its field can take under `program`.
bool Runnable(const CustomerState& s, const ir::Program& program);

std::string EncodeCheckpoint(const Checkpoint& c);
// `format`: the directory's format version (the fields after the held lines changed in 5).
std::optional<Checkpoint> DecodeCheckpoint(std::string_view bytes, int64_t format);

// The record DurableStore writes for `s`.
std::string EncodeRecord(const CustomerState& s);
// Decodes a record written under `program`'s own schema and checks it as a
// load does. False exactly when a run would refuse it as corrupt; a record
// that passes is safe for both engines.
bool DecodeRecord(std::string_view bytes, const ir::Program& program, CustomerState& s);

}  // namespace qm::state_internal

#endif  // QM_RUNTIME_STATE_INTERNAL_CODEC_H_

// The strict JSON reader under the event decoder. Private to runtime/event.
#ifndef QM_RUNTIME_EVENT_INTERNAL_JSON_H_
#define QM_RUNTIME_EVENT_INTERNAL_JSON_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qm::event_internal {

// A strict JSON reader for one line: it validates everything (nested values
// included, A38 check 1) and keeps the top-level members.

enum class JsonKind : uint8_t { kString, kNumber, kTrue, kFalse, kNull, kObject, kArray };

struct Member {
  std::string key;
  JsonKind kind;
  std::string_view raw;  // number text
  std::string text;      // decoded string
};

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}

  // Returns false on any syntax error. `is_object` tells whether the top
  // value was an object; its members are members[0..count), in order. The
  // Member objects are reused from line to line, keeping their capacity.
  bool ReadTop(bool& is_object, std::vector<Member>& members, size_t& count);

 private:
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void SkipWs();

  bool ReadObjectMembers(std::vector<Member>& members, size_t& count);

  // Reads any value; nested containers are validated without recursion.
  bool ReadValue(JsonKind& kind, std::string* text);

  bool SkipContainer();

  static int Hex(char c);

  bool ReadHex4(uint32_t& v);

  bool ReadString(std::string* out);

  bool ReadNumber();

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace qm::event_internal

#endif  // QM_RUNTIME_EVENT_INTERNAL_JSON_H_

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

// A top-level member. Keys and string values view the line unless they hold
// escapes; then they are decoded into the Member's own buffer, which is why
// they are read through key() and text(): the Members live in a vector that
// may move them. A string's text() and a number's `raw` are its; what the
// other kinds leave there is stale.
struct Member {
  JsonKind kind;
  std::string_view raw;  // number text
  std::string_view key() const { return key_escaped ? std::string_view(key_buf) : key_view; }
  std::string_view text() const { return text_escaped ? std::string_view(text_buf) : text_view; }

  std::string_view key_view, text_view;
  bool key_escaped = false, text_escaped = false;
  std::string key_buf, text_buf;
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
  [[gnu::always_inline]] void SkipWs() {
    // Event lines mostly have no whitespace between tokens: one compare says so.
    while (i_ < s_.size() && static_cast<unsigned char>(s_[i_]) <= ' ' &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }

  // Past `c`, after any whitespace; false when something else is there.
  [[gnu::always_inline]] bool Skip(char c) {
    if (Peek() != c) {
      SkipWs();
      if (Peek() != c) return false;
    }
    ++i_;
    return true;
  }

  bool ReadObjectMembers(std::vector<Member>& members, size_t& count);
  [[gnu::always_inline]] inline bool ReadMembers(std::vector<Member>& members, size_t& count);

  // What the cursor-passing helpers return for a syntax error.
  static constexpr size_t kFailed = SIZE_MAX;

  // Reads any value; nested containers are validated without recursion.
  // A string's text goes to `view`, or into `buf` (and `escaped` is set)
  // when it holds escapes; null `view` only validates it.
  struct StringOut {
    std::string_view* view;
    std::string* buf;
    bool* escaped;
  };
  [[gnu::always_inline]] inline bool ReadValue(JsonKind& kind, StringOut text);

  // Past the object or array at `i` of `s`, or kFailed.
  [[gnu::noinline]] static size_t SkipContainer(std::string_view s, size_t i);
  bool SkipContainer();

  static int Hex(char c);

  bool ReadHex4(uint32_t& v);

  // Also checks that the string is UTF-8 (A38 check 1): outside strings a
  // byte that is not ASCII is a syntax error anyway.
  [[gnu::always_inline]] inline bool ReadString(StringOut out);
  // The rest of a string from a backslash or a control character at i_
  // (the string began at `start`): decoded into out.buf. The static one
  // takes the cursor `i` of `s` and returns where it ends, or kFailed.
  [[gnu::noinline]] static size_t ReadEscaped(std::string_view s, size_t i, StringOut out, size_t start, bool high);
  bool ReadEscaped(StringOut out, size_t start, bool high);

  [[gnu::always_inline]] inline bool ReadNumber();

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace qm::event_internal

#endif  // QM_RUNTIME_EVENT_INTERNAL_JSON_H_

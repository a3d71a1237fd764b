#pragma once
// UTF-8 helpers shared by the tokenizer components. Everything past `sanitize_utf8` assumes valid
// UTF-8: the tokenizer sanitizes its input once, at the door.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace slmq::tokenizer {

// True when `text` is well-formed UTF-8 (no surrogates, no overlongs, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text);

// Replaces every ill-formed sequence by U+FFFD, one per "maximal subpart" (Unicode §3.9, the
// practice of Python's `bytes.decode("utf-8", "replace")` and Rust's `String::from_utf8_lossy`).
std::string sanitize_utf8(std::string_view text);

// Decodes the code point starting at `pos` of valid UTF-8; returns its length in bytes.
inline std::size_t decode_utf8(std::string_view text, std::size_t pos, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  const auto cont = [&](std::size_t i) { return static_cast<unsigned char>(text[pos + i]) & 0x3F; };
  if (b0 < 0xE0) {
    cp = ((b0 & 0x1F) << 6) | cont(1);
    return 2;
  }
  if (b0 < 0xF0) {
    cp = ((b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2);
    return 3;
  }
  cp = ((b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
  return 4;
}

// Length in bytes of the UTF-8 sequence that starts with lead byte `b0` (valid UTF-8 only).
inline std::size_t utf8_length(unsigned char b0) {
  return b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
}

void append_utf8(std::string& out, char32_t cp);

// Rust's `char::is_whitespace`: the Unicode White_Space property.
bool is_white_space(char32_t cp);
// Rust's `char::is_numeric`: general categories Nd, Nl, No.
bool is_numeric(char32_t cp);
// Rust regex `\w` (Unicode): letters, marks, decimal digits, connector punctuation, joiners.
bool is_word_char(char32_t cp);
// Unicode general category P* (Rust's `char::is_ascii_punctuation || is_punctuation`).
bool is_punctuation(char32_t cp);

// GPT-2's reversible byte <-> printable-character table used by the ByteLevel components.
class ByteLevelTable {
 public:
  static const ByteLevelTable& get();
  // UTF-8 encoding of the character that stands for byte `b`.
  const std::string& char_for(unsigned char b) const { return chars_[b]; }
  // The byte a code point stands for, or -1 when it is not part of the table.
  int byte_for(char32_t cp) const { return cp < 512 ? bytes_[cp] : -1; }

 private:
  ByteLevelTable();
  std::string chars_[256];
  int bytes_[512];
};

}  // namespace slmq::tokenizer

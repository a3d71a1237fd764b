#pragma once
// Error messages quote names and values read from files (tensor names, architecture names, dataset
// lines). A NUL there would end the message early (what() is a C string) and a newline would split
// the one line the CLI prints, so such text is escaped where it enters a message.
#include <string>
#include <string_view>

namespace slmq {

// `text` with control bytes and bytes that are not valid UTF-8 written as escapes (\n, \t, \r,
// \x00, \xff); valid UTF-8 is kept as it is.
std::string escape_message(std::string_view text);

// Whether `text` is well-formed UTF-8 (no overlongs, surrogates or code points past U+10FFFF):
// what text copied from a config into JSON output must be.
bool is_utf8(std::string_view text);

}  // namespace slmq

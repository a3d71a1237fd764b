// Error messages stay one printable line whatever bytes a file put into them (issue 21 defect 6).
#include "slmq/core/escape.h"

#include <gtest/gtest.h>

namespace slmq {
namespace {

TEST(ErrorMessage, ControlBytesAndInvalidUtf8AreEscapedValidUtf8Kept) {
  const std::string raw = std::string("tensor 'a\nb") + '\0' + "c\t\x7f'";
  EXPECT_EQ(escape_message(raw), "tensor 'a\\nb\\x00c\\t\\x7f'");
  // Valid multi-byte UTF-8 is kept; a lone continuation byte, an overlong '/' and a surrogate are
  // not.
  EXPECT_EQ(escape_message("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac");
  EXPECT_EQ(escape_message("\x80|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80"),
            "\\x80|\\xc0\\xaf|\\xed\\xa0\\x80|\\xf4\\x90\\x80\\x80");
  EXPECT_EQ(escape_message("cut \xe2\x82"), "cut \\xe2\\x82");  // truncated sequence
}

// What the config reader refuses (text for JSON output): the same rules as Python's
// bytes.decode("utf-8") (strict), which rejects exactly these.
TEST(ErrorMessage, IsUtf8AcceptsWellFormedTextOnly) {
  EXPECT_TRUE(is_utf8(""));
  EXPECT_TRUE(is_utf8("ascii\n\t"));
  EXPECT_TRUE(is_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf"));
  for (const char* bad :
       {"\x80", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "cut \xe2\x82", "\xff", "\xc3("}) {
    EXPECT_FALSE(is_utf8(bad)) << escape_message(bad);
  }
}

}  // namespace
}  // namespace slmq

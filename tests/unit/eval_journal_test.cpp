// FileEvalJournal: what one process records, the next one finds bit for bit; a file written for
// other requests or settings, or a torn last line, is never reused.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "slmq/core/error.h"
#include "slmq/eval/eval_journal.h"
#include "support/temp_dir.h"

namespace slmq::eval {
namespace {

using nlohmann::json;

std::string read_all(const std::filesystem::path& p) {
  std::ostringstream s;
  s << std::ifstream(p).rdbuf();
  return s.str();
}

TEST(FileEvalJournal, ReopenedWithTheSameFingerprintFindsEveryRecordedValue) {
  test::TempDir dir;
  const auto path = dir.path() / "journal" / "task.jsonl";
  // Doubles that need all 17 digits to round-trip.
  const double a = -1.2345678901234567e-5, b = 0.1 + 0.2;
  {
    FileEvalJournal journal(path, "f1");
    EXPECT_EQ(journal.resumed_units(), 0u);
    journal.record("loglikelihood", {{3, json::array({json::array({a, true})})}}, 1.5);
    journal.record("loglikelihood", {{0, json::array({json::array({b, false})})}, {7, 2}}, 2.0);
    journal.record("generate_until", {{3, "text"}}, 0.25);
  }
  FileEvalJournal reopened(path, "f1");
  EXPECT_EQ(reopened.resumed_units(), 4u);
  EXPECT_DOUBLE_EQ(reopened.resumed_seconds(), 3.75);
  ASSERT_NE(reopened.find("loglikelihood", 3), nullptr);
  EXPECT_EQ((*reopened.find("loglikelihood", 3))[0][0].get<double>(), a);
  EXPECT_EQ((*reopened.find("loglikelihood", 0))[0][0].get<double>(), b);
  EXPECT_EQ(*reopened.find("generate_until", 3), "text");
  EXPECT_EQ(reopened.find("loglikelihood", 1), nullptr);
  EXPECT_EQ(reopened.find("loglikelihood_rolling", 3), nullptr);
}

TEST(FileEvalJournal, OtherFingerprintOrNoResumeStartsAfresh) {
  test::TempDir dir;
  const auto path = dir.path() / "task.jsonl";
  FileEvalJournal(path, "f1").record("loglikelihood", {{0, 1}}, 1.0);
  {
    FileEvalJournal other(path, "f2");
    EXPECT_EQ(other.resumed_units(), 0u);
    EXPECT_EQ(other.find("loglikelihood", 0), nullptr);
  }
  // The file now belongs to f2: f1's record is gone for good.
  EXPECT_EQ(FileEvalJournal(path, "f1").resumed_units(), 0u);
  FileEvalJournal(path, "f1").record("loglikelihood", {{0, 1}}, 1.0);
  EXPECT_EQ(FileEvalJournal(path, "f1", /*resume=*/false).resumed_units(), 0u);
  EXPECT_EQ(FileEvalJournal(path, "f1").resumed_units(), 0u);
}

TEST(FileEvalJournal, TornLastLineIsDroppedAndAppendingContinues) {
  test::TempDir dir;
  const auto path = dir.path() / "task.jsonl";
  {
    FileEvalJournal journal(path, "f");
    journal.record("loglikelihood", {{0, 10}}, 1.0);
    journal.record("loglikelihood", {{1, 11}}, 1.0);
  }
  std::string content = read_all(path);
  content += R"({"section": "loglikelihood", "seconds": 1.0, "units": [[2, 1)";  // killed mid-write
  std::ofstream(path, std::ios::trunc) << content;
  {
    FileEvalJournal journal(path, "f");
    EXPECT_EQ(journal.resumed_units(), 2u);
    EXPECT_EQ(journal.find("loglikelihood", 2), nullptr);
    journal.record("loglikelihood", {{2, 12}}, 1.0);
  }
  FileEvalJournal journal(path, "f");
  EXPECT_EQ(journal.resumed_units(), 3u);
  EXPECT_EQ(*journal.find("loglikelihood", 2), 12);
}

TEST(FileEvalJournal, SecondWriterOfTheSameFileIsRefused) {
  test::TempDir dir;
  const auto path = dir.path() / "task.jsonl";
  {
    FileEvalJournal first(path, "f");
    first.record("loglikelihood", {{0, 1}}, 1.0);
    EXPECT_THROW(FileEvalJournal(path, "f"), DataError);
  }
  EXPECT_EQ(FileEvalJournal(path, "f").resumed_units(), 1u);  // free again once closed
}

TEST(FileEvalJournal, TextsRoundTripEvenWhenNotUtf8) {
  for (const std::string text :
       {std::string("plain ascii"), std::string("caf\xc3\xa9 \xe2\x82\xac"),
        std::string("cut \xe2\x82"), std::string("\xff\x00z", 3)}) {
    const json value = text_to_journal(text);
    EXPECT_NO_THROW(value.dump());
    // Through a file line and back.
    const auto back = text_from_journal(json::parse(value.dump()));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, text);
  }
  EXPECT_FALSE(text_from_journal(json{{"hex", "zz"}}).has_value());
  EXPECT_FALSE(text_from_journal(json(3)).has_value());
}

}  // namespace
}  // namespace slmq::eval

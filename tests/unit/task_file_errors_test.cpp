// Task files: what a user gets wrong is an error naming the file and line (ConfigError for the
// YAML, DataError for the data), and names resolve in the task folders.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "slmq/core/error.h"
#include "slmq/eval/task_file.h"
#include "support/temp_dir.h"

namespace slmq::eval {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

class TaskFileErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    write("data.jsonl",
          "{\"question\": \"Q1\", \"choices\": [\"a\", \"b\"], \"label\": 0}\n"
          "{\"question\": \"Q2\", \"choices\": [\"c\", \"d\"], \"label\": 1}\n");
  }
  std::filesystem::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_.path() / name) << text;
    return dir_.path() / name;
  }
  std::filesystem::path task(const std::string& body) {
    return write("t.yaml",
                 "task: t\n"
                 "dataset_path: json\n"
                 "dataset_kwargs:\n"
                 "  data_files:\n"
                 "    test: data.jsonl\n"
                 "test_split: test\n"
                 "output_type: multiple_choice\n" +
                     body);
  }
  // The message of the error `make_file_task` throws, checked to be of type E.
  template <typename E>
  std::string error_of(const std::filesystem::path& file) {
    try {
      make_file_task(file, {});
    } catch (const E& e) {
      return e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "wrong error type: " << e.what();
      return "";
    }
    ADD_FAILURE() << "no error";
    return "";
  }
  test::TempDir dir_;
};

constexpr const char* kGood =
    "doc_to_text: \"{{question}}\"\ndoc_to_choice: choices\ndoc_to_target: label\n";

TEST_F(TaskFileErrors, ValidFileLoads) {
  const auto t = make_file_task(task(kGood), {});
  EXPECT_EQ(t->name(), "t");
  ASSERT_EQ(t->requests().size(), 4u);
  EXPECT_EQ(*t->requests()[2].context, "Q2");
  EXPECT_EQ(t->requests()[3].continuation, " d");
}

TEST_F(TaskFileErrors, UnknownKeyNamesFileLineAndNearestKey) {
  const std::string msg = error_of<ConfigError>(task(std::string(kGood) + "num_fewshots: 2\n"));
  EXPECT_THAT(msg, AllOf(HasSubstr("t.yaml:11"), HasSubstr("num_fewshots"),
                         HasSubstr("did you mean 'num_fewshot'")));
}

TEST_F(TaskFileErrors, TemplateFieldAbsentFromDataNamesFileAndLine) {
  const std::string msg = error_of<ConfigError>(
      task("doc_to_text: \"{{questoin}}\"\ndoc_to_choice: choices\ndoc_to_target: label\n"));
  EXPECT_THAT(msg, AllOf(HasSubstr("t.yaml:8"), HasSubstr("doc_to_text"), HasSubstr("questoin"),
                         HasSubstr("columns: choices, label, question")));
}

TEST_F(TaskFileErrors, MissingColumnInARowNamesTheDataLine) {
  write("data.jsonl",
        "{\"question\": \"Q1\", \"choices\": [\"a\", \"b\"], \"label\": 0}\n"
        "{\"question\": \"Q2\", \"choices\": [\"c\", \"d\"]}\n");
  const std::string msg = error_of<DataError>(task(kGood));
  EXPECT_THAT(msg, AllOf(HasSubstr("data.jsonl:2"), HasSubstr("label")));
}

TEST_F(TaskFileErrors, MissingDataFileNamesWhereItLooked) {
  std::filesystem::remove(dir_.path() / "data.jsonl");
  EXPECT_THAT(error_of<DataError>(task(kGood)),
              AllOf(HasSubstr("data.jsonl"), HasSubstr("for split 'test' not found")));
}

TEST_F(TaskFileErrors, PythonHooksAndStatementsAreRefused) {
  EXPECT_THAT(
      error_of<UnsupportedError>(task(std::string(kGood) + "process_docs: !function u.f\n")),
      HasSubstr("t.yaml:11: process_docs"));
  EXPECT_THAT(error_of<ConfigError>(task("doc_to_text: \"{% if x %}y{% endif %}\"\n"
                                         "doc_to_choice: choices\ndoc_to_target: label\n")),
              AllOf(HasSubstr("t.yaml:8"), HasSubstr("statements")));
  EXPECT_THAT(error_of<ConfigError>(task("doc_to_text: \"{{question|title}}\"\n"
                                         "doc_to_choice: choices\ndoc_to_target: label\n")),
              HasSubstr("unsupported filter 'title'"));
}

TEST_F(TaskFileErrors, WrongMetricForTheOutputType) {
  EXPECT_THAT(error_of<UnsupportedError>(
                  task(std::string(kGood) + "metric_list:\n  - metric: perplexity\n")),
              AllOf(HasSubstr("t.yaml:12"), HasSubstr("supported: acc, acc_norm")));
}

TEST_F(TaskFileErrors, NamesResolveInTaskFolders) {
  task(kGood);
  ASSERT_EQ(setenv("SLMQ_TASKS_DIR", dir_.path().c_str(), 1), 0);
  const auto found = find_task_file("t");
  unsetenv("SLMQ_TASKS_DIR");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(*found, dir_.path() / "t.yaml");
  EXPECT_FALSE(find_task_file("no_such_task").has_value());
  EXPECT_THROW(find_task_file("missing/file.yaml"), ConfigError);
  // Through make_task, as `eval --tasks` and run configs name tasks.
  EXPECT_EQ(make_task((dir_.path() / "t.yaml").string(), {})->name(), "t");
}

}  // namespace
}  // namespace slmq::eval

// record_run: what a run leaves on disk when it succeeds, fails, or meets another writer.
#include "slmq/pipeline/run_result.h"

#include <gtest/gtest.h>

#include "slmq/core/error.h"
#include "slmq/core/file_lock.h"
#include "slmq/io/json_file.h"
#include "support/temp_dir.h"

namespace slmq {
namespace {

void run_ok(const std::filesystem::path& path, int value) {
  nlohmann::json result = {{"name", "exp"}};
  record_run(result, path, [&](nlohmann::json& r) { r["value"] = value; });
}

void run_failing(const std::filesystem::path& path) {
  nlohmann::json result = {{"name", "exp"}};
  EXPECT_THROW(record_run(result, path,
                          [](nlohmann::json&) { throw DataError("'/data/arc' does not exist"); }),
               DataError);
}

// Defect 1 of issue 21: a failed rerun wrote its record over hours of good results.
TEST(RunResult, AFailureNeverReplacesAnOkResult) {
  test::TempDir dir;
  const auto path = dir.path() / "exp.json";
  run_ok(path, 7);
  run_failing(path);
  const nlohmann::json kept = read_json_file(path);
  EXPECT_EQ(kept["status"], "ok");
  EXPECT_EQ(kept["value"], 7);
  const nlohmann::json failure = read_json_file(failure_path_for(path));
  EXPECT_EQ(failure["status"], "failed");
  EXPECT_NE(failure["failed_reason"].get<std::string>().find("/data/arc"), std::string::npos);
  EXPECT_EQ(failure_path_for(path).extension(), ".failed");  // not read by `report`

  run_ok(path, 8);  // a later success replaces the ok result as before
  EXPECT_EQ(read_json_file(path)["value"], 8);
}

TEST(RunResult, AFailureWithNoOkResultIsWrittenInPlace) {
  test::TempDir dir;
  const auto path = dir.path() / "exp.json";
  run_failing(path);
  EXPECT_EQ(read_json_file(path)["status"], "failed");
  run_failing(path);  // a failed record is not worth keeping over a newer failure
  EXPECT_EQ(read_json_file(path)["status"], "failed");
  EXPECT_FALSE(std::filesystem::exists(failure_path_for(path)));
}

TEST(RunResult, ASecondWriterOfTheSameOutputStopsBeforeWriting) {
  test::TempDir dir;
  const auto path = dir.path() / "exp.json";
  run_ok(path, 7);
  FileLock held(lock_path_for(path), "test");  // another process's run of the same output
  nlohmann::json result = {{"name", "exp"}};
  bool ran = false;
  try {
    record_run(result, path, [&](nlohmann::json&) { ran = true; });
    ADD_FAILURE() << "no error";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("another slmquant process"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(ran);
  EXPECT_EQ(read_json_file(path)["value"], 7);
  EXPECT_FALSE(std::filesystem::exists(failure_path_for(path)));
}

}  // namespace
}  // namespace slmq

// Progress off a terminal keeps its promise of a line every interval even while no unit finishes
// (issue 21 defect 9: a long eval batch printed nothing for minutes).
#include "slmq/core/progress.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <thread>

namespace slmq {
namespace {

// Routes spdlog's default logger into a string while it lives.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    sink->set_pattern("%v");
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return out_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream out_;
};

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Progress, OffATerminalALineComesEveryIntervalWhileOneUnitRuns) {
  if (isatty(STDERR_FILENO) == 1) GTEST_SKIP() << "stderr is a terminal: the bar is drawn instead";
  CapturedLog log;
  {
    ProgressReporter progress("eval arc", 0.2);
    progress.update(1, 10, "batches");  // then one long batch: no update for 1.2 s
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    // Lines at 0.2 s intervals: 6 in 1.2 s on an idle machine; 2 leave room for a loaded one.
    EXPECT_GE(count(log.text(), "eval arc 1/10 batches (10%)"), 2u) << log.text();
    EXPECT_NE(log.text().find("ETA"), std::string::npos) << log.text();
    progress.update(10, 10, "batches");
    progress.finish();
    EXPECT_NE(log.text().find("eval arc 10/10 batches (100%)"), std::string::npos) << log.text();
    const std::string done = log.text();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_EQ(log.text(), done);  // finished: the heartbeat is quiet
  }
}

TEST(Progress, IntervalComesFromTheEnvironment) {
  ::setenv("SLMQ_PROGRESS_SECONDS", "2.5", 1);
  EXPECT_EQ(default_progress_interval(), 2.5);
  ::setenv("SLMQ_PROGRESS_SECONDS", "soon", 1);
  EXPECT_EQ(default_progress_interval(), 30.0);
  ::unsetenv("SLMQ_PROGRESS_SECONDS");
  EXPECT_EQ(default_progress_interval(), 30.0);
}

}  // namespace
}  // namespace slmq

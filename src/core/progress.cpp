#include "slmq/core/progress.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>

namespace slmq {
namespace {

std::string clock_text(double seconds) {
  const auto s = static_cast<long>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{:02}:{:02}", s / 60, s % 60);
}

}  // namespace

ProgressReporter::ProgressReporter(std::string label, double log_every_seconds)
    : label_(std::move(label)),
      log_every_(log_every_seconds),
      tty_(isatty(STDERR_FILENO) == 1),
      start_(Clock::now()),
      last_(start_) {}

ProgressReporter::~ProgressReporter() {
  if (open_) std::fputc('\n', stderr);
}

std::string ProgressReporter::line(size_t done, size_t total, const std::string& unit) const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const double fraction = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  const std::string eta =
      rate > 0 && done < total ? clock_text(static_cast<double>(total - done) / rate) : "--:--";
  return fmt::format("{} {}/{} {} ({:.0f}%), {:.1f} {}/s, elapsed {}, ETA {}", label_, done, total,
                     unit, 100.0 * fraction, rate, unit, clock_text(elapsed), eta);
}

void ProgressReporter::update(size_t done, size_t total, const std::string& unit) {
  done_ = done;
  total_ = total;
  unit_ = unit;
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if (tty_) {
    if (since < 0.2 && done < total) return;
    constexpr int kWidth = 24;
    const int filled = total ? static_cast<int>(kWidth * done / total) : kWidth;
    std::string bar(filled, '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r[%s] %s\033[K", bar.c_str(), line(done, total, unit).c_str());
    std::fflush(stderr);
    open_ = true;
  } else {
    if (since < log_every_) return;
    spdlog::info("{}", line(done, total, unit));
  }
  last_ = now;
}

void ProgressReporter::finish() {
  if (tty_) {
    if (open_) std::fputc('\n', stderr);
    open_ = false;
  } else if (total_ > 0) {
    spdlog::info("{}", line(done_, total_, unit_));
  }
}

}  // namespace slmq

#include "slmq/core/progress.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace slmq {
namespace {

std::string clock_text(double seconds) {
  const auto s = static_cast<long>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                   : fmt::format("{:02}:{:02}", s / 60, s % 60);
}

}  // namespace

double default_progress_interval() {
  if (const char* env = std::getenv("SLMQ_PROGRESS_SECONDS"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const double v = std::strtod(env, &end);
    if (end != env && *end == '\0' && v > 0) return v;
  }
  return 30.0;
}

ProgressReporter::ProgressReporter(std::string label, double log_every_seconds)
    : label_(std::move(label)),
      log_every_(log_every_seconds),
      tty_(isatty(STDERR_FILENO) == 1),
      start_(Clock::now()),
      last_(start_),
      thread_([this] { heartbeat(); }) {}

ProgressReporter::~ProgressReporter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    if (open_) std::fputc('\n', stderr);
    open_ = false;
  }
  wake_.notify_all();
  thread_.join();
}

std::string ProgressReporter::line() const {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  if (total_ == 0) return fmt::format("{}: elapsed {}", label_, clock_text(elapsed));
  const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0.0;
  const double fraction = static_cast<double>(done_) / static_cast<double>(total_);
  const std::string eta =
      rate > 0 && done_ < total_ ? clock_text(static_cast<double>(total_ - done_) / rate) : "--:--";
  return fmt::format("{} {}/{} {} ({:.0f}%), {:.2f} {}/s, elapsed {}, ETA {}", label_, done_,
                     total_, unit_, 100.0 * fraction, rate, unit_, clock_text(elapsed), eta);
}

void ProgressReporter::draw(Clock::time_point now) {
  if (tty_) {
    constexpr int kWidth = 24;
    const int filled = total_ ? static_cast<int>(kWidth * done_ / total_) : 0;
    std::string bar(filled, '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r[%s] %s\033[K", bar.c_str(), line().c_str());
    std::fflush(stderr);
    open_ = true;
  } else {
    spdlog::info("{}", line());
  }
  last_ = now;
}

void ProgressReporter::update(size_t done, size_t total, const std::string& unit) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return;
  done_ = done;
  total_ = total;
  unit_ = unit;
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if (since < (tty_ ? 0.2 : log_every_) && done < total) return;
  if (!tty_ && done >= total) return;  // finish() logs the final count
  draw(now);
}

void ProgressReporter::heartbeat() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto tick = std::chrono::duration<double>(tty_ ? 1.0 : std::min(1.0, log_every_ / 4));
  while (!stopped_) {
    wake_.wait_for(lock, tick);
    if (stopped_) break;
    const auto now = Clock::now();
    const double since = std::chrono::duration<double>(now - last_).count();
    if (since >= (tty_ ? 1.0 : log_every_)) draw(now);
  }
}

void ProgressReporter::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return;
  stopped_ = true;
  wake_.notify_all();
  if (tty_) {
    if (open_) std::fputc('\n', stderr);
    open_ = false;
  } else if (total_ > 0) {
    spdlog::info("{}", line());
  }
}

}  // namespace slmq

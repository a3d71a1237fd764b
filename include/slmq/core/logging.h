#pragma once
// Logging goes to stderr through spdlog so that stdout carries only command output.
#include <spdlog/spdlog.h>

#include <string_view>

namespace slmq {

// level: "trace" | "debug" | "info" | "warn" | "error" | "off". Throws ConfigError otherwise.
void init_logging(std::string_view level);

}  // namespace slmq

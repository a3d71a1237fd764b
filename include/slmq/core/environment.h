#pragma once
// Where and with what a result was produced: recorded in every result file.
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

namespace slmq {

// {slmquant_commit, compiler, torch, os, hostname, cpu_model, cpu_threads, device, gpu?,
// timestamp_utc}
nlohmann::json environment_info(c10::Device device);

// Current UTC time as ISO 8601 ("2026-11-22T15:04:05Z").
std::string utc_timestamp();

}  // namespace slmq

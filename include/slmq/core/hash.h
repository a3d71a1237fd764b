#pragma once
// A stable 64-bit FNV-1a hash: the same bytes give the same value on every machine and build, so
// it can name configurations and fingerprint inputs in files that outlive a process.
#include <cstdint>
#include <string>
#include <string_view>

namespace slmq {

inline constexpr uint64_t kFnv1aSeed = 1469598103934665603ULL;

// Continues hashing `bytes` from `state` (start with kFnv1aSeed).
uint64_t fnv1a64(std::string_view bytes, uint64_t state = kFnv1aSeed);

// 16 lowercase hex digits.
std::string hex64(uint64_t value);

}  // namespace slmq

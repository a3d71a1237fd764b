#include "slmq/core/hash.h"

#include <cstdio>

namespace slmq {

uint64_t fnv1a64(std::string_view bytes, uint64_t state) {
  for (unsigned char ch : bytes) {
    state ^= ch;
    state *= 1099511628211ULL;
  }
  return state;
}

std::string hex64(uint64_t value) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace slmq

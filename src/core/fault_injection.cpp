#include "slmq/core/fault_injection.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace slmq {

void fault_point(const char* name) {
  const char* wanted = std::getenv("SLMQ_FAULT_PAUSE");
  if (wanted == nullptr || std::strcmp(wanted, name) != 0) return;
  std::fprintf(stderr, "slmquant: paused at %s\n", name);
  std::fflush(stderr);
  for (;;) ::pause();  // until a signal ends the process
}

bool injected_disk_full(const std::filesystem::path& path) {
  const char* text = std::getenv("SLMQ_FAULT_FULL_DISK");
  if (text == nullptr || *text == '\0' || path.string().find(text) == std::string::npos)
    return false;
  errno = ENOSPC;
  return true;
}

}  // namespace slmq

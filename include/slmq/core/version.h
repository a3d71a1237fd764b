#pragma once
// Build identity, generated at build time (cmake/WriteVersion.cmake).
namespace slmq {
const char* git_commit();           // short hash, "-dirty" when tracked files were modified
const char* torch_build_version();  // torch version the binary was built against
}  // namespace slmq

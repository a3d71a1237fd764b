# Machines without a package registry (the GPU test machines) build against Debian packages that
# scripts/fetch_offline_deps.sh unpacked into .deps/root on a connected machine.
set(SLMQ_OFFLINE_ROOT ${CMAKE_CURRENT_SOURCE_DIR}/.deps/root)
if(EXISTS ${SLMQ_OFFLINE_ROOT}/usr)
  message(STATUS "slmquant: using offline dependencies from ${SLMQ_OFFLINE_ROOT}")
  list(APPEND CMAKE_PREFIX_PATH ${SLMQ_OFFLINE_ROOT}/usr ${SLMQ_OFFLINE_ROOT}/usr/lib/x86_64-linux-gnu/cmake)
  set(ENV{PKG_CONFIG_PATH}
      "${SLMQ_OFFLINE_ROOT}/usr/lib/x86_64-linux-gnu/pkgconfig:${SLMQ_OFFLINE_ROOT}/usr/share/pkgconfig:$ENV{PKG_CONFIG_PATH}")
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
  set(CMAKE_BUILD_RPATH ${SLMQ_OFFLINE_ROOT}/usr/lib/x86_64-linux-gnu)
endif()

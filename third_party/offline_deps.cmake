# Machines without a package registry (the GPU test machines) build against Debian packages that
# scripts/fetch_offline_deps.sh unpacked into .deps/root on a connected machine.
set(SLMQ_OFFLINE_ROOT ${CMAKE_CURRENT_SOURCE_DIR}/.deps/root)
if(EXISTS ${SLMQ_OFFLINE_ROOT}/usr)
  message(STATUS "slmquant: using offline dependencies from ${SLMQ_OFFLINE_ROOT}")
  set(_slmq_multiarch ${SLMQ_OFFLINE_ROOT}/usr/lib/x86_64-linux-gnu)
  list(APPEND CMAKE_PREFIX_PATH ${SLMQ_OFFLINE_ROOT}/usr ${_slmq_multiarch}/cmake)
  if(EXISTS ${SLMQ_OFFLINE_ROOT}/usr/bin/pkgconf)
    set(PKG_CONFIG_EXECUTABLE ${SLMQ_OFFLINE_ROOT}/usr/bin/pkgconf CACHE FILEPATH "" FORCE)
  endif()
  # The .pc files say prefix=/usr; the sysroot makes pkg-config prepend the unpack folder.
  set(ENV{PKG_CONFIG_LIBDIR} "${_slmq_multiarch}/pkgconfig:${SLMQ_OFFLINE_ROOT}/usr/share/pkgconfig")
  set(ENV{PKG_CONFIG_SYSROOT_DIR} ${SLMQ_OFFLINE_ROOT})
  list(APPEND CMAKE_BUILD_RPATH ${_slmq_multiarch})
  list(APPEND CMAKE_INCLUDE_PATH ${SLMQ_OFFLINE_ROOT}/usr/include)
  list(APPEND CMAKE_LIBRARY_PATH ${_slmq_multiarch})
endif()

# The commit is baked into the binary so every result file names the code that produced it. The
# version file is regenerated on every build but only rewritten when the commit changes.
set(SLMQ_VERSION_CPP ${CMAKE_BINARY_DIR}/generated/version.cpp)
add_custom_target(slmq_git_version
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DOUTPUT=${SLMQ_VERSION_CPP}
          -DTORCH_VERSION=${SLMQ_TORCH_VERSION} -P ${CMAKE_SOURCE_DIR}/cmake/WriteVersion.cmake
  BYPRODUCTS ${SLMQ_VERSION_CPP}
  COMMENT "slmquant: recording git commit")

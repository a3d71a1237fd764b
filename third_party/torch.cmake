# libtorch comes from the Python torch package: SLMQ_PYTHON (default: the project venv, else python3).
if(NOT SLMQ_PYTHON)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/.venv/bin/python)
    set(SLMQ_PYTHON ${CMAKE_CURRENT_SOURCE_DIR}/.venv/bin/python)
  else()
    find_program(SLMQ_PYTHON NAMES python3 REQUIRED)
  endif()
endif()
execute_process(
  COMMAND ${SLMQ_PYTHON} -c "import torch, sys; sys.stdout.write(torch.utils.cmake_prefix_path + ';' + torch.__version__ + ';' + str(int(torch.version.cuda is not None)))"
  OUTPUT_VARIABLE _slmq_torch_info RESULT_VARIABLE _slmq_torch_rc)
if(NOT _slmq_torch_rc EQUAL 0)
  message(FATAL_ERROR "slmquant: '${SLMQ_PYTHON}' cannot import torch; run scripts/setup.sh or pass -DSLMQ_PYTHON=")
endif()
list(GET _slmq_torch_info 0 SLMQ_TORCH_PREFIX)
list(GET _slmq_torch_info 1 SLMQ_TORCH_VERSION)
list(GET _slmq_torch_info 2 SLMQ_TORCH_HAS_CUDA)
list(APPEND CMAKE_PREFIX_PATH ${SLMQ_TORCH_PREFIX})
message(STATUS "slmquant: torch ${SLMQ_TORCH_VERSION} (CUDA build: ${SLMQ_TORCH_HAS_CUDA}) from ${SLMQ_PYTHON}")

# Torch's CMake config of a CUDA build looks for the CUDA toolkit; without nvcc it still links the
# CPU parts when told to skip CUDA.
find_program(SLMQ_NVCC nvcc PATHS /usr/local/cuda/bin)
if(SLMQ_TORCH_HAS_CUDA AND NOT SLMQ_NVCC)
  set(USE_CUDA OFF)
endif()
# Naming the architectures keeps torch's CMake from probing for a GPU, which fails on GPU-less hosts.
if(NOT TORCH_CUDA_ARCH_LIST)
  set(TORCH_CUDA_ARCH_LIST "8.0;9.0")
endif()
if(SLMQ_NVCC AND NOT CMAKE_CUDA_COMPILER)
  set(CMAKE_CUDA_COMPILER ${SLMQ_NVCC})
endif()
find_package(Torch REQUIRED)

# The torch wheel ships fmt 12 headers in its include folder; Debian's spdlog needs its own fmt 9.
# Consumers see torch's headers through a mirror of that folder without fmt/ (torch's public
# ATen headers do not include fmt).
set(_slmq_torch_include ${TORCH_INSTALL_PREFIX}/include)
set(_slmq_torch_mirror ${CMAKE_BINARY_DIR}/torch-include)
file(GLOB _slmq_entries RELATIVE ${_slmq_torch_include} ${_slmq_torch_include}/*)
foreach(_entry IN LISTS _slmq_entries)
  if(NOT _entry STREQUAL "fmt" AND NOT EXISTS ${_slmq_torch_mirror}/${_entry})
    file(MAKE_DIRECTORY ${_slmq_torch_mirror})
    file(CREATE_LINK ${_slmq_torch_include}/${_entry} ${_slmq_torch_mirror}/${_entry} SYMBOLIC)
  endif()
endforeach()
foreach(_target c10 c10_cuda torch_cpu torch_cuda torch torch_library)
  if(TARGET ${_target})
    get_target_property(_dirs ${_target} INTERFACE_INCLUDE_DIRECTORIES)
    if(_dirs)
      list(TRANSFORM _dirs REPLACE "^${_slmq_torch_include}$" ${_slmq_torch_mirror})
      set_target_properties(${_target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_dirs}")
    endif()
  endif()
endforeach()
list(TRANSFORM TORCH_INCLUDE_DIRS REPLACE "^${_slmq_torch_include}$" ${_slmq_torch_mirror})

# libtorch.so exports copies of some libstdc++ symbols (std::filesystem among them) that crash when
# they win symbol lookup. Naming libstdc++ first in every executable's NEEDED list makes the system
# library win. Applied through slmquant_core's INTERFACE link options.
set(SLMQ_STDCXX_FIRST_LINK_OPTION "LINKER:--push-state,--no-as-needed,-lstdc++,--pop-state")

# WARREN_SANITIZE=address,undefined (or thread): every target of the build —
# the warren binary, libwarren-asio.so, every bundled plugin, the test
# binaries and tools — is compiled and linked with -fsanitize=<list>.
#
# Plugins are MODULE libraries dlopen()ed by a sanitized binary: the runtime
# (GCC's shared libasan/libubsan/libtsan) is loaded by the executable, and each
# plugin linked with the same -fsanitize list resolves its hooks there. An
# unsanitized plugin still loads (it is simply not checked).
#
# The flags are also part of warren::sdk's exported usage requirements
# (warren_sanitize_usage below): an out-of-tree plugin or conformance binary
# built against a sanitized install links the same runtime (the installed
# conformance archive needs it) and is checked too.
#
# Runtime options (exit code, leak checking, suppressions) are not set here but
# by scripts/sanitize-env.sh, which scripts/test-sanitize.sh sources.
set(WARREN_SANITIZE "" CACHE STRING
    "Sanitizers for the whole build: address,undefined or thread (empty: none)")

if(WARREN_SANITIZE)
  string(REPLACE "," ";" _warren_sanitizers "${WARREN_SANITIZE}")
  foreach(s IN LISTS _warren_sanitizers)
    if(NOT s MATCHES "^(address|undefined|thread|leak)$")
      message(FATAL_ERROR "WARREN_SANITIZE: '${s}' is not one of address, undefined, thread, leak")
    endif()
  endforeach()
  if("thread" IN_LIST _warren_sanitizers AND "address" IN_LIST _warren_sanitizers)
    message(FATAL_ERROR "WARREN_SANITIZE: thread and address cannot be combined")
  endif()
  set(_warren_sanitize_flags -fsanitize=${WARREN_SANITIZE} -fno-omit-frame-pointer)
  if("undefined" IN_LIST _warren_sanitizers)
    # A finding stops the process (non-zero exit) instead of printing and going on.
    list(APPEND _warren_sanitize_flags -fno-sanitize-recover=undefined)
  endif()
  add_compile_options(${_warren_sanitize_flags})
  # GCC 12 with -fsanitize: false -Wmaybe-uninitialized in libstdc++'s own
  # headers (<regex>'s _State move, std::function), which -Werror turns into
  # a failed build; the normal build keeps the warning.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-maybe-uninitialized)
  endif()
  # GCC 12 warns that ThreadSanitizer does not model atomic_thread_fence, which
  # Asio's handler invocation uses (detail/std_fenced_block.hpp): Asio orders
  # a handler's memory by its scheduler's mutex, which TSan does see.
  if("thread" IN_LIST _warren_sanitizers AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    add_compile_options(-Wno-tsan)
  endif()
  add_link_options(${_warren_sanitize_flags})
  message(STATUS "warren: sanitizers ${WARREN_SANITIZE}")
endif()

# warren_sanitize_usage(TARGET): consumers of TARGET, in the tree and after
# install, compile and link with the same -fsanitize flags.
function(warren_sanitize_usage target)
  if(WARREN_SANITIZE)
    target_compile_options(${target} INTERFACE ${_warren_sanitize_flags})
    target_link_options(${target} INTERFACE ${_warren_sanitize_flags})
  endif()
endfunction()

# Run by CTest (see tests/CMakeLists.txt): fails when the Catch2 cases CTest
# registered for a test binary differ from what that binary lists with
# --list-test-names-only. A name with ';' is split by catch_discover_tests into
# fragments that match no case and still "pass"; this check is what makes
# ctest's count of tests run true.
#
#   cmake -DBUILD_DIR=<build> -DBINARIES=<file of "NAME<TAB>PATH" lines> -P registered_tests_check.cmake

cmake_minimum_required(VERSION 3.20)  # string(JSON)

# CMake lists are ';'-separated (and ignore a ';' inside '[' ']'), and ';' is
# exactly what breaks registration: names are carried with these swapped for
# markers, and shown with ';' as the marker's text.
set(semicolon "<semicolon>")
macro(encode_name var)
  string(REPLACE ";" "${semicolon}" ${var} "${${var}}")
  string(REPLACE "[" "<lb>" ${var} "${${var}}")
  string(REPLACE "]" "<rb>" ${var} "${${var}}")
endmacro()

execute_process(COMMAND "${CMAKE_CTEST_COMMAND}" --test-dir "${BUILD_DIR}" --show-only=json-v1
                OUTPUT_VARIABLE json RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ctest --show-only=json-v1 failed (${rc})")
endif()
string(JSON test_count LENGTH "${json}" tests)
set(registered "")
if(test_count GREATER 0)
  math(EXPR last "${test_count} - 1")
  foreach(i RANGE ${last})
    string(JSON name GET "${json}" tests ${i} name)
    encode_name(name)
    list(APPEND registered "${name}")
  endforeach()
endif()

file(STRINGS "${BINARIES}" binaries)
set(problems 0)
set(checked 0)
foreach(entry IN LISTS binaries)
  string(REPLACE "\t" ";" entry "${entry}")
  list(GET entry 0 target)
  list(GET entry 1 binary)
  execute_process(COMMAND "${binary}" --list-test-names-only OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
  if(NOT rc MATCHES "^[0-9]+$")  # Catch2 2 exits with the number of tests listed
    message(SEND_ERROR "${target}: cannot list its tests: ${rc}")
    math(EXPR problems "${problems} + 1")
    continue()
  endif()
  encode_name(listing)
  string(REPLACE "\n" ";" listing "${listing}")
  set(listed "")
  foreach(name IN LISTS listing)
    if(NOT name STREQUAL "")
      list(APPEND listed "${target}: ${name}")
    endif()
  endforeach()

  # TEST_PREFIX "NAME: " reaches CTest as "NAME:" (the space is lost on the
  # way), so a registered name is "NAME:" and the case name, a space optional.
  set(mine "")
  foreach(name IN LISTS registered)
    if(name MATCHES "^${target}: ?(.*)$")
      list(APPEND mine "${target}: ${CMAKE_MATCH_1}")
    endif()
  endforeach()

  list(LENGTH listed listed_count)
  list(LENGTH mine registered_count)
  set(missing ${listed})
  if(mine)
    list(REMOVE_ITEM missing ${mine})
  endif()
  set(extra ${mine})
  if(listed)
    list(REMOVE_ITEM extra ${listed})
  endif()
  if(NOT listed_count EQUAL registered_count OR missing OR extra)
    math(EXPR problems "${problems} + 1")
    set(text "${target}: the binary lists ${listed_count} test cases, CTest registered ${registered_count}")
    foreach(name IN LISTS missing)
      string(APPEND text "\n  listed but not registered: '${name}'")
    endforeach()
    foreach(name IN LISTS extra)
      string(APPEND text "\n  registered but not a test case: '${name}'")
    endforeach()
    if(text MATCHES "${semicolon}")
      string(APPEND text "\n  (catch_discover_tests splits a name at ';': keep ';' out of test names)")
    endif()
    string(REPLACE "${semicolon}" ";" text "${text}")
    string(REPLACE "<lb>" "[" text "${text}")
    string(REPLACE "<rb>" "]" text "${text}")
    message(SEND_ERROR "${text}")
  endif()
  math(EXPR checked "${checked} + 1")
endforeach()

if(checked EQUAL 0 AND problems EQUAL 0)
  message(FATAL_ERROR "no test binaries were listed in ${BINARIES}")
endif()
if(problems GREATER 0)
  message(FATAL_ERROR "${problems} test binaries are registered wrongly; ctest's count would not be what runs")
endif()
message(STATUS "${checked} test binaries: every Catch2 test case is registered with CTest once")

# Helpers shared by every module, test folder and benchmark.

add_library(strata_options INTERFACE)
target_compile_options(strata_options INTERFACE -Wall -Wextra)
if(STRATA_WERROR)
  target_compile_options(strata_options INTERFACE -Werror)
endif()
if(STRATA_SANITIZE)
  target_compile_options(strata_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(strata_options INTERFACE -fsanitize=address,undefined)
endif()
target_include_directories(strata_options INTERFACE ${PROJECT_SOURCE_DIR}/src)
# mimalloc replaces malloc in every executable (linked ahead of libc, it interposes malloc/free):
# parsing a dbt project allocates millions of small strings and JSON values, and glibc's malloc
# spent a quarter of transform_bench's time in malloc/free (consolidating fast bins). Not under the
# sanitizers, which bring their own allocator.
if(NOT STRATA_SANITIZE)
  target_link_libraries(strata_options INTERFACE mimalloc)
endif()

# strata_module(NAME DEPS a b ...): library strata_<NAME> from every .cpp under src/<NAME>/.
function(strata_module name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cpp)
  if(NOT sources)
    # A module whose first sources are still being written: header-only until then.
    add_library(strata_${name} INTERFACE)
    target_link_libraries(strata_${name} INTERFACE strata_options ${ARG_DEPS})
    return()
  endif()
  add_library(strata_${name} STATIC ${sources})
  target_link_libraries(strata_${name} PUBLIC strata_options ${ARG_DEPS})
endfunction()

# strata_test_binary(NAME LABEL label SOURCES ... DEPS ...): one GoogleTest executable, one CTest entry.
function(strata_test_binary name)
  cmake_parse_arguments(ARG "" "LABEL;TIMEOUT" "SOURCES;DEPS" ${ARGN})
  if(NOT ARG_SOURCES)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE strata_options ${ARG_DEPS} GTest::gtest GTest::gmock Threads::Threads)
  target_compile_definitions(${name} PRIVATE
    STRATA_SOURCE_DIR="${PROJECT_SOURCE_DIR}" STRATA_BINARY_DIR="${PROJECT_BINARY_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 1200)
  endif()
  set_tests_properties(${name} PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT})
endfunction()

# strata_module_tests(MODULE DEPS ...): tests/<MODULE>/*_test.cpp -> label unit,
# *_itest.cpp -> label integration, *_dtest.cpp -> label differential (against a reference oracle).
# All link the test support library.
function(strata_module_tests module)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB_RECURSE unit CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cpp)
  file(GLOB_RECURSE integ CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_itest.cpp)
  strata_test_binary(${module}_unit_tests LABEL unit SOURCES ${unit} DEPS ${ARG_DEPS} strata_test_support GTest::gtest_main)
  file(GLOB_RECURSE diff CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_dtest.cpp)
  strata_test_binary(${module}_integration_tests LABEL integration SOURCES ${integ} DEPS ${ARG_DEPS} strata_test_support GTest::gtest_main)
  strata_test_binary(${module}_differential_tests LABEL differential SOURCES ${diff} DEPS ${ARG_DEPS} strata_test_support GTest::gtest_main)
endfunction()

# Third-party dependencies: Debian packages, and DuckDB unpacked by scripts/setup into .deps/.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(yaml-cpp REQUIRED)
pkg_check_modules(libyaml REQUIRED IMPORTED_TARGET yaml-0.1)
if(NOT STRATA_SANITIZE)
  find_package(mimalloc CONFIG REQUIRED)
endif()
find_package(nlohmann_json REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(fmt REQUIRED)
find_package(GTest REQUIRED)
find_package(CURL REQUIRED)
find_package(OpenSSL REQUIRED)
find_path(HTTPLIB_INCLUDE_DIR httplib.h REQUIRED)
find_library(DATE_TZ_LIBRARY date-tz REQUIRED)
find_path(DATE_INCLUDE_DIR date/tz.h REQUIRED)

set(STRATA_DUCKDB_DIR ${CMAKE_CURRENT_SOURCE_DIR}/.deps/duckdb)
if(NOT EXISTS ${STRATA_DUCKDB_DIR}/lib/libduckdb.so OR NOT EXISTS ${STRATA_DUCKDB_DIR}/include/duckdb.h)
  message(FATAL_ERROR "DuckDB is missing from .deps/duckdb: run scripts/setup")
endif()
add_library(duckdb SHARED IMPORTED GLOBAL)
set_target_properties(duckdb PROPERTIES
  IMPORTED_LOCATION ${STRATA_DUCKDB_DIR}/lib/libduckdb.so
  IMPORTED_NO_SONAME TRUE)
target_include_directories(duckdb SYSTEM INTERFACE ${STRATA_DUCKDB_DIR}/include)
set(CMAKE_BUILD_RPATH ${STRATA_DUCKDB_DIR}/lib)

add_library(date_tz INTERFACE)
target_link_libraries(date_tz INTERFACE ${DATE_TZ_LIBRARY})
target_include_directories(date_tz SYSTEM INTERFACE ${DATE_INCLUDE_DIR})
target_compile_definitions(date_tz INTERFACE USE_OS_TZDB=1)

find_library(STRATA_HTTPLIB_LIBRARY cpp-httplib REQUIRED)
add_library(httplib_headers INTERFACE)
target_include_directories(httplib_headers SYSTEM INTERFACE ${HTTPLIB_INCLUDE_DIR})
target_link_libraries(httplib_headers INTERFACE ${STRATA_HTTPLIB_LIBRARY} OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
# Debian builds libcpp-httplib with these; every user of its header must define them too (the
# request/response layouts depend on them).
target_compile_definitions(httplib_headers INTERFACE CPPHTTPLIB_OPENSSL_SUPPORT CPPHTTPLIB_ZLIB_SUPPORT
  CPPHTTPLIB_BROTLI_SUPPORT)

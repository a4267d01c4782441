# Runs the browser tests: installs playwright-core from the lock file when node_modules is missing
# (scripts/setup normally did), then runs COMMAND (a |-separated list). Fails with its exit code.
if(NOT EXISTS ${DIR}/node_modules/playwright-core/package.json)
  execute_process(COMMAND ${NPM} ci --silent --no-audit --no-fund WORKING_DIRECTORY ${DIR} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tests/ui: `npm ci` failed (${rc}); run scripts/setup")
  endif()
endif()
string(REPLACE "|" ";" argv "${COMMAND}")
execute_process(COMMAND ${argv} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "tests/ui: browser tests failed (exit ${rc})")
endif()

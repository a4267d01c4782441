# Installs ui/'s npm tool-chain from the committed lock file when it is missing (scripts/setup
# normally did it already). Usage: cmake -DNPM=… -DUI_DIR=… -P npm_ci.cmake
if(NOT EXISTS ${UI_DIR}/node_modules/.bin/tsc OR NOT EXISTS ${UI_DIR}/node_modules/.bin/esbuild)
  message(STATUS "ui: npm ci (node_modules missing)")
  execute_process(COMMAND ${NPM} ci --silent --no-audit --no-fund
    WORKING_DIRECTORY ${UI_DIR} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "ui: `npm ci` in ${UI_DIR} failed (${rc}); check the npm registry is reachable or run scripts/setup")
  endif()
endif()

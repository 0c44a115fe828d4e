# cmake -D PROGRAM=exe [-D ARGS=a;b] -D EXPECTED=file -D ACTUAL=file -P compare_output.cmake
#
# Runs PROGRAM with ARGS (a CMake list), saves its stdout to ACTUAL, and fails
# unless the program exits 0 within 10 seconds (the promise every step's
# --demo makes) and ACTUAL equals EXPECTED (line endings ignored). stderr
# passes through.
foreach(var PROGRAM EXPECTED ACTUAL)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "compare_output.cmake: -D ${var}=... is required")
  endif()
endforeach()

execute_process(COMMAND "${PROGRAM}" ${ARGS}
  OUTPUT_FILE "${ACTUAL}"
  TIMEOUT 10
  RESULT_VARIABLE exit_code)
if(NOT exit_code STREQUAL "0")
  file(READ "${ACTUAL}" actual_text)
  message(FATAL_ERROR "${PROGRAM} exited with '${exit_code}'. Its output:\n${actual_text}")
endif()

execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files --ignore-eol "${EXPECTED}" "${ACTUAL}"
  RESULT_VARIABLE differ)
if(differ)
  find_program(DIFF diff)
  if(DIFF)
    execute_process(COMMAND "${DIFF}" -u "${EXPECTED}" "${ACTUAL}")
  endif()
  message(FATAL_ERROR "stdout of ${PROGRAM} differs from ${EXPECTED} (saved in ${ACTUAL})")
endif()
message(STATUS "output matches ${EXPECTED}")

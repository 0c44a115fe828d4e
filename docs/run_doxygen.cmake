# cmake -D DOXYGEN=exe -D DOXYFILE=file -D WARNINGS=file
#       -D README=README.md -D MAINPAGE=file -D SOURCE_DIR=dir -P run_doxygen.cmake
#
# Builds the API reference and fails if Doxygen warned at all, printing the
# warnings (Doxygen writes them to WARNINGS, the Doxyfile's WARN_LOGFILE).
# The docs target and the docs.doxygen test both run this.
#
# The front page is a copy of the README (MAINPAGE) whose links to Markdown
# files and folders point into the source tree: written for a repository
# browser, they would otherwise be broken in the HTML, and Doxygen takes a
# link to a .md file for a reference to a page of its own.
foreach(var DOXYGEN DOXYFILE WARNINGS README MAINPAGE SOURCE_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_doxygen.cmake: -D ${var}=... is required")
  endif()
endforeach()

file(READ "${README}" text)
string(REGEX REPLACE "\\]\\(([^:#)]*(\\.md|/))(#[^)]*|)\\)"
  "](file://${SOURCE_DIR}/\\1\\3)" text "${text}")
file(WRITE "${MAINPAGE}" "${text}")

file(REMOVE "${WARNINGS}")
execute_process(COMMAND "${DOXYGEN}" "${DOXYFILE}" RESULT_VARIABLE exit_code)
if(NOT exit_code STREQUAL "0")
  message(FATAL_ERROR "doxygen ${DOXYFILE} exited with '${exit_code}'")
endif()
if(EXISTS "${WARNINGS}")
  file(READ "${WARNINGS}" warnings)
  if(NOT warnings STREQUAL "")
    message(FATAL_ERROR "Doxygen warned (fix the comment, or the Doxyfile if the "
      "warning is noise):\n${warnings}")
  endif()
endif()
cmake_path(GET DOXYFILE PARENT_PATH out)
message(STATUS "API reference: ${out}/html/index.html")

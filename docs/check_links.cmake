# cmake -D ROOT=repository -P check_links.cmake
#
# Checks the Markdown of the repository (every *.md outside build trees and
# hidden folders):
#   - each relative link or image, [text](path) or ![text](path), names a file
#     or folder that exists (a #fragment is ignored; http(s):, mailto: and
#     other schemes, and pure #anchors, are not checked);
#   - each picture in docs/images/ is shown by some page (no orphans).
# Fails listing every problem as file:line. Links inside code (fenced blocks,
# `spans`) are not links and are skipped.
cmake_minimum_required(VERSION 3.25)  # a script's policies: IN_LIST, cmake_path

# Pictures that tutorials/make_images.sh has not made yet, for a step written
# before its screenshot, are only reported. Once a picture exists it is
# checked like any other; drop it from this list then.
set(pending_images "")

if(NOT DEFINED ROOT)
  message(FATAL_ERROR "check_links.cmake: -D ROOT=... is required")
endif()
cmake_path(ABSOLUTE_PATH ROOT NORMALIZE)
string(REGEX REPLACE "/$" "" ROOT "${ROOT}")

# The Markdown files, relative to ROOT.
file(GLOB entries LIST_DIRECTORIES true RELATIVE "${ROOT}" "${ROOT}/*")
set(pages "")
foreach(entry IN LISTS entries)
  if(entry MATCHES "^(build|\\.)")  # build/, build-*/, .git/ ...
    continue()
  elseif(IS_DIRECTORY "${ROOT}/${entry}")
    file(GLOB_RECURSE found RELATIVE "${ROOT}" "${ROOT}/${entry}/*.md")
    list(FILTER found EXCLUDE REGEX "(^|/)(build[^/]*|_deps|CMakeFiles|\\.[^/]*)/")
    list(APPEND pages ${found})
  elseif(entry MATCHES "\\.md$")
    list(APPEND pages "${entry}")
  endif()
endforeach()
list(SORT pages)

set(problems "")
set(pending "")
set(shown "")  # docs/images/ pictures some page shows
foreach(page IN LISTS pages)
  cmake_path(GET page PARENT_PATH page_dir)
  file(READ "${ROOT}/${page}" text)
  # One list element per line: CMake lists split at ';' and do not split
  # inside [ ], so both are swapped for placeholders first.
  string(REPLACE ";" "@SEMI@" text "${text}")
  string(REPLACE "[" "@LB@" text "${text}")
  string(REPLACE "]" "@RB@" text "${text}")
  string(REPLACE "\n" ";" lines "${text}")
  set(number 0)
  set(in_fence FALSE)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    if(line MATCHES "^[ \t]*(```|~~~)")
      if(in_fence)
        set(in_fence FALSE)
      else()
        set(in_fence TRUE)
      endif()
      continue()
    elseif(in_fence)
      continue()
    endif()
    string(REGEX REPLACE "`[^`]*`" "" line "${line}")
    # The target of every "](...)" on the line: a link's text may start on
    # an earlier line, its target never does.
    string(REGEX MATCHALL "@RB@\\([^)]*\\)" links "${line}")
    foreach(link IN LISTS links)
      string(REGEX REPLACE "^@RB@\\(<?([^ >)]*)>?( \"[^\"]*\")?\\)$" "\\1" target "${link}")
      if(target STREQUAL link OR target STREQUAL "" OR target MATCHES "^#"
          OR target MATCHES "^[A-Za-z][A-Za-z0-9+.-]*:")
        continue()  # not a link, an anchor on the same page, or a URL
      endif()
      string(REGEX REPLACE "[#?].*$" "" path "${target}")
      if(path MATCHES "^/")
        set(path "${ROOT}${path}")
      else()
        set(path "${ROOT}/${page_dir}/${path}")
      endif()
      string(REPLACE "@SEMI@" ";" path "${path}")
      cmake_path(NORMAL_PATH path)
      string(REGEX REPLACE "(.)/$" "\\1" path "${path}")
      file(RELATIVE_PATH relative "${ROOT}" "${path}")
      if(relative MATCHES "^docs/images/([^/]+)$")
        list(APPEND shown "${CMAKE_MATCH_1}")
        if(NOT EXISTS "${path}" AND CMAKE_MATCH_1 IN_LIST pending_images)
          list(APPEND pending "${page}:${number}: ${target}")
          continue()
        endif()
      endif()
      if(NOT EXISTS "${path}")
        list(APPEND problems "${page}:${number}: broken link: ${target}")
      endif()
    endforeach()
  endforeach()
endforeach()

file(GLOB pictures RELATIVE "${ROOT}/docs/images" "${ROOT}/docs/images/*")
foreach(picture IN LISTS pictures)
  if(NOT picture IN_LIST shown)
    list(APPEND problems "docs/images/${picture}:1: shown by no page (an orphan)")
  endif()
endforeach()

list(LENGTH pages page_count)
if(pending)
  list(JOIN pending "\n  " pending_text)
  string(REPLACE "@SEMI@" ";" pending_text "${pending_text}")
  message(STATUS "Pictures not made yet (tutorials/make_images.sh makes them):\n  ${pending_text}")
endif()
if(problems)
  list(LENGTH problems problem_count)
  list(JOIN problems "\n" problem_text)
  string(REPLACE "@SEMI@" ";" problem_text "${problem_text}")
  message(FATAL_ERROR "${problem_count} problem(s) in the Markdown:\n${problem_text}")
endif()
message(STATUS "Links in ${page_count} Markdown files resolve; every picture in docs/images is shown")

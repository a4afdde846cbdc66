# Runs one example program (or the tour) for CTest, with TMPDIR set to a fresh
# empty directory, and fails if the program fails or leaves anything in it:
# the check that an example cleans up does not rely on the example itself.
#   cmake -DEXE=<program> -DSCRATCH=<directory> -P run_example.cmake
if(NOT EXE OR NOT SCRATCH)
  message(FATAL_ERROR "usage: cmake -DEXE=<program> -DSCRATCH=<dir> -P run_example.cmake")
endif()

file(REMOVE_RECURSE "${SCRATCH}")
file(MAKE_DIRECTORY "${SCRATCH}")
execute_process(COMMAND "${CMAKE_COMMAND}" -E env "TMPDIR=${SCRATCH}" "${EXE}"
                RESULT_VARIABLE rc)
file(GLOB_RECURSE left LIST_DIRECTORIES true "${SCRATCH}/*")
file(REMOVE_RECURSE "${SCRATCH}")

if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${EXE} failed: ${rc}")
endif()
if(left)
  message(FATAL_ERROR "${EXE} left behind in TMPDIR: ${left}")
endif()

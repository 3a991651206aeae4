# Run by ctest when it starts (TEST_INCLUDE_FILES of tests/e2e; the variables come from the
# generated e2e_modes.cmake): registers each kill-and-resume test once per mode of the matrix
# that the built ckpt-run supports, as e2e.NAME.MODE with CKPT_E2E_MODE=MODE. A mode whose
# option ckpt-run does not have is not registered at all (ckpt_harness.available_modes). If
# the modes cannot be listed (ckpt-run not built), one failing test says so.
execute_process(COMMAND ${CKPT_E2E_PYTHON} ${CKPT_E2E_SOURCE}/ckpt_harness.py --list-modes ${CKPT_E2E_RUN}
  OUTPUT_VARIABLE modes ERROR_VARIABLE err RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0 OR modes STREQUAL "")
  add_test(e2e.modes ${CKPT_E2E_PYTHON} -c "import sys; sys.exit('cannot list the test matrix modes of ${CKPT_E2E_RUN}: rc ${rc}')")
  set_tests_properties(e2e.modes PROPERTIES LABELS e2e)
  return()
endif()
string(REPLACE "\n" ";" modes "${modes}")
foreach(t ${CKPT_E2E_MODE_TESTS})
  foreach(m ${modes})
    add_test(e2e.${t}.${m} ${CKPT_E2E_PYTHON} ${CKPT_E2E_SOURCE}/test_${t}.py
      --ckpt-run ${CKPT_E2E_RUN} --programs ${CKPT_E2E_PROGRAMS})
    set_tests_properties(e2e.${t}.${m} PROPERTIES
      TIMEOUT 240
      LABELS "e2e;e2e-${m}"
      ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1;CKPT_E2E_MODE=${m}")
  endforeach()
endforeach()

# PpoolMpiTest.cmake: ppool_mpi_test(<name> <ranks> <target> [PREFLAGS flags...] [ARGS args...]) runs a
# test under FindMPI's launcher.
# The launcher's flags come from FindMPI (MPIEXEC_NUMPROC_FLAG, MPIEXEC_PREFLAGS, ...); running as root in a
# container and more ranks than cores are allowed through the environment, never built into the library.
# Without the MPI transport the test is still listed, and skips (77).
function(ppool_mpi_test name ranks target)
  cmake_parse_arguments(T "" "" "PREFLAGS;ARGS" ${ARGN})
  if(PPOOL_HAVE_MPI AND MPIEXEC_EXECUTABLE)
    add_test(NAME ${name}
             COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${ranks} ${MPIEXEC_PREFLAGS} ${T_PREFLAGS}
                     $<TARGET_FILE:${target}> ${MPIEXEC_POSTFLAGS} ${T_ARGS})
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "OMPI_MCA_rmaps_base_oversubscribe=1")
  else()
    add_test(NAME ${name} COMMAND sh -c "echo 'the MPI transport is not built: skipped'; exit 77")
  endif()
  set_tests_properties(${name} PROPERTIES LABELS mpi TIMEOUT 180 SKIP_RETURN_CODE 77)
endfunction()

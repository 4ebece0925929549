# Fault injection on the lab (tests/faults/faults, docs/reliability.md
# "Faults"): the representative subset, label lab. Each case brings up its
# own 3-node lab in /tmp/certroll-lab-faults and removes it, so the cases
# run after the crlab fixture's lab is gone (DEPENDS lab.down) and take the
# lab alone (RESOURCE_LOCK crlab). The full matrix: make faults.
set(CR_FAULTS_ENV CERTROLL_LAB_DIR=/tmp/certroll-lab-faults
  CR_BIN_DIR=${CR_BIN_DIR} FAULTS_OUT=${CMAKE_BINARY_DIR}/faults)

# cr_faults_case(<case> <timeout>) registers faults.<case>.
function(cr_faults_case name timeout)
  add_test(NAME faults.${name}
    COMMAND ${PROJECT_SOURCE_DIR}/tests/faults/faults ${name})
  set_tests_properties(faults.${name} PROPERTIES LABELS lab
    TIMEOUT ${timeout} SKIP_RETURN_CODE 77 RESOURCE_LOCK crlab
    DEPENDS lab.down ENVIRONMENT "${CR_FAULTS_ENV}")
endfunction()

# certroll SIGKILLed as the journal shows each of the 13 phases of one
# rollout, resumed each time; the last resume completes the run.
cr_faults_case(sigkill_every_phase 900)
# cp2's API server cannot start on its renewed certificate: rolled back,
# uncordoned, the run stops with exit 1 and status says so.
cr_faults_case(component_down 900)
# The agent on cp1 SIGKILLed as cp1 enters renew: rolled back from the
# backup that holds the etcd snapshot; resume completes.
cr_faults_case(agent_renew 900)
# cp2's agent SIGKILLed while idle (cp2 done): cp3's etcd checks reopen
# cp2's session.
cr_faults_case(agent@uncordon 900)
# cp2 cut off for 10 s during cp3's drain: cp3's etcd stops only once cp2
# is back (quorum kept).
cr_faults_case(quorum_wait 900)
# A PDB that blocks cp2's drain past --timeout: cp2 released, run stopped.
cr_faults_case(pdb_timeout 900)

# inventory: the parser and resolver against tests/data/inventory.
cr_unit_test(inventory LIBS cr::cr_inventory)

# The built "certroll inventory" against golden output.
cr_unit_test(inventory_cli LIBS cr::cr_common)
add_dependencies(test_inventory_cli certroll)

# The real ansible-inventory as the oracle for precedence and membership;
# skipped (77) where Ansible is not installed.
cr_unit_test(inventory_ansible LIBS cr::cr_inventory cr::cr_common
  TIMEOUT 300)
set_tests_properties(unit.inventory_ansible PROPERTIES SKIP_RETURN_CODE 77)

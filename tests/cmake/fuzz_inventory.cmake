# libFuzzer targets for the inventory parsers (fuzz preset only); seeds in
# tests/fuzz/corpus/inventory_ini and inventory_yaml. tests/CMakeLists.txt
# defines cr_fuzz_target() after including this file, hence the deferral
# to the end of that directory.
cmake_language(DEFER CALL cr_fuzz_target inventory_ini LIBS cr::cr_inventory)
cmake_language(DEFER CALL cr_fuzz_target inventory_yaml LIBS cr::cr_inventory)

// The Catch2 v2 main of ckpt_unit_tests, alone in its file so that it is compiled once.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

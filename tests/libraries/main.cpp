// The Catch2 v2 main of the libraries' contract tests, alone in its file so it is compiled once.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

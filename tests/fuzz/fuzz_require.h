// What the fuzz targets share: require(), a guarantee of a reader that does not hold, says
// which and stops (a libFuzzer crash).
#pragma once

#include <cstdio>
#include <cstdlib>

#define require(ok) \
    do { \
        if (!(ok)) { \
            std::fprintf(stderr, "%s:%d: reader guarantee broken: %s\n", __FILE__, __LINE__, #ok); \
            std::abort(); \
        } \
    } while (0)

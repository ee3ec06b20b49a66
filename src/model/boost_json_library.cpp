// Boost.JSON's compiled part, built into the daemon instead of loaded from libboost_json.so,
// which cost ~0.27 MB of resident memory for the few functions the daemon calls
// (docs/benchmarks.md, "Overhead"). Boost documents this one-file inclusion as the way to use
// the library without linking it.
#include <boost/json/src.hpp>

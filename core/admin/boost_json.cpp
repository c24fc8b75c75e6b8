// Boost.JSON's definitions, compiled once for every user of warren_admin
// (Debian ships Boost.JSON as headers here; this is its documented
// header-only mode).
#include <boost/json/src.hpp>

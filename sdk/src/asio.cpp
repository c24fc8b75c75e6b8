// The one compiled copy of Boost.Asio's non-template code for warren and
// all of its plugins.
//
// Header-only Asio gives every shared library its own copy of the
// scheduler's thread-local call stack; with hidden visibility those copies
// stay apart, and a socket opened inside a plugin then runs the plugin's
// copy under the binary's io_context::run() and crashes. With
// BOOST_ASIO_SEPARATE_COMPILATION everyone links this library instead.
#include <boost/asio/impl/src.hpp>

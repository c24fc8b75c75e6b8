// The transport a generic conformance binary tests, from what
// warren_add_transport_conformance generated into the binary.
#include "plugin_harness.hpp"

namespace warren::test {

const TransportUnderTest& transport_under_test() {
  static const TransportUnderTest transport{conformance_transport_name(), conformance_transport_datagram()};
  return transport;
}

}  // namespace warren::test

#include "connection_handle.hpp"

namespace warren::quic {

ConnectionHandle::~ConnectionHandle() { connection_->close(sdk::error_code()); }

}  // namespace warren::quic

#include "quic_stream.hpp"

namespace warren::quic {

QuicStream::~QuicStream() { connection_->release(state_); }

}  // namespace warren::quic

#pragma once
// The completion helpers live in the SDK (warren/sdk/completion.hpp), shared
// by every transport; QUIC code names them unqualified.

#include <warren/sdk/completion.hpp>

namespace warren::quic {

using sdk::complete_if_pending;
using sdk::complete_later;
using sdk::store_handler;

}  // namespace warren::quic

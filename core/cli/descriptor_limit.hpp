#pragma once
// The open-file limit, raised before serving. Every public connection holds
// a descriptor on the edge, and each forwarded one another at the connector
// (its backend socket): the common soft default of 1024 would refuse
// connections long before the edge's own limits (max_streams_total, 10,000
// by default) do.

namespace warren::cli {

/// Raises the soft RLIMIT_NOFILE to the hard one (1 Mi when unlimited), as
/// servers such as nginx and haproxy do; logs what it did, or why it could not.
void raise_descriptor_limit();

}  // namespace warren::cli

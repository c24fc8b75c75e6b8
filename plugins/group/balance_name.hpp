#pragma once
// What a user meant by a `balance` word that is not one of ours. People
// arrive from other proxies and write their spelling: HAProxy's `leastconn`
// and `roundrobin`, nginx's `least_conn`, Envoy's `LEAST_REQUEST`; the
// schema's edit-distance suggestion misses those (leastconn is 8 edits from
// least_connections), so the group's reading adds this before it. Pure.

#include <warren/sdk/config.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace warren::group {

/// The words `balance` takes, in the order the reference lists them.
const std::vector<std::string>& balance_words();

/// The word of balance_words() that `written` most likely means: the same
/// word in another case or with other separators ("Least-Connections"), a
/// start of one ("least", "round"), another proxy's name for it (leastconn,
/// least_conn, least_request, rr, static-rr), or one a typo away; nullopt
/// when none is close, or when `written` is already one of them.
std::optional<std::string> balance_meant(std::string_view written);

/// Other proxies' names for the `balance` key itself (HAProxy's `balance`
/// is ours; Envoy's `lb_policy`, Traefik's `strategy`, …).
bool names_balance(std::string_view key);

/// Diagnoses, in `table`, a `balance` value that balance_meant() explains
/// and a key that names_balance() (each with "did you mean" the right
/// spelling), and returns `table` without those entries, so the schema
/// that reads it next does not report them a second time in vaguer words.
sdk::ConfigTable diagnose_balance(const sdk::ConfigTable& table, sdk::Diagnostics& diagnostics);

}  // namespace warren::group

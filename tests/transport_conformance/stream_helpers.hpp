#pragma once
// Coroutines the conformance cases are built from. They take references to
// objects the test case owns and outlive the coroutine.

#include "plugin_harness.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace warren::test {

/// `size` deterministic bytes that differ for every `seed`.
std::vector<std::uint8_t> pattern(std::size_t size, std::uint32_t seed);

/// "" when equal, else where they first differ: readable in a failed CHECK
/// where printing megabytes would not be.
std::string byte_difference(const std::vector<std::uint8_t>& got, const std::vector<std::uint8_t>& expected);

/// Writes every byte; the first error, if any.
awaitable<sdk::error_code> write_all(sdk::ByteStream& stream, std::span<const std::uint8_t> data);

struct ReadResult {
  sdk::error_code error;  ///< success when the stream ended with EOF
  std::vector<std::uint8_t> data;
};
/// Reads until EOF or an error.
awaitable<ReadResult> read_to_end(sdk::ByteStream& stream);

/// Reads everything and writes it back, then half-closes.
awaitable<void> echo(sdk::ByteStreamPtr stream);
/// Accepts streams on `connection` and echoes each until the connection ends.
awaitable<void> serve_echo(sdk::Connection& connection);

struct WriteProgress {
  std::uint64_t written = 0;  ///< bytes whose writes completed
  sdk::error_code error;
};
/// Writes `data` (a multiple of 16 KiB) in 16 KiB pieces, again and again, until an error: a
/// sender that never runs dry. Shares what it uses, so it may outlive the
/// test case's locals while the loop unwinds.
awaitable<void> write_forever(std::shared_ptr<sdk::ByteStream> stream,
                              std::shared_ptr<const std::vector<std::uint8_t>> data,
                              std::shared_ptr<WriteProgress> progress);
/// Sum of `written` over `progress`.
std::uint64_t total_written(const std::vector<std::shared_ptr<WriteProgress>>& progress);

struct EchoResult {
  bool done = false;
  sdk::error_code error;
  std::vector<std::uint8_t> received;
};
/// Opens a stream, sends `data` while reading the echo, half-closes after
/// the last byte and reads to EOF.
awaitable<void> echo_once(sdk::Connection& connection, std::vector<std::uint8_t> data, EchoResult& result);

}  // namespace warren::test

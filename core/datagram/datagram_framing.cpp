#include "core/datagram/datagram_framing.hpp"

#include <algorithm>

namespace warren::core::datagram {

bool encode_datagram(std::span<const std::byte> payload, std::size_t max_datagram, sdk::Datagram& out) {
  if (payload.size() > std::min(max_datagram, max_framed_datagram)) return false;
  out.push_back(static_cast<std::byte>(payload.size() >> 8));
  out.push_back(static_cast<std::byte>(payload.size() & 0xff));
  out.insert(out.end(), payload.begin(), payload.end());
  return true;
}

DatagramDecoder::DatagramDecoder(std::size_t max_datagram)
    : max_datagram_(std::min(max_datagram, max_framed_datagram)) {}

DecodeResult DatagramDecoder::parse(std::span<const std::byte> bytes) {
  DecodeResult result;
  if (failed_) {
    result.status = DecodeStatus::bad;
    result.reason = "the datagram stream already failed";
    return result;
  }
  std::size_t at = 0;
  if (prefix_have_ < length_prefix_size) {
    while (prefix_have_ < length_prefix_size && at < bytes.size())
      prefix_[prefix_have_++] = static_cast<std::uint8_t>(bytes[at++]);
    result.consumed = at;
    if (prefix_have_ < length_prefix_size) return result;  // need_more
    length_ = (std::size_t{prefix_[0]} << 8) | prefix_[1];
    if (length_ > max_datagram_) {
      failed_ = true;
      result.status = DecodeStatus::bad;
      result.reason = "datagram length " + std::to_string(length_) + " is above the maximum of " +
                      std::to_string(max_datagram_);
      return result;
    }
    body_.reserve(length_);
  }
  std::size_t take = std::min(length_ - body_.size(), bytes.size() - at);
  body_.insert(body_.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at),
               bytes.begin() + static_cast<std::ptrdiff_t>(at + take));
  at += take;
  result.consumed = at;
  if (body_.size() < length_) return result;  // need_more
  result.status = DecodeStatus::good;
  result.datagram = std::move(body_);
  body_ = sdk::Datagram();
  prefix_have_ = 0;
  length_ = 0;
  return result;
}

}  // namespace warren::core::datagram

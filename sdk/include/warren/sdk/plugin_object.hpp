#pragma once
// The root of everything a plugin's factory makes, and what it is handed.

#include <warren/sdk/log.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/config.hpp>

#include <memory>

namespace warren::sdk {

/// Every plugin object derives from this. The virtual destructor runs the
/// plugin's own code, so the object is freed by the library that made it;
/// core keeps that library loaded while the object lives.
class BOOST_SYMBOL_VISIBLE PluginObject {
 public:
  virtual ~PluginObject() = default;
};

/// What a factory is given besides its config table.
struct PluginContext {
  boost::asio::any_io_executor executor;  ///< the loop all of the plugin's I/O runs on
  Logger& logger;                         ///< prefixed with the plugin's kind and name; outlives every
                                          ///< object the plugin makes, so objects may keep the reference
};

}  // namespace warren::sdk

// MQTT over plain TCP: one coroutine per connection that reads packets off
// the socket for its MqttSession and writes what the session sends, with
// the session's keep-alive as the read deadline. AWS IoT Core has no plain
// port (it takes TLS and WebSocket only); offcloud opens one when asked, for
// classroom demos with mosquitto_pub, authenticated by an access key.
// Asio stays behind this header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "emulator/mqtt/mqtt_broker.h"

namespace offcloud {

class MqttServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  // 0: the OS picks
    unsigned threads = 1;
  };
  // Binds and listens; throws std::system_error when it cannot. `broker`
  // must outlive the server.
  MqttServer(Options options, MqttBroker& broker);
  ~MqttServer();  // stop()s

  std::uint16_t port() const;
  // Serves on threads of its own until stop().
  void start();
  // Stops accepting, ends every connection, joins the threads. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace offcloud

// MQTT over TCP, with mutual TLS (AWS IoT Core's port 8883: devices present
// an X.509 certificate registered in IoT) or plain: one coroutine per
// connection that reads packets off the socket for its MqttSession and
// writes what the session sends, with the session's keep-alive as the read
// deadline. AWS IoT Core has no plain port; offcloud opens one when asked,
// for classroom demos with mosquitto_pub, authenticated by an access key.
// Asio and OpenSSL stay behind this header.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "emulator/auth/local_ca.h"
#include "emulator/mqtt/mqtt_broker.h"

namespace offcloud {

class MqttServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  // 0: the OS picks
    unsigned threads = 1;
    // Set: mutual TLS with this CA's server certificate. Must outlive the
    // server.
    const LocalCa* ca = nullptr;
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

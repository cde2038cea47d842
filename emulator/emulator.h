// The whole of offcloud wired together: the stores under the data dir, the
// message bus and rules engine, every service behind the router, and the
// HTTP server in front. main() runs one; the http_router fuzzer runs one as
// well, so it fuzzes exactly what users run.
#pragma once

#include <cstdint>
#include <memory>

#include "emulator/config.h"

namespace offcloud {

class Emulator {
 public:
  // Opens (or creates) the data dir's stores and binds the listening port;
  // throws if either fails.
  explicit Emulator(const Config& config);
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // The bound port: the OS's choice when the config asked for port 0.
  std::uint16_t port() const;
  // The HTTPS port; 0 when it is off.
  std::uint16_t tls_port() const;
  // The plain MQTT port; 0 when it is off.
  std::uint16_t mqtt_port() const;
  // The MQTT over TLS port; 0 when it is off.
  std::uint16_t mqtt_tls_port() const;
  unsigned threads() const;

  // Serves on the calling thread plus threads() - 1 more until SIGINT,
  // SIGTERM or stop(); in-flight requests finish and the services flush
  // before it returns.
  void run();
  // Callable from any thread.
  void stop();

 private:
  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace offcloud

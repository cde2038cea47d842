// HTTP request head + routing: the fuzzed bytes are what a client sends on
// one connection to the real HttpServer (Beast's parser, limits, chunked
// bodies, 100-continue, pipelining) in front of the real Router and every
// service, as main() wires them. Checks that the server answers with an HTTP
// response or closes, never hangs on a client that has stopped sending, and
// never fails with a 5xx (which would mean a service threw).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "emulator/config.h"
#include "emulator/emulator.h"
#include "emulator/log.h"
#include "tests/fuzz/fuzz_support.h"

namespace offcloud {
namespace {

// offcloud as main() runs it, on an ephemeral loopback port, with tight
// limits so that hangs and oversized input show quickly. Never destroyed: its
// thread serves until the process exits.
Emulator* start_emulator() {
  Config config;
  config.port = 0;
  config.data_dir = fuzz::scratch_dir();
  config.threads = 1;
  config.idle_timeout_s = 3;
  config.max_header_bytes = 16 * 1024;
  config.max_body_bytes = 64 * 1024;
  auto* emulator = new Emulator(config);
  std::thread([emulator] { emulator->run(); }).detach();
  return emulator;
}

[[noreturn]] void fail(const std::string& why, const std::string& response) {
  std::fprintf(stderr, "http_router_fuzzer: %s\nresponse so far:\n%.2000s\n", why.c_str(),
               response.c_str());
  std::abort();
}

// The first answer (later ones, to pipelined requests, may follow a HEAD's
// body-less response and cannot be told apart without knowing the method)
// must be a 1xx-4xx: offcloud answers unauthenticated and malformed requests
// itself, so a 5xx means a service threw or an error was mapped wrongly.
void check_response(const std::string& response) {
  if (response.empty()) return;  // closed without an answer: allowed mid-request
  if (!response.starts_with("HTTP/1.1 ")) fail("not HTTP", response);
  int status = std::atoi(response.c_str() + 9);
  if (status < 100 || status >= 500) fail("status " + std::to_string(status), response);
}

}  // namespace
}  // namespace offcloud

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  offcloud::set_log_level(offcloud::LogLevel::kError);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace offcloud;
  static Emulator* emulator = start_emulator();

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) std::abort();
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(emulator->port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) std::abort();

  // Written whole, then half-closed: the server sees the end of what the
  // client will ever send and must finish promptly. Reading as we write
  // keeps a large input from deadlocking against the server's answers.
  std::string response;
  std::size_t sent = 0;
  bool half_closed = false;
  char buffer[16 * 1024];
  for (;;) {
    if (sent == size && !half_closed) {
      shutdown(fd, SHUT_WR);
      half_closed = true;
    }
    pollfd events{fd, static_cast<short>(POLLIN | (half_closed ? 0 : POLLOUT)), 0};
    // Well under the server's idle timeout of 3 s would be a false alarm for
    // a request still being answered; well over it is a hang.
    if (poll(&events, 1, 8000) == 0) fail("no answer and no close within 8 s", response);
    if (events.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;  // closed (or reset after a refusal)
      response.append(buffer, static_cast<std::size_t>(n));
    } else if (events.revents & POLLOUT) {
      ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
      if (n < 0) break;  // the server closed after refusing the request
      sent += static_cast<std::size_t>(n);
    }
  }
  close(fd);
  check_response(response);
  return 0;
}

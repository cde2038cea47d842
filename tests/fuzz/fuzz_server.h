// What the fuzz targets that talk to a running offcloud share: one
// Emulator (offcloud as main() runs it) on an ephemeral loopback port, one
// exchange of bytes with it, and the check of its answer.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "emulator/config.h"
#include "emulator/emulator.h"
#include "tests/fuzz/fuzz_support.h"

namespace offcloud::fuzz {

// Started on first use with tight limits, so that hangs and oversized input
// show quickly. Never destroyed: its thread serves until the process exits.
inline Emulator& emulator() {
  static Emulator* running = [] {
    Config config;
    config.port = 0;
    config.data_dir = scratch_dir();
    config.threads = 1;
    config.idle_timeout_s = 3;
    config.max_header_bytes = 16 * 1024;
    config.max_body_bytes = 64 * 1024;
    config.mqtt_tls_port.reset();  // fuzzers listen on port 0 only
    auto* started = new Emulator(config);
    std::thread([started] { started->run(); }).detach();
    return started;
  }();
  return *running;
}

[[noreturn]] inline void fail(const std::string& why, const std::string& response) {
  std::fprintf(stderr, "fuzz: %s\nresponse so far:\n%.2000s\n", why.c_str(), response.c_str());
  std::abort();
}

inline bool connected_after_interrupt(int fd) {
  pollfd writable{fd, POLLOUT, 0};
  while (poll(&writable, 1, 8000) < 0) {
    if (errno != EINTR) return false;
  }
  int error = 0;
  socklen_t length = sizeof error;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return false;
  errno = error;
  return error == 0;
}

// Sends `bytes` on a new connection, half-closes, and returns all that comes
// back until the server closes. The server sees the end of what the client
// will ever send and must finish promptly: aborts if it neither answers nor
// closes within 8 s (its idle timeout is 3 s). Reading while writing keeps a
// large input from deadlocking against the server's answers.
inline std::string exchange(const std::uint8_t* data, std::size_t size) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) std::abort();
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(emulator().port());
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // libFuzzer's SIGALRM (its -timeout check) may interrupt the connect; the
  // connection then completes in the background.
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 &&
      !(errno == EINTR && connected_after_interrupt(fd))) {
    std::string why = std::string("connect: ") + std::strerror(errno);
    std::size_t open_files = 0;
    std::error_code ignored;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ignored);
         it != std::filesystem::directory_iterator(); ++it) {
      ++open_files;
    }
    fail(why + " (" + std::to_string(open_files) + " open files)", "");
  }
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
    if (poll(&events, 1, 8000) == 0) fail("no answer and no close within 8 s", response);
    if (events.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // closed (or reset after a refusal)
      response.append(buffer, static_cast<std::size_t>(n));
    } else if (events.revents & POLLOUT) {
      ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;  // the server closed after refusing the request
      sent += static_cast<std::size_t>(n);
    }
  }
  close(fd);
  return response;
}

// The first answer (later ones, to pipelined requests, may follow a HEAD's
// body-less response and cannot be told apart without knowing the method)
// must be 1xx-4xx, or S3's 501 NotImplemented: offcloud answers bad input
// with 4xx, so any other 5xx means a service threw or an error was mapped
// wrongly.
inline void check_response(const std::string& response) {
  if (response.empty()) return;  // closed without an answer: allowed mid-request
  if (!response.starts_with("HTTP/1.1 ")) fail("not HTTP", response);
  int status = std::atoi(response.c_str() + 9);
  if (status < 100 || (status >= 500 && status != 501)) {
    fail("status " + std::to_string(status), response);
  }
}

}  // namespace offcloud::fuzz

// HTTP request head + routing: the fuzzed bytes are what a client sends on
// one connection to the real HttpServer (Beast's parser, limits, chunked
// bodies, 100-continue, pipelining) in front of the real Router and every
// service, as main() wires them. Checks that the server answers with an HTTP
// response or closes, never hangs on a client that has stopped sending, and
// never fails with a 5xx (which would mean a service threw). These requests
// cannot carry a valid signature: signed_request_fuzzer goes past
// authentication.
#include <cstddef>
#include <cstdint>

#include "emulator/util/log.h"
#include "tests/fuzz/fuzz_server.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  offcloud::set_log_level(offcloud::LogLevel::kError);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace offcloud::fuzz;
  check_response(exchange(data, size));
  return 0;
}

// Sends each request to its service the way AWS endpoints would see it: the
// service in the SigV4 credential scope, else X-Amz-Target, else the path
// and host. Authenticates before the service runs, answers the built-in
// /_offcloud/ endpoints, and writes the one log line per request.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "emulator/service.h"
#include "emulator/sigv4_verifier.h"

namespace offcloud {

class Router {
 public:
  explicit Router(SigV4Verifier& verifier);
  ~Router();

  // Registers a service; call before serving.
  void add(std::unique_ptr<Service> service);

  void handle(HttpRequest&& request, Reply reply);

  // An error the HTTP layer found before a request was whole (too large,
  // malformed), shaped as the service it was meant for would shape it.
  HttpResponse reject(ErrorCode code, std::string_view message, const HttpRequest& head);

  // Lets every service flush; after the last request.
  void shutdown();

 private:
  struct Route;
  Route route_for(const HttpRequest& request, const QueryParams& query) const;
  HttpResponse health() const;

  SigV4Verifier& verifier_;
  std::map<std::string, std::unique_ptr<Service>, std::less<>> services_;
};

}  // namespace offcloud

#include "model/alerts.hpp"

namespace medianest {

std::vector<endpoint_category> alert_config::default_categories() {
  return {
    {"Authentication", 100, 200, 500, {"/api/v1/auth/*"}},
    {"Search", 300, 500, 1000, {"/api/v1/media/search*", "/api/v1/search*"}},
    {"Media Requests", 200, 400, 800, {"/api/v1/media/*", "/api/v1/requests*"}},
    {"Dashboard", 150, 300, 600, {"/api/v1/dashboard*"}},
    {"Admin Operations", 500, 1000, 2000, {"/api/v1/admin/*"}},
  };
}

} // namespace medianest

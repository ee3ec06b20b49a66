#include <catch2/catch.hpp>

#include <cstddef>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "model/route_template.hpp"

using medianest::fold_route;
using medianest::is_identifier_segment;
using medianest::route_pattern;

namespace {

const std::string uuid_lower = "550e8400-e29b-41d4-a716-446655440000";
const std::string mongo_id = "507f1f77bcf86cd799439011";
const std::string sha256_hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// "/s1/s2/.../sN"
std::string deep_path(std::size_t depth) {
  std::string path;
  for (std::size_t i = 1; i <= depth; ++i)
    path += "/s" + std::to_string(i);
  return path;
}

/// One random identifier of the kinds a media API hands out: numbers, UUIDs, object ids,
/// hashes and opaque tokens.
std::string random_id(std::mt19937& rng) {
  static constexpr std::string_view hex = "0123456789abcdefABCDEF";
  static constexpr std::string_view token_chars =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  auto pick = [&](std::string_view from) {
    return from[std::uniform_int_distribution<std::size_t>(0, from.size() - 1)(rng)];
  };
  auto length = [&](std::size_t lo, std::size_t hi) {
    return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
  };
  std::string id;
  switch (std::uniform_int_distribution<int>(0, 4)(rng)) {
  case 0: // decimal number
    for (std::size_t n = length(1, 19); n > 0; --n)
      id += pick("0123456789");
    break;
  case 1: // UUID, any case
    for (std::size_t i = 0; i < 36; ++i)
      id += (i == 8 || i == 13 || i == 18 || i == 23) ? '-' : pick(hex);
    break;
  case 2: // Mongo object id
    for (std::size_t i = 0; i < 24; ++i)
      id += pick(hex.substr(0, 16));
    break;
  case 3: // hash, 16 to 64 hex digits
    for (std::size_t n = length(16, 64); n > 0; --n)
      id += pick(hex);
    break;
  default: // base64url token with at least one letter and one digit
    id = std::string(1, pick("abcXYZ")) + pick("0123456789");
    for (std::size_t n = length(18, 40); n > 0; --n)
      id += pick(token_chars);
    break;
  }
  return id;
}

} // namespace

TEST_CASE("fold_route folds all-digit segments to id") {
  CHECK(fold_route("/api/v1/media/12345") == "/api/v1/media/:id");
  CHECK(fold_route("/api/v1/media/12345/seasons/2") == "/api/v1/media/:id/seasons/:id");
  CHECK(fold_route("/0") == "/:id");
  CHECK(fold_route("/api/v1/media/00000000000000000000000000000001") == "/api/v1/media/:id");
}

TEST_CASE("fold_route folds UUIDs in any case") {
  CHECK(fold_route("/api/v1/users/" + uuid_lower + "/avatar") == "/api/v1/users/:id/avatar");
  CHECK(fold_route("/api/v1/users/550E8400-E29B-41D4-A716-446655440000/avatar") ==
        "/api/v1/users/:id/avatar");
  CHECK(fold_route("/api/v1/users/550e8400-E29B-41d4-A716-446655440000") == "/api/v1/users/:id");
  // No letters, so only the UUID rule can fold it.
  CHECK(fold_route("/u/00000000-0000-0000-0000-000000000000") == "/u/:id");
}

TEST_CASE("fold_route keeps digit groups that are not shaped like a UUID") {
  CHECK(fold_route("/u/0000-0000") == "/u/0000-0000");
  CHECK(fold_route("/u/00000000-0000-0000-0000-00000000000") ==
        "/u/00000000-0000-0000-0000-00000000000");
  CHECK(fold_route("/u/000000000-000-0000-0000-000000000000") ==
        "/u/000000000-000-0000-0000-000000000000");
}

TEST_CASE("fold_route folds Mongo object ids and other long hex strings") {
  CHECK(fold_route("/api/v1/media/" + mongo_id + "/files") == "/api/v1/media/:id/files");
  CHECK(fold_route("/api/v1/media/507F1F77BCF86CD799439011") == "/api/v1/media/:id");
  CHECK(fold_route("/blobs/" + sha256_hex) == "/blobs/:id");
  CHECK(fold_route("/blobs/d41d8cd98f00b204e9800998ecf8427e") == "/blobs/:id"); // md5
  CHECK(fold_route("/blobs/deadbeefcafebabe") == "/blobs/:id");                  // 16 hex
}

TEST_CASE("fold_route keeps hex-looking words shorter than 16 characters") {
  CHECK(fold_route("/blobs/deadbeefcafeba") == "/blobs/deadbeefcafeba");
  CHECK(fold_route("/api/v1/feed/cafe") == "/api/v1/feed/cafe");
  CHECK(fold_route("/api/v1/decade") == "/api/v1/decade");
}

TEST_CASE("fold_route folds long mixed tokens") {
  CHECK(fold_route("/share/dGhpc2lzYXRva2VuMTIz") == "/share/:id");         // 20 characters
  CHECK(fold_route("/share/Ab3_x-Yz9_Qw8-Lm7_Np6-Rs5") == "/share/:id");   // with - and _
  CHECK(fold_route("/share/01HZX3K9QJ7V2M8N4P6R5T0W1Y/open") == "/share/:id/open"); // ULID
}

TEST_CASE("fold_route keeps tokens that are too short or lack a digit or a letter") {
  CHECK(fold_route("/share/dGhpc2lzYXRva2VuMTI") == "/share/dGhpc2lzYXRva2VuMTI"); // 19 characters
  CHECK(fold_route("/docs/internationalization") == "/docs/internationalization");
  CHECK(fold_route("/docs/getting-started-with-the-gateway") ==
        "/docs/getting-started-with-the-gateway");
}

TEST_CASE("fold_route keeps words and version segments") {
  CHECK(fold_route("/api/v1/search") == "/api/v1/search");
  CHECK(fold_route("/v2/page2") == "/v2/page2");
  CHECK(fold_route("/health") == "/health");
  CHECK(fold_route("/api/v1/users/me/avatar") == "/api/v1/users/me/avatar");
  CHECK(fold_route("/api/v10/item2x") == "/api/v10/item2x");
}

TEST_CASE("fold_route keeps numbers with a file extension") {
  CHECK(fold_route("/files/123.json") == "/files/123.json");
  CHECK(fold_route("/thumbs/640x480.jpg") == "/thumbs/640x480.jpg");
  CHECK(fold_route("/api/v1/rating/4.5") == "/api/v1/rating/4.5");
}

TEST_CASE("fold_route decodes percent escapes only to classify a segment") {
  CHECK(fold_route("/api/v1/media/%31%32%33") == "/api/v1/media/:id");
  CHECK(fold_route("/api/v1/users/550e8400%2De29b-41d4-a716-446655440000") == "/api/v1/users/:id");
  // Segments that stay are kept exactly as written, still encoded.
  CHECK(fold_route("/search/caf%C3%A9") == "/search/caf%C3%A9");
  CHECK(fold_route("/search/hello%20world") == "/search/hello%20world");
  // A malformed escape is taken literally.
  CHECK(fold_route("/x/%zz12") == "/x/%zz12");
  CHECK(fold_route("/x/12%") == "/x/12%");
  CHECK(fold_route("/x/12%3") == "/x/12%3");
}

TEST_CASE("fold_route lets the first matching explicit pattern win") {
  std::vector<route_pattern> patterns{{"/api/v1/media/:id/seasons/:season"},
                                      {"/api/v1/media/:id/seasons/:any"},
                                      {"/api/v1/users/:name"}};
  CHECK(fold_route("/api/v1/media/12345/seasons/2", patterns) ==
        "/api/v1/media/:id/seasons/:season");
  CHECK(fold_route("/api/v1/media/the-matrix/seasons/first", patterns) ==
        "/api/v1/media/:id/seasons/:season");
  // Folding alone would keep "alice".
  CHECK(fold_route("/api/v1/users/alice", patterns) == "/api/v1/users/:name");
}

TEST_CASE("fold_route falls back to folding when no pattern matches") {
  std::vector<route_pattern> patterns{{"/api/v1/users/:name"}, {"/api/v1/media/:id/seasons"}};
  CHECK(fold_route("/api/v1/users/alice/avatar", patterns) == "/api/v1/users/alice/avatar");
  CHECK(fold_route("/api/v1/users", patterns) == "/api/v1/users");
  CHECK(fold_route("/api/v1/media/12345", patterns) == "/api/v1/media/:id");
  CHECK(fold_route("/api/v2/users/42", patterns) == "/api/v2/users/:id");
  CHECK(fold_route("/API/v1/users/alice", patterns) == "/API/v1/users/alice");
}

TEST_CASE("fold_route explicit trailing star matches the rest of the path") {
  std::vector<route_pattern> patterns{{"/static/*"}, {"/api/*/raw"}};
  CHECK(fold_route("/static/css/site.css", patterns) == "/static/*");
  CHECK(fold_route("/static/a/b/c/d/e/f/g/h/i/j/k/l/m/n", patterns) == "/static/*");
  CHECK(fold_route("/static/x", patterns) == "/static/*");
  // The star needs at least one segment to match.
  CHECK(fold_route("/static", patterns) == "/static");
  CHECK(fold_route("/static/", patterns) == "/static");
  // A star that is not last is a literal segment.
  CHECK(fold_route("/api/*/raw", patterns) == "/api/*/raw");
  CHECK(fold_route("/api/12/raw", patterns) == "/api/:id/raw");
}

TEST_CASE("fold_route matches explicit patterns against the normalized path") {
  std::vector<route_pattern> patterns{{"/api/v1/media/:id"}};
  CHECK(fold_route("/api/v1/media/12345/", patterns) == "/api/v1/media/:id");
  CHECK(fold_route("//api//v1/media///12345", patterns) == "/api/v1/media/:id");
  CHECK(fold_route("/api/v1/media/12345?fields=title", patterns) == "/api/v1/media/:id");
  CHECK(fold_route("/api/v1/media", patterns) == "/api/v1/media");
  CHECK(fold_route("/api/v1/media//", patterns) == "/api/v1/media");
}

TEST_CASE("fold_route returns an explicit pattern verbatim") {
  std::vector<route_pattern> patterns{{"/Media/:ID/"}};
  CHECK(fold_route("/Media/abc", patterns) == "/Media/:ID/");
  std::vector<route_pattern> root{{"/"}};
  CHECK(fold_route("/", root) == "/");
  CHECK(fold_route("/x", root) == "/x");
}

TEST_CASE("fold_route drops trailing slashes and collapses double slashes") {
  CHECK(fold_route("/api/v1/media/12345/") == "/api/v1/media/:id");
  CHECK(fold_route("/api/v1/search/") == "/api/v1/search");
  CHECK(fold_route("//api///v1//search//") == "/api/v1/search");
  CHECK(fold_route("api/v1/search") == "/api/v1/search");
}

TEST_CASE("fold_route folds the root and empty paths to a single slash") {
  CHECK(fold_route("/") == "/");
  CHECK(fold_route("") == "/");
  CHECK(fold_route("///") == "/");
  CHECK(fold_route("?q=1") == "/");
}

TEST_CASE("fold_route ignores a query string or fragment") {
  CHECK(fold_route("/api/v1/media/12345?x=1&y=2") == "/api/v1/media/:id");
  CHECK(fold_route("/api/v1/search?q=/a/b/c") == "/api/v1/search");
  CHECK(fold_route("/docs/intro#section-2") == "/docs/intro");
}

TEST_CASE("fold_route folds segments longer than 64 characters") {
  std::string at_limit(64, 'z'); // a word: neither hex nor a token with digits
  std::string over_limit(65, 'z');
  CHECK(fold_route("/files/" + at_limit) == "/files/" + at_limit);
  CHECK(fold_route("/files/" + over_limit) == "/files/:id");
  CHECK(fold_route("/files/" + std::string(10000, 'z') + "/meta") == "/files/:id/meta");
  // The limit counts raw characters: 22 escapes decode to 22 bytes but are 66 long.
  std::string encoded;
  for (int i = 0; i < 22; ++i)
    encoded += "%41";
  CHECK(fold_route("/q/" + encoded) == "/q/:id");
}

TEST_CASE("fold_route keeps up to 12 segments") {
  CHECK(fold_route(deep_path(12)) == deep_path(12));
  CHECK(fold_route(deep_path(11) + "/") == deep_path(11));
}

TEST_CASE("fold_route truncates deeper paths after 12 segments with a star") {
  CHECK(fold_route(deep_path(13)) == deep_path(12) + "/*");
  CHECK(fold_route(deep_path(1000)) == deep_path(12) + "/*");
  CHECK(fold_route("/a/1/b/2/c/3/d/4/e/5/f/6/g/7/h/8") == "/a/:id/b/:id/c/:id/d/:id/e/:id/f/:id/*");
  // Empty segments do not count towards the depth.
  CHECK(fold_route("//s1//s2//s3//s4//s5//s6//s7//s8//s9//s10//s11//s12//") == deep_path(12));
}

TEST_CASE("fold_route output stays bounded for hostile paths") {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(33, 126);
  std::uniform_int_distribution<int> slash_every(1, 200);
  for (int round = 0; round < 200; ++round) {
    std::string path;
    for (int i = 0; i < 5000; ++i)
      path += slash_every(rng) == 1 ? '/' : static_cast<char>(byte(rng));
    auto folded = fold_route(path);
    CHECK(folded.front() == '/');
    CHECK(folded.size() <= medianest::max_route_segments * 65 + 2);
  }
}

TEST_CASE("is_identifier_segment classifies single segments") {
  CHECK(is_identifier_segment("12345"));
  CHECK(is_identifier_segment(uuid_lower));
  CHECK(is_identifier_segment(mongo_id));
  CHECK(is_identifier_segment(sha256_hex));
  CHECK(is_identifier_segment("dGhpc2lzYXRva2VuMTIz"));
  CHECK(is_identifier_segment(std::string(65, 'x')));
  CHECK_FALSE(is_identifier_segment(""));
  CHECK_FALSE(is_identifier_segment("v1"));
  CHECK_FALSE(is_identifier_segment("page2"));
  CHECK_FALSE(is_identifier_segment("search"));
  CHECK_FALSE(is_identifier_segment("123.json"));
  CHECK_FALSE(is_identifier_segment("-12"));
}

TEST_CASE("fold_route maps 10000 random ids under one prefix to one template") {
  std::mt19937 rng(20240611);
  std::set<std::string> templates;
  std::set<std::string> ids;
  for (int i = 0; i < 10000; ++i) {
    auto id = random_id(rng);
    ids.insert(id);
    templates.insert(fold_route("/api/v1/media/" + id + "/seasons/" + std::to_string(i % 40)));
  }
  CHECK(ids.size() > 9000); // the inputs really were distinct
  REQUIRE(templates.size() == 1);
  CHECK(*templates.begin() == "/api/v1/media/:id/seasons/:id");
}

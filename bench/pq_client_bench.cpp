// The same SOCI workload against PostgreSQL, built twice (bench/CMakeLists.txt): once over our
// client (src/pq/, as the daemon runs) and once over Debian's shared SOCI backend and libpq,
// the baseline. bench/pq_client.sh runs both, alternating, and prints the ratios.
//   pq_client_bench CONNINFO ROUNDS
// Prints one line per workload: name, then the median of ROUNDS timings in microseconds.

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace {

double median_us(int rounds, const std::function<void()>& work) {
  std::vector<double> times;
  for (int i = 0; i < rounds; ++i) {
    auto start = std::chrono::steady_clock::now();
    work();
    times.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s CONNINFO ROUNDS\n", argv[0]);
    return 2;
  }
  int rounds = std::atoi(argv[2]);
  auto connect = [&] { return soci::session(*soci::factory_postgresql(), argv[1]); };
  auto s = connect();
  s << "CREATE TEMP TABLE bench_rows (id bigint, name text, value double precision)";

  std::printf("connect %.1f\n", median_us(rounds, [&] { auto fresh = connect(); }));
  std::printf("select_1_x200 %.1f\n", median_us(rounds, [&] {
    int one = 0;
    for (int i = 0; i < 200; ++i)
      s << "SELECT :v", soci::use(i), soci::into(one);
  }));
  std::printf("insert_1000_in_transaction %.1f\n", median_us(rounds, [&] {
    soci::transaction tx(s);
    long long id = 0;
    std::string name = "series.name";
    double value = 1.5;
    soci::statement insert = (s.prepare << "INSERT INTO bench_rows VALUES (:i, :n, :v)",
                              soci::use(id), soci::use(name), soci::use(value));
    for (id = 0; id < 1000; ++id)
      insert.execute(true);
    tx.commit();
  }));
  std::printf("rowset_50000_rows %.1f\n", median_us(rounds, [&] {
    long long sum = 0;
    soci::rowset<soci::row> rows = (s.prepare << "SELECT g::bigint, 'name-' || g, g * 0.5 "
                                                 "FROM generate_series(1, 50000) g");
    for (const auto& r : rows)
      sum += r.get<long long>(0);
    if (sum == 0)
      std::abort();
  }));
  return 0;
}

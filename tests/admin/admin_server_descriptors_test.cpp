// The admin server of a process out of descriptors (trial finding: a
// connector whose UDP flows held every descriptor answered no /ready and
// spun a core, accepting again at once after each EMFILE). It must wait
// between attempts and serve the client from its backlog once a descriptor
// is free.

#include "core/admin/admin_server.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/resource.h>

#include <chrono>
#include <string>
#include <thread>

using namespace warren::core;
using namespace std::chrono_literals;
using boost::asio::ip::tcp;

namespace {

std::chrono::microseconds thread_cpu() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return std::chrono::seconds(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         std::chrono::microseconds(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

// Runs a timer wait on an io_context of its own: the scheduler and timer
// queue calls the test's loop makes with no descriptor free. Under UBSan the
// first virtual call through a type checks the object's vptr by writing it to
// a pipe, which needs two free descriptors; afterwards the check hits a cache.
void warm_up_type_checks() {
  boost::asio::io_context io;
  boost::asio::steady_timer timer(io, 1ms);
  timer.async_wait([](boost::system::error_code) {});
  io.run();
}

}  // namespace

TEST_CASE("the admin server out of descriptors waits between accepts, then serves its backlog") {
  boost::asio::io_context io;
  AdminServer server(io, {boost::asio::ip::make_address("127.0.0.1"), 0},
                     AdminServer::Routes{{"/ready", [] { return AdminResponse{200, "text/plain", "ready\n"}; }}});
  boost::asio::io_context client_io;
  tcp::socket client(client_io);
  client.connect(server.local_endpoint());  // completes in the kernel's backlog
  boost::asio::write(client, boost::asio::buffer(std::string("GET /ready HTTP/1.0\r\n\r\n")));

  warm_up_type_checks();
  rlimit saved{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
  rlim_t lowest_free = 0;
  while (fcntl(static_cast<int>(lowest_free), F_GETFD) != -1) ++lowest_free;
  rlimit low = saved;
  low.rlim_cur = lowest_free;  // no descriptor free: accept fails with EMFILE
  REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
  auto cpu_before = thread_cpu();
  io.run_for(500ms);
  auto spent = thread_cpu() - cpu_before;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &saved) == 0);
  INFO("CPU while out of descriptors: " << spent.count() << " us in 500 ms");
  CHECK(spent < 100ms);  // at once after each failure: all of the time given to it

  std::string reply;
  boost::system::error_code ec;
  std::thread reader([&] { boost::asio::read(client, boost::asio::dynamic_buffer(reply), ec); });
  io.run_for(1s);  // the next attempt, 100 ms later, takes it and answers
  client.shutdown(tcp::socket::shutdown_both, ec);
  reader.join();
  CHECK(reply.find("200") != std::string::npos);
  CHECK(reply.find("ready") != std::string::npos);
}

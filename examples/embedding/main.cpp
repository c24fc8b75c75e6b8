// embedded-tunnel EDGE FINGERPRINT LOCAL_PORT [TUNNEL_ID TOKEN]
// Tunnels 127.0.0.1:LOCAL_PORT through the edge (a quick tunnel without an
// id and token), prints the public address, serves until Ctrl-C.
#include <warren/tunnel.hpp>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 4 && argc != 6) {
    std::cerr << "usage: embedded-tunnel EDGE FINGERPRINT LOCAL_PORT [TUNNEL_ID TOKEN]\n";
    return 2;
  }
  // Blocked before start(): the tunnel's thread inherits the mask, so
  // sigwait below is the one place Ctrl-C arrives.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  warren::TunnelOptions options;
  options.edges = {argv[1]};
  options.edge_fingerprints = {argv[2]};
  options.backend = std::string("127.0.0.1:") + argv[3];
  if (argc == 6) {
    options.tunnel_id = argv[4];
    options.token = argv[5];
  }
  try {
    auto tunnel = warren::Tunnel::start(options);
    std::cout << tunnel.public_address() << std::endl;
    int signal = 0;
    sigwait(&stop, &signal);
    return tunnel.shutdown(std::chrono::seconds(5)) ? 0 : 1;
  } catch (const warren::TunnelError& e) {
    std::cerr << "embedded-tunnel: " << e.what() << "\n";
    return static_cast<int>(e.failure());
  }
}

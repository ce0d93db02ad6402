// husk-net-rr: a TCP_RR-style round-trip benchmark (netperf's request/response with 1-byte
// messages) for bench/net, static so it runs in the guest's initramfs as on the host.
//   husk-net-rr server PORT                   echo every byte back, one connection after another
//   husk-net-rr client HOST PORT SECONDS      one byte out, one byte back, as often as it can;
//                                             prints `rr transactions=N seconds=S per_second=X`
// TCP_NODELAY on both ends, so each transaction is one segment each way.
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace {

void no_delay(int fd)
{
    int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

int serve(int port)
{
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    int on = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0 || ::listen(listener, 4) < 0) {
        std::perror("husk-net-rr: bind/listen");
        return 1;
    }
    while (true) {
        int connection = ::accept(listener, nullptr, nullptr);
        if (connection < 0)
            continue;
        no_delay(connection);
        char byte;
        while (::read(connection, &byte, 1) == 1 && ::write(connection, &byte, 1) == 1) { }
        ::close(connection);
    }
}

int client(char const* host, int port, double seconds)
{
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, host, &address.sin_addr) != 1
        || ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) {
        std::perror("husk-net-rr: connect");
        return 1;
    }
    no_delay(fd);
    auto start = std::chrono::steady_clock::now();
    auto end = start + std::chrono::duration<double>(seconds);
    long transactions = 0;
    char byte = 'r';
    while (std::chrono::steady_clock::now() < end) {
        if (::write(fd, &byte, 1) != 1 || ::read(fd, &byte, 1) != 1) {
            std::perror("husk-net-rr: transaction");
            return 1;
        }
        ++transactions;
    }
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("rr transactions=%ld seconds=%.3f per_second=%.0f\n", transactions, elapsed, transactions / elapsed);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "server" && argc == 3)
        return serve(std::atoi(argv[2]));
    if (mode == "client" && argc == 5)
        return client(argv[2], std::atoi(argv[3]), std::atof(argv[4]));
    std::fprintf(stderr, "usage: husk-net-rr server PORT | client HOST PORT SECONDS\n");
    return 2;
}

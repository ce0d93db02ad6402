// vsock cases against misbehaving host ends the lab suite provides: a listener that never
// accepts (port 1236, tiny backlog) and one that accepts but never reads (port 1237). Neither
// may wedge the device, grow husk-vmm's memory or hurt other connections.
#include "case_helpers.hpp"
#include "devices/vsock_driver.hpp"

#include <cstring>

namespace guest {

namespace {
    constexpr uint32_t never_accepting_port = 1236;
    constexpr uint32_t never_reading_port = 1237;

    void drain_rx(Session& session)
    {
        VsockHeader ignored {};
        while (vsock_receive(session, 0xffff'fffe, ignored, nullptr, 0, 200 * milliseconds)) { }
    }
} // namespace

HOSTILE_CASE("vsock", host_listener_never_accepts)
{
    constexpr uint32_t first_port = 30000, count = 300;
    for (uint32_t port = first_port; port < first_port + count; ++port)
        vsock_send(session, vsock_header(session, vsock_op::request, port, never_accepting_port));
    drain_rx(session);
    for (uint32_t port = first_port; port < first_port + count; ++port)
        vsock_send(session, vsock_header(session, vsock_op::rst, port, never_accepting_port));
    drain_rx(session);
    return After::Probe;
}

HOSTILE_CASE("vsock", host_never_reads_while_guest_floods)
{
    // A well-behaved sender (it honours the host's credit) against a host end that never reads:
    // husk-vmm must stop crediting, not buffer without bound.
    uint32_t port = vsock_next_port();
    vsock_send(session, vsock_header(session, vsock_op::request, port, never_reading_port));
    VsockHeader reply {};
    if (!vsock_receive(session, port, reply) || reply.op != vsock_op::response) {
        println("hostile: the never-reading listener did not answer; nothing to flood");
        return After::Probe;
    }
    uint64_t peer_buf_alloc = reply.buf_alloc, peer_fwd_cnt = reply.fwd_cnt, sent = 0;
    constexpr uint32_t packet = 32 * 1024;
    static char payload[packet];
    memset(payload, 'x', sizeof payload);
    int stalls = 0;
    uint64_t deadline = now_ns() + 30'000 * milliseconds;
    while (sent < (16u << 20) && stalls < 3 && now_ns() < deadline) {
        if (sent - peer_fwd_cnt + packet <= peer_buf_alloc) {
            // The device may hold the packet until the host end takes bytes again: a stall too.
            if (!vsock_send(session, vsock_header(session, vsock_op::rw, port, never_reading_port, packet), payload,
                    2'000 * milliseconds)) {
                ++stalls;
                continue;
            }
            sent += packet;
            continue;
        }
        vsock_send(session, vsock_header(session, vsock_op::credit_request, port, never_reading_port));
        if (vsock_receive(session, port, reply, nullptr, 0, 500 * milliseconds)) {
            if (reply.op == vsock_op::rst)
                break;
            if (reply.fwd_cnt == peer_fwd_cnt && reply.buf_alloc == peer_buf_alloc)
                ++stalls; // answered, but no new credit: the host end is full
            peer_buf_alloc = reply.buf_alloc;
            peer_fwd_cnt = reply.fwd_cnt;
        } else {
            ++stalls;
        }
    }
    print("hostile: bytes sent before the host stopped crediting: ");
    print_decimal(sent);
    println("");
    vsock_send(session, vsock_header(session, vsock_op::rst, port, never_reading_port));
    return After::Probe;
}

} // namespace guest

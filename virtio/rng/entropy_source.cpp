// GetrandomEntropySource: getrandom(2) without flags, which blocks only until the host's CSPRNG
// is seeded once after boot, then never.
#include "virtio/rng/entropy_source.hpp"

#include <cerrno>
#include <sys/random.h>

namespace husk {

Result<void> GetrandomEntropySource::fill(std::span<uint8_t> destination)
{
    size_t done = 0;
    while (done < destination.size()) {
        // Large requests may return short or be interrupted by a signal; both just continue.
        ssize_t count = ::getrandom(destination.data() + done, destination.size() - done, 0);
        if (count < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno("getrandom");
        }
        done += static_cast<size_t>(count);
    }
    return {};
}

} // namespace husk

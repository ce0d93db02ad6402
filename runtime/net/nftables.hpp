// Nftables: libnftables in the launcher's own process (no `nft` command to fork, so tables can
// also be removed after the jailed VMM has ended). Rules are applied in the network namespace
// the calling thread is in; see in_network_namespace().
#pragma once

#include "runtime/base/result.hpp"

#include <memory>
#include <string>

struct nft_ctx;

namespace husk {

class Nftables {
public:
    static Result<Nftables> create();

    // Runs an `nft -f` text as one transaction: all of it applies, or none.
    Result<void> apply(std::string const& text);

    // Whether `table inet NAME` exists.
    bool has_table(std::string const& name);

private:
    struct ContextDeleter {
        void operator()(nft_ctx* context) const;
    };
    explicit Nftables(nft_ctx* context)
        : m_context(context)
    {
    }
    std::unique_ptr<nft_ctx, ContextDeleter> m_context;
};

} // namespace husk

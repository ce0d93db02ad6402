// Nftables through libnftables, with its messages buffered into our errors.
#include "runtime/net/nftables.hpp"

#include <nftables/libnftables.h>

namespace husk {

void Nftables::ContextDeleter::operator()(nft_ctx* context) const { nft_ctx_free(context); }

Result<Nftables> Nftables::create()
{
    nft_ctx* context = nft_ctx_new(NFT_CTX_DEFAULT);
    if (context == nullptr)
        return fail("libnftables: cannot create a context");
    Nftables nftables(context);
    if (nft_ctx_buffer_error(context) != 0 || nft_ctx_buffer_output(context) != 0)
        return fail("libnftables: cannot buffer its messages");
    return nftables;
}

Result<void> Nftables::apply(std::string const& text)
{
    if (nft_run_cmd_from_buffer(m_context.get(), text.c_str()) == 0)
        return {};
    std::string message = nft_ctx_get_error_buffer(m_context.get());
    while (!message.empty() && message.back() == '\n')
        message.pop_back();
    return fail("nftables: " + message);
}

bool Nftables::has_table(std::string const& name)
{
    return nft_run_cmd_from_buffer(m_context.get(), ("list table inet " + name).c_str()) == 0;
}

} // namespace husk

// Nftables through libnftables, with its messages buffered into our errors. libnftables is
// loaded (dlopen) when the first Nftables is created, not linked: only the root launcher of a
// --net sandbox and the reaper use it, and linked it made every husk-vmm load it and the
// libraries it pulls in (libnftnl, libmnl, libgmp, libjansson, libxtables) at exec, 0.6 MiB
// of resident memory per VM.
#include "runtime/net/nftables.hpp"

#include <dlfcn.h>
#include <mutex>
#include <nftables/libnftables.h>

namespace husk {

namespace {
    // The functions we call, typed by the library's own declarations.
    struct NftablesApi {
        decltype(&nft_ctx_new) ctx_new { nullptr };
        decltype(&nft_ctx_free) ctx_free { nullptr };
        decltype(&nft_ctx_buffer_error) buffer_error { nullptr };
        decltype(&nft_ctx_buffer_output) buffer_output { nullptr };
        decltype(&nft_ctx_get_error_buffer) get_error_buffer { nullptr };
        decltype(&nft_run_cmd_from_buffer) run_cmd_from_buffer { nullptr };
    };

    constexpr char const* library_name = "libnftables.so.1";

    template<typename Function>
    bool resolve(void* library, char const* name, Function& function)
    {
        function = reinterpret_cast<Function>(::dlsym(library, name));
        return function != nullptr;
    }

    Result<NftablesApi const*> api()
    {
        static NftablesApi loaded;
        static std::string error;
        static std::once_flag once;
        std::call_once(once, [] {
            // Never closed: contexts may live until exit.
            void* library = ::dlopen(library_name, RTLD_NOW | RTLD_LOCAL);
            if (library == nullptr) {
                char const* why = ::dlerror();
                error = std::string("cannot load ") + library_name + " (install libnftables1 for --net): "
                    + (why ? why : "unknown error");
                return;
            }
            bool complete = resolve(library, "nft_ctx_new", loaded.ctx_new)
                && resolve(library, "nft_ctx_free", loaded.ctx_free)
                && resolve(library, "nft_ctx_buffer_error", loaded.buffer_error)
                && resolve(library, "nft_ctx_buffer_output", loaded.buffer_output)
                && resolve(library, "nft_ctx_get_error_buffer", loaded.get_error_buffer)
                && resolve(library, "nft_run_cmd_from_buffer", loaded.run_cmd_from_buffer);
            if (!complete)
                error = std::string(library_name) + " lacks a function husk needs";
        });
        if (!error.empty())
            return fail("libnftables: " + error);
        return &loaded;
    }
} // namespace

void Nftables::ContextDeleter::operator()(nft_ctx* context) const
{
    // A context exists only once api() succeeded.
    if (auto functions = api())
        (*functions)->ctx_free(context);
}

Result<Nftables> Nftables::create()
{
    auto functions = TRY(api());
    nft_ctx* context = functions->ctx_new(NFT_CTX_DEFAULT);
    if (context == nullptr)
        return fail("libnftables: cannot create a context");
    Nftables nftables(context);
    if (functions->buffer_error(context) != 0 || functions->buffer_output(context) != 0)
        return fail("libnftables: cannot buffer its messages");
    return nftables;
}

Result<void> Nftables::apply(std::string const& text)
{
    auto functions = TRY(api());
    if (functions->run_cmd_from_buffer(m_context.get(), text.c_str()) == 0)
        return {};
    std::string message = functions->get_error_buffer(m_context.get());
    while (!message.empty() && message.back() == '\n')
        message.pop_back();
    return fail("nftables: " + message);
}

bool Nftables::has_table(std::string const& name)
{
    auto functions = api();
    return functions && (*functions)->run_cmd_from_buffer(m_context.get(), ("list table inet " + name).c_str()) == 0;
}

} // namespace husk

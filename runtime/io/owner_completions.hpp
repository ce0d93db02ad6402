#pragma once

#include "runtime/io/event_loop.hpp"

#include <functional>
#include <memory>
#include <utility>

namespace husk {

// Completions that call back into their owner only while it lives. The event loop may run a
// completion after the object that submitted the operation is gone (a device torn down with
// reads still in the kernel), so each completion holds a weak reference and does nothing once
// the owner revoked them. The owner revokes first thing in its destructor.
template<typename Owner>
class OwnerCompletions {
public:
    explicit OwnerCompletions(Owner& owner)
        : m_owner(std::make_shared<Owner*>(&owner))
    {
    }

    OwnerCompletions(OwnerCompletions const&) = delete;
    OwnerCompletions& operator=(OwnerCompletions const&) = delete;

    Completion bind(std::function<void(Owner&, int result)> handler) const
    {
        return [owner = std::weak_ptr<Owner*>(m_owner), handler = std::move(handler)](int result) {
            if (auto alive = owner.lock())
                handler(**alive, result);
        };
    }

    // Completions bound before (and after) this call do nothing when they run.
    void revoke() { m_owner.reset(); }

private:
    std::shared_ptr<Owner*> m_owner;
};

} // namespace husk

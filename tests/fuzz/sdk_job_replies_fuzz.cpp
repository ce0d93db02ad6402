// Agent replies to a job, as a compromised guest may forge them: the input is a stream of frames
// decoded the way the SDK's reader does (strictly, from the guest) and fed to one ExecOperation
// and one ReplyOperation. Neither may crash, and the job's kept output never exceeds its limit.
#include "guest-init/protocol/frame.hpp"
#include "guest-init/protocol/message_codec.hpp"
#include "sdk/src/exec_operation.hpp"
#include "tests/fuzz/fuzz_support.hpp"

using namespace husk;
using namespace husk::protocol;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    constexpr uint64_t limit = 4096;
    auto exec = std::make_shared<detail::ExecOperation>(nullptr, nullptr, nullptr, limit);
    detail::ReplyOperation reply(detail::is_final_reply);
    FrameDecoder decoder;
    decoder.feed(std::span<uint8_t const>(data, size));
    bool exec_done = false;
    for (;;) {
        auto frame = decoder.next();
        if (!frame || !frame->has_value())
            break;
        auto message = decode_message(**frame, Peer::Guest);
        if (!message)
            break;
        if (!exec_done)
            exec_done = exec->on_message(*message);
        (void)reply.on_message(std::move(*message));
    }
    if (!exec_done)
        exec->on_failure(Error { "end of input", 0, ErrorKind::AgentDisconnected });
    auto result = exec->wait(std::chrono::steady_clock::now());
    require(!result || (result->stdout_data.size() <= limit && result->stderr_data.size() <= limit));
    return 0;
}

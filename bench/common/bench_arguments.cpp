// CLI11 set-up shared by the benchmark drivers.
#include "bench/common/bench_arguments.hpp"

namespace husk::bench {

void add_image_options(CLI::App& app, VmImages& images)
{
    app.add_option("--vmm", images.vmm, "husk-vmm binary")->required();
    app.add_option("--kernel", images.kernel, "Guest kernel (uncompressed vmlinux), for both VMMs")->required();
    app.add_option("--initrd", images.initrd, "Guest initramfs, for both VMMs")->required();
    app.add_option("--qemu", images.qemu, "The peer: qemu-system-x86_64 binary")->capture_default_str();
}

std::optional<int> parse_bench_arguments(CLI::App& app, int argc, char** argv)
{
    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& error) {
        int status = app.exit(error);
        return status == 0 ? 0 : 2;
    }
    return std::nullopt;
}

} // namespace husk::bench

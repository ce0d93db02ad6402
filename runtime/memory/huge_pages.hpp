// HugePages: whether guest RAM asks the host for transparent huge pages (2 MiB).
//
// On: madvise(MADV_HUGEPAGE), as QEMU does for all guest RAM. The host backs each 2 MiB of guest
// RAM the guest touches with one huge page when it can (THP in `madvise` or `always` mode), and
// KVM maps it with one nested-paging entry: one fault where 4 KiB pages take 512, and fewer TLB
// misses. The price is density: a touched byte makes 2 MiB resident, so an idle guest costs more
// host memory (docs/benchmarks.md, bench/boot).
// Off: madvise(MADV_NOHUGEPAGE): 4 KiB pages even on a host whose THP mode is `always`.
#pragma once

namespace husk {

enum class HugePages { Off, On };

} // namespace husk

#!/usr/bin/env python3
"""bench/all's table: reads each benchmark's saved output (DIR/NAME.txt) and prints one markdown
table of medians and husk/QEMU ratios. Each benchmark prints its own format; the parsers below
know them, and a benchmark whose figures are missing shows up as a row saying so."""
import re
import sys


def number(text):
    return float(text) if text is not None else None


def fmt(value, unit=""):
    if value is None:
        return "n/a"
    text = f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return f"{text} {unit}".strip()


def ratio(husk, qemu):
    return husk / qemu if husk and qemu else None


def setup(text):
    m = re.search(r"exec -> first KVM_RUN.*median ([\d.]+) ms", text)
    cpu = re.search(r"sum of the phases' CPU medians: ([\d.]+) ms", text)
    yield ("setup: exec -> first KVM_RUN, native (phase CPU sum)",
           fmt(number(m and m.group(1)), "ms") + (f" ({cpu.group(1)} ms CPU)" if cpu else ""), "", "")


def boot(text):
    husk = re.search(r"husk-vmm\s+median\s+([\d.]+) ms", text)
    qemu = re.search(r"qemu -M microvm\s+median\s+([\d.]+) ms", text)
    h, q = number(husk and husk.group(1)), number(qemu and qemu.group(1))
    yield ("boot: exec -> init, median", fmt(h, "ms"), fmt(q, "ms"), fmt(ratio(h, q)))
    s = re.search(r"host-side setup \(exec -> first KVM_RUN\): median ([\d.]+) ms", text)
    yield ("boot: husk-vmm setup, exec -> first KVM_RUN", fmt(number(s and s.group(1)), "ms"), "", "")
    m = re.search(r"husk-vmm ([\d.]+) MiB\s+qemu ([\d.]+) MiB", text)
    h, q = (number(m.group(1)), number(m.group(2))) if m else (None, None)
    yield ("boot: VMM memory outside guest RAM, idle", fmt(h, "MiB"), fmt(q, "MiB"), fmt(ratio(h, q)))


def spawn(text):
    husk = re.search(r"husk \(create \+ run\)\s+median\s+([\d.]+) ms", text)
    qemu = re.search(r"qemu microvm to init\s+median\s+([\d.]+) ms", text)
    h, q = number(husk and husk.group(1)), number(qemu and qemu.group(1))
    yield ("spawn: create + run `true` vs QEMU boot-to-init", fmt(h, "ms"), fmt(q, "ms"), fmt(ratio(h, q)))


def vsock(text):
    pattern = (r"^\s+(round trip|guest->host|host->guest)\s+husk median\s+([\d.]+).*?qemu median\s+([\d.]+)"
               r"\s+p99\s+[\d.]+\s+(\S+)\s+ratio husk/qemu ([\d.]+)")
    found = False
    for m in re.finditer(pattern, text, re.M):
        found = True
        unit = m.group(4)
        yield (f"vsock: {m.group(1)}", fmt(number(m.group(2)), unit), fmt(number(m.group(3)), unit), m.group(5))
    if not found:
        yield ("vsock", "n/a", "n/a", "n/a")


def snapshot(text):
    cold = re.search(r"cold: create \+ run\s+median\s+([\d.]+) ms", text)
    restored = re.search(r"snapshot: restore \+ run\s+median\s+([\d.]+) ms", text)
    qemu = re.search(r"qemu microvm to init\s+median\s+([\d.]+) ms", text)
    c, r, q = (number(m and m.group(1)) for m in (cold, restored, qemu))
    yield ("snapshot: restore + run `true` vs QEMU boot-to-init", fmt(r, "ms"), fmt(q, "ms"), fmt(ratio(r, q)))
    yield ("snapshot: cold create + run `true`", fmt(c, "ms"), "", "")


def blocks(prefix):
    """blk, share and net print a description line, then `median husk-vmm H unit, qemu Q unit`
    (net: one `runs ... median M` line per peer) and `ratio husk/... R`."""

    def parse(text):
        lines = text.splitlines()
        found = False
        for i, line in enumerate(lines):
            m = re.search(r"median husk-vmm ([\d.]+) (\S+), qemu ([\d.]+)", line)
            if m and i > 0:
                found = True
                title = lines[i - 3].strip() if i >= 3 else prefix
                r = ratio(number(m.group(1)), number(m.group(3)))
                yield (f"{prefix}: {title}", fmt(number(m.group(1)), m.group(2)), fmt(number(m.group(3)), m.group(2)),
                       fmt(r))
        if not found:
            for i, line in enumerate(lines):
                m = re.match(r"\s+ratio husk/(\S+) ([\d.]+)", line)
                if m:
                    found = True
                    title = next((lines[j].strip() for j in range(i - 1, -1, -1) if not lines[j].startswith(" ")), prefix)
                    yield (f"{prefix}: {title} (vs {m.group(1)})", "", "", m.group(2))
        if not found:
            yield (prefix, "n/a", "n/a", "n/a")

    return parse


PARSERS = {"setup": setup, "boot": boot, "spawn": spawn, "vsock": vsock, "snapshot": snapshot,
           "blk": blocks("blk"), "share": blocks("share"), "net": blocks("net")}


def main():
    out, names = sys.argv[1], sys.argv[2:]
    print("| benchmark | husk | QEMU microvm | husk/QEMU |")
    print("|---|---|---|---|")
    for name in names:
        try:
            text = open(f"{out}/{name}.txt").read()
        except OSError:
            text = ""
        for row in PARSERS[name](text):
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()

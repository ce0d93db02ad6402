// Entry of a hostile-driver guest. husk-vmm enters an ELF kernel as Linux's 64-bit boot protocol
// says: long mode, identity-mapped paging for the low 4 GiB, flat segments, interrupts off,
// %rsi = the boot_params ("zero page") address. The boot stack husk leaves is tiny, so the guest
// switches to its own before calling C++; guest_main never returns (it powers the VM off).
    .section .text.entry, "ax"
    .globl _start
    .code64
_start:
    cli
    lea guest_stack_top(%rip), %rsp
    xor %ebp, %ebp
    mov %rsi, %rdi
    call guest_main
1:  pause
    jmp 1b

    .section .bss
    .balign 16
guest_stack:
    .skip 65536
guest_stack_top:

    .section .note.GNU-stack, "", @progbits

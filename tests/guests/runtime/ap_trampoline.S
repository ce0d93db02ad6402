// Start-up code for a second vCPU (an "AP"). husk-vmm leaves every vCPU but the first waiting
// for INIT/SIPI, as a PC does; the guest copies this block to ap_trampoline_base (below 1 MiB,
// page aligned) and sends SIPI with that page. The AP starts in real mode at CS = base >> 4,
// IP = 0, loads a GDT of its own, enters protected mode, turns on PAE with husk's identity page
// tables (CR3 = 0x9000, the 4 GiB map the first vCPU runs on), sets EFER.LME, enables paging and
// jumps to ap_entry in 64-bit mode on its own stack.
    .set ap_trampoline_base, 0x30000
    .set boot_page_tables, 0x9000
    .set msr_efer, 0xc0000080

    .section .rodata
    .globl ap_trampoline_start, ap_trampoline_end
    .code16
ap_trampoline_start:
    cli
    mov %cs, %ax
    mov %ax, %ds
    lgdtl (ap_gdt_pointer - ap_trampoline_start)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $(ap_trampoline_base + ap_protected - ap_trampoline_start)

    .code32
ap_protected:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %cr4, %eax
    or $0x20, %eax                   // PAE
    mov %eax, %cr4
    mov $boot_page_tables, %eax
    mov %eax, %cr3
    mov $msr_efer, %ecx
    rdmsr
    or $0x100, %eax                  // LME
    wrmsr
    mov %cr0, %eax
    or $0x80000001, %eax             // PG | PE
    mov %eax, %cr0
    ljmpl $0x18, $(ap_trampoline_base + ap_long - ap_trampoline_start)

    .code64
ap_long:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    movabs $ap_stack_top, %rsp
    movabs $ap_main, %rax
    call *%rax
1:  pause
    jmp 1b

    .balign 8
ap_gdt:
    .quad 0
    .quad 0x00cf9b000000ffff         // 0x08: 32-bit code, flat
    .quad 0x00cf93000000ffff         // 0x10: data, flat
    .quad 0x00af9b000000ffff         // 0x18: 64-bit code
ap_gdt_pointer:
    .word ap_gdt_pointer - ap_gdt - 1
    .long ap_trampoline_base + ap_gdt - ap_trampoline_start
ap_trampoline_end:

    .section .bss
    .balign 16
    .skip 65536
ap_stack_top:

    .section .note.GNU-stack, "", @progbits

package pod

import "golang.org/x/sys/unix"

var seccompNative = seccompArch{
	audit: unix.AUDIT_ARCH_X86_64,
	// x32 calls run under AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT set.
	x32Bit:  0x40000000,
	numbers: syscallNumbers,
}

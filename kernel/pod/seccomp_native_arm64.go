package pod

import "golang.org/x/sys/unix"

// 32-bit ARM tasks report AUDIT_ARCH_ARM, so the arch check refuses them.
var seccompNative = seccompArch{audit: unix.AUDIT_ARCH_AARCH64, numbers: syscallNumbers}

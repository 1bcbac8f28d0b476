//go:build !amd64 && !arm64

package pod

// seccompNative is unset: assembleSeccomp refuses, so a pod with
// Hardening.Seccomp does not start here rather than start unfiltered.
var seccompNative seccompArch

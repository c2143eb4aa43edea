// Command labgrader-seccomp runs a command under a seccomp filter that keeps it, and everything it
// starts, from making user namespaces: unshare(2) and clone(2) with CLONE_NEWUSER fail with EPERM,
// and clone3(2), whose flags a filter cannot read, fails with ENOSYS (callers then fall back to
// clone). System calls of another architecture or ABI (i386, x32) fail with EPERM. Everything else
// is allowed. The sandbox runs it as the sandbox uid, after setpriv has set no_new_privs:
//
//	labgrader-seccomp COMMAND [ARG...]
//	labgrader-seccomp --version
package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"unsafe"
)

// version is set at build time to a digest of this file, so a changed filter is rebuilt.
var version = "dev"

const (
	cloneNewUser = 0x10000000
	sysClone3    = 435 // the same number on every architecture

	seccompSetModeFilter   = 1
	seccompFilterFlagTsync = 1
	retAllow               = 0x7fff0000
	retErrno               = 0x00050000
	prSetNoNewPrivs        = 38

	// Offsets in struct seccomp_data.
	offNr   = 0
	offArch = 4
	offArg0 = 16 // the low 32 bits on a little-endian machine; clone and unshare take their flags first

	ldAbs = 0x20 // BPF_LD | BPF_W | BPF_ABS
	jeq   = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
	jge   = 0x35 // BPF_JMP | BPF_JGE | BPF_K
	jset  = 0x45 // BPF_JMP | BPF_JSET | BPF_K
	ret   = 0x06 // BPF_RET | BPF_K
)

type platform struct {
	arch           uint32 // AUDIT_ARCH_*
	sysSeccomp     uintptr
	clone, unshare uint32
	x32            bool // whether numbers from 0x40000000 up are another ABI (x32) to refuse
}

var platforms = map[string]platform{
	"amd64": {arch: 0xc000003e, sysSeccomp: 317, clone: 56, unshare: 272, x32: true},
	"arm64": {arch: 0xc00000b7, sysSeccomp: 277, clone: 220, unshare: 97},
}

func stmt(code uint16, k uint32) syscall.SockFilter { return syscall.SockFilter{Code: code, K: k} }

func jump(code uint16, k uint32, jt, jf uint8) syscall.SockFilter {
	return syscall.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

// filter is the BPF program. A jump's offsets count the instructions it skips; the two that lead
// to EPERM from the top are set once the program's length is known.
func filter(p platform) []syscall.SockFilter {
	prog := []syscall.SockFilter{
		stmt(ldAbs, offArch),
		jump(jeq, p.arch, 0, 0), // patched below: on mismatch to EPERM
		stmt(ldAbs, offNr),
	}
	if p.x32 {
		prog = append(prog, jump(jge, 0x40000000, 0, 0)) // patched: to EPERM
	}
	// From here: unshare(+0) clone(+1) clone3(+2) allow(+3) loadArg(+4) jset(+5) allow(+6) eperm(+7) enosys(+8)
	prog = append(prog,
		jump(jeq, p.unshare, 3, 0),
		jump(jeq, p.clone, 2, 0),
		jump(jeq, sysClone3, 5, 0),
		stmt(ret, retAllow),
		stmt(ldAbs, offArg0),
		jump(jset, cloneNewUser, 1, 0),
		stmt(ret, retAllow),
		stmt(ret, retErrno|uint32(syscall.EPERM)),
		stmt(ret, retErrno|uint32(syscall.ENOSYS)),
	)
	eperm := len(prog) - 2
	// The architecture check (index 1) falls through on a match and jumps to EPERM otherwise.
	prog[1].Jf = uint8(eperm - 2)
	if p.x32 {
		prog[3].Jt = uint8(eperm - 4)
	}
	return prog
}

func install(p platform) error {
	if err := prctl(prSetNoNewPrivs, 1); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	prog := filter(p)
	fprog := syscall.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	_, _, errno := syscall.RawSyscall(p.sysSeccomp, seccompSetModeFilter, seccompFilterFlagTsync, uintptr(unsafe.Pointer(&fprog)))
	runtime.KeepAlive(prog)
	if errno != 0 {
		return fmt.Errorf("seccomp: %w", errno)
	}
	return nil
}

func prctl(option, arg uintptr) error {
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, option, arg, 0); errno != 0 {
		return errno
	}
	return nil
}

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println("labgrader-seccomp", version)
		return
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: labgrader-seccomp COMMAND [ARG...]")
		os.Exit(2)
	}
	p, ok := platforms[runtime.GOARCH]
	if !ok {
		fmt.Fprintf(os.Stderr, "labgrader-seccomp: no filter for %s\n", runtime.GOARCH)
		os.Exit(125)
	}
	path, err := exec.LookPath(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "labgrader-seccomp: %v\n", err)
		os.Exit(127)
	}
	runtime.LockOSThread()
	if err := install(p); err != nil {
		fmt.Fprintf(os.Stderr, "labgrader-seccomp: %v\n", err)
		os.Exit(125)
	}
	err = syscall.Exec(path, os.Args[1:], os.Environ())
	fmt.Fprintf(os.Stderr, "labgrader-seccomp: exec %s: %v\n", path, err)
	os.Exit(126)
}

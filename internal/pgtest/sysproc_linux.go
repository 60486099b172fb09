package pgtest

import "syscall"

// sysProcAttr runs the child as cred (nil: as the caller) and has the kernel kill it when
// the forking thread, and so the test binary, goes away.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
}

package crashtest

import "syscall"

// sysProcAttr has the kernel kill the server when the forking thread, and so the test
// binary, goes away.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

//go:build unix && !linux

package pgtest

import "syscall"

// sysProcAttr runs the child as cred (nil: as the caller). Outside Linux there is no
// parent-death signal, so a killed test binary can leave its server running.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred}
}

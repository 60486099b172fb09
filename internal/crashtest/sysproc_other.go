//go:build !linux

package crashtest

import "syscall"

// sysProcAttr is empty outside Linux, which has no parent-death signal: a killed test
// binary can leave its server running.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

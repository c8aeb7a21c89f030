// Package e2e starts skiff's real binaries and drives them with the real
// kubectl, as a user would.
package e2e

import (
	"os/exec"
)

// runCommand runs a program to completion and returns its combined output.
func runCommand(path string, args ...string) (string, error) {
	out, err := exec.Command(path, args...).CombinedOutput()
	return string(out), err
}

package process

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// procStat is what the kubelet needs from /proc/<pid>/stat: whether the
// process is a zombie, and its start time, which tells it apart from a later
// process given the same pid.
type procStat struct {
	state     byte
	startTime uint64 // clock ticks after boot
}

func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	// The command name is in parentheses and may itself hold spaces and
	// parentheses, so the fields start after the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat: %d fields", pid, len(fields))
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("parse /proc/%d/stat starttime: %w", pid, err)
	}
	return procStat{state: fields[0][0], startTime: start}, nil
}

// sameProcessAlive reports whether pid is still the process that started at
// startTime and has not exited (a zombie has exited).
func sameProcessAlive(pid int, startTime uint64) bool {
	st, err := readProcStat(pid)
	return err == nil && st.startTime == startTime && st.state != 'Z' && st.state != 'X'
}

// signalGroup sends sig to every process in the process group pgid. A group
// that no longer exists is not an error.
func signalGroup(pgid int, sig syscall.Signal) error {
	if pgid <= 1 {
		return fmt.Errorf("refusing to signal process group %d", pgid)
	}
	if err := syscall.Kill(-pgid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %v to process group %d: %w", sig, pgid, err)
	}
	return nil
}

// markedProcesses returns the processes whose environment carries this
// runtime's root marker, by the container ID they carry. It finds processes
// the state file does not know, such as one started just before a crash.
func markedProcesses(rootMarker string) map[int]string {
	out := map[int]string{}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue // gone, or not ours to read
		}
		var id string
		marked := false
		for _, kv := range bytes.Split(env, []byte{0}) {
			switch {
			case string(kv) == rootMarker:
				marked = true
			case bytes.HasPrefix(kv, []byte(envContainerID+"=")):
				id = string(kv[len(envContainerID)+1:])
			}
		}
		if marked {
			out[pid] = id
		}
	}
	return out
}

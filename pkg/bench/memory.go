package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

// ProcessMemory is what /proc/<pid>/status says of a process's memory.
type ProcessMemory struct {
	// RSS is resident now (VmRSS), in bytes.
	RSS int64
	// PeakRSS is the most it was ever resident (VmHWM), in bytes.
	PeakRSS int64
	// AnonRSS is the part of RSS that is anonymous (RssAnon): the heap and
	// stacks, which only the process can give back. The rest is mostly
	// file pages mapped from the page cache (RssFile), clean and
	// reclaimable: the binary's text and, in an API server with an
	// embedded etcd, etcd's database. Zero if the kernel does not say.
	AnonRSS int64
}

// ReadProcessMemory reads pid's resident and peak resident memory. The
// process must run on this machine.
func ReadProcessMemory(pid int) (ProcessMemory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ProcessMemory{}, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	defer f.Close()
	m, err := parseProcStatus(f)
	if err != nil {
		return ProcessMemory{}, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	return m, nil
}

// parseProcStatus reads VmRSS, VmHWM ("VmRSS:   123456 kB") and, where
// the kernel gives it, RssAnon from the text of /proc/<pid>/status.
func parseProcStatus(r io.Reader) (ProcessMemory, error) {
	var m ProcessMemory
	var found int
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || (key != "VmRSS" && key != "VmHWM" && key != "RssAnon") {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return m, fmt.Errorf("unexpected %s line %q", key, sc.Text())
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("parse %s: %w", key, err)
		}
		switch key {
		case "VmRSS":
			m.RSS = kb * 1024
			found++
		case "VmHWM":
			m.PeakRSS = kb * 1024
			found++
		default:
			m.AnonRSS = kb * 1024
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if found < 2 {
		return m, fmt.Errorf("no VmRSS and VmHWM (a kernel thread, or not Linux?)")
	}
	return m, nil
}

// ReadProcessCPU reads the CPU time pid has used, user and system, in
// seconds. The process must run on this machine.
func ReadProcessCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of process %d: %w", pid, err)
	}
	s, err := parseProcStat(string(b))
	if err != nil {
		return 0, fmt.Errorf("read CPU time of process %d: %w", pid, err)
	}
	return s, nil
}

// userHZ is the unit of /proc's clock ticks: USER_HZ, which Linux fixes at
// 100 for user space whatever the kernel's own tick.
const userHZ = 100

// parseProcStat reads utime and stime, the 14th and 15th fields, from the
// text of /proc/<pid>/stat. The 2nd field, the command in parentheses, may
// hold spaces, so the fields are counted from its closing parenthesis.
func parseProcStat(text string) (float64, error) {
	i := strings.LastIndexByte(text, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command field in %q", text)
	}
	// After the command: state (3rd field) onwards; utime is the 14th.
	fields := strings.Fields(text[i+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("too few fields in %q", text)
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse CPU ticks %q: %w", f, err)
		}
		ticks += n
	}
	return float64(ticks) / userHZ, nil
}

// residentMemoryMetric is the standard Go process collector's gauge.
const residentMemoryMetric = "process_resident_memory_bytes"

// apiServerRSSFromMetrics reads the API server's resident memory from its
// /metrics, which needs a user allowed to read it (an admin).
func apiServerRSSFromMetrics(ctx context.Context, client clientset.Interface) (int64, error) {
	body, err := client.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("get /metrics: %w", err)
	}
	v, err := metricValue(body, residentMemoryMetric)
	if err != nil {
		return 0, err
	}
	return int64(v), nil
}

// metricValue finds an unlabelled sample of name in Prometheus text
// exposition format.
func metricValue(text []byte, name string) (float64, error) {
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 2 || fields[0] != name {
			continue
		}
		v, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s value %q: %w", name, fields[1], err)
		}
		return v, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("no %s in the metrics", name)
}

// mib is bytes in MiB.
func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }

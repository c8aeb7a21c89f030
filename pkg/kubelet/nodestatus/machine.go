package nodestatus

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	"k8s.io/apimachinery/pkg/api/resource"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

// DefaultMaxPods is the pods capacity of a node, as upstream's default.
const DefaultMaxPods = 110

// MachineCapacity is what this machine offers: its CPUs, its memory from
// /proc/meminfo, and maxPods pods. overrides replace any of them.
func MachineCapacity(maxPods int, overrides v1alpha1.ResourceList) (v1alpha1.ResourceList, error) {
	mem, err := memTotal("/proc/meminfo")
	if err != nil {
		return nil, err
	}
	out := v1alpha1.ResourceList{
		v1alpha1.ResourceCPU:    *resource.NewQuantity(int64(goruntime.NumCPU()), resource.DecimalSI),
		v1alpha1.ResourceMemory: *resource.NewQuantity(mem, resource.BinarySI),
		v1alpha1.ResourcePods:   *resource.NewQuantity(int64(maxPods), resource.DecimalSI),
	}
	for name, q := range overrides {
		out[name] = q.DeepCopy()
	}
	return out, nil
}

// memTotal reads MemTotal, in bytes, from a meminfo file.
func memTotal(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("read memory size: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse MemTotal in %s: %w", path, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no MemTotal in %s", path)
}

// Allocatable is capacity less what is reserved for the system and the
// kubelet, never below zero.
func Allocatable(capacity v1alpha1.ResourceList, reserved ...v1alpha1.ResourceList) v1alpha1.ResourceList {
	out := v1alpha1.ResourceList{}
	for name, q := range capacity {
		left := q.DeepCopy()
		for _, r := range reserved {
			if rq, ok := r[name]; ok {
				left.Sub(rq)
			}
		}
		if left.Sign() < 0 {
			left = *resource.NewQuantity(0, q.Format)
		}
		out[name] = left
	}
	return out
}

// ParseResourceList parses "cpu=2,memory=4Gi,pods=50" as the --kube-reserved
// style flags write it.
func ParseResourceList(s string) (v1alpha1.ResourceList, error) {
	out := v1alpha1.ResourceList{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return nil, fmt.Errorf("%q: want name=quantity", kv)
		}
		switch name := v1alpha1.ResourceName(k); name {
		case v1alpha1.ResourceCPU, v1alpha1.ResourceMemory, v1alpha1.ResourcePods:
			q, err := resource.ParseQuantity(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if q.Sign() < 0 {
				return nil, fmt.Errorf("%s: must not be negative", k)
			}
			out[name] = q
		default:
			return nil, fmt.Errorf("unknown resource %q (want cpu, memory or pods)", k)
		}
	}
	return out, nil
}

// NodeIP is the node's InternalIP: the given address if any, else the first
// non-loopback address of the machine (IPv4 first), else 127.0.0.1.
func NodeIP(given string) (string, error) {
	if given != "" {
		if net.ParseIP(given) == nil {
			return "", fmt.Errorf("node IP %q is not an IP address", given)
		}
		return given, nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "127.0.0.1", nil
	}
	var v6 string
	for _, a := range addrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok || ipnet.IP.IsLoopback() || ipnet.IP.IsLinkLocalUnicast() {
			continue
		}
		if ipnet.IP.To4() != nil {
			return ipnet.IP.String(), nil
		}
		if v6 == "" {
			v6 = ipnet.IP.String()
		}
	}
	if v6 != "" {
		return v6, nil
	}
	return "127.0.0.1", nil
}

// SystemInfo is the node's nodeInfo, less the runtime and kubelet versions.
func SystemInfo() v1alpha1.NodeSystemInfo {
	info := v1alpha1.NodeSystemInfo{
		OperatingSystem: goruntime.GOOS,
		Architecture:    goruntime.GOARCH,
		OSImage:         osImage("/etc/os-release"),
	}
	for _, p := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id"} {
		if data, err := os.ReadFile(p); err == nil {
			info.MachineID = strings.TrimSpace(string(data))
			break
		}
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err == nil {
		info.KernelVersion = string(bytes.TrimRight(u.Release[:], "\x00"))
	}
	return info
}

func osImage(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "Unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return "Unknown"
}

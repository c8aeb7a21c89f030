package framework

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Kubeconfig mints a kubeconfig for user in groups with `skiff kubeconfig`,
// signed by the API server's CA, and returns its path.
func Kubeconfig(t testing.TB, server *APIServer, user string, groups ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), strings.ReplaceAll(user, ":", "_")+".kubeconfig")
	args := []string{"kubeconfig", "--data-dir", server.DataDir, "--user", user, "-o", path}
	for _, g := range groups {
		args = append(args, "--group", g)
	}
	if out, err := exec.Command(Binary(t, "skiff"), args...).CombinedOutput(); err != nil {
		t.Fatalf("skiff %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return path
}

// KubeletServingCert mints a kubelet serving certificate for node and its
// addresses with `skiff kubelet-serving-cert`, signed by the API server's
// CA, and returns the kubelet flags that use it.
func KubeletServingCert(t testing.TB, server *APIServer, node string, addresses ...string) []string {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, node+".crt"), filepath.Join(dir, node+".key")
	args := []string{"kubelet-serving-cert", "--data-dir", server.DataDir, "--node-name", node, "--cert-file", certFile, "--key-file", keyFile}
	for _, a := range addresses {
		args = append(args, "--address", a)
	}
	if out, err := exec.Command(Binary(t, "skiff"), args...).CombinedOutput(); err != nil {
		t.Fatalf("skiff %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return []string{"--tls-cert-file", certFile, "--tls-private-key-file", keyFile}
}

// CAFile is the cluster CA the API server's data dir holds.
func (s *APIServer) CAFile() string { return filepath.Join(s.DataDir, "pki", "ca.crt") }

// Scheduler is a skiff-scheduler process.
type Scheduler struct {
	*Process
	// SecurePort serves its /healthz, /metrics and profiles over HTTPS.
	SecurePort int
	server     *APIServer
}

// SchedulerArgs is skiff-scheduler's command line as system:kube-scheduler:
// its endpoints on 127.0.0.1:securePort, trusting the cluster CA's client
// certificates and asking the API server who may read them.
func SchedulerArgs(t testing.TB, server *APIServer, securePort int, extraArgs ...string) []string {
	t.Helper()
	return append([]string{
		"--kubeconfig", Kubeconfig(t, server, "system:kube-scheduler"),
		"--bind-address", "127.0.0.1",
		"--secure-port", strconv.Itoa(securePort),
		"--client-ca-file", server.CAFile(),
	}, extraArgs...)
}

// StartScheduler runs skiff-scheduler with SchedulerArgs on a free port and
// waits until its /healthz answers.
func StartScheduler(t testing.TB, server *APIServer, extraArgs ...string) *Scheduler {
	t.Helper()
	port := FreePort(t)
	s := &Scheduler{
		Process:    Start(t, "skiff-scheduler", Binary(t, "skiff-scheduler"), SchedulerArgs(t, server, port, extraArgs...)...),
		SecurePort: port,
		server:     server,
	}
	WaitFor(t, 60*time.Second, "skiff-scheduler /healthz", func() (bool, error) {
		if s.Exited() {
			return false, fmt.Errorf("skiff-scheduler exited: %v", s.err)
		}
		code, _, err := s.Get("", "/healthz")
		return err == nil && code == http.StatusOK, nil
	})
	return s
}

// Get GETs path on the scheduler's secure port with the client certificate
// of kubeconfig, or anonymously when kubeconfig is "".
func (s *Scheduler) Get(kubeconfig, path string) (int, string, error) {
	return SecureGet(fmt.Sprintf("https://127.0.0.1:%d%s", s.SecurePort, path), kubeconfig)
}

// Metrics returns the scheduler's /metrics text, read as the admin.
func (s *Scheduler) Metrics(t testing.TB) string {
	t.Helper()
	code, body, err := s.Get(s.server.Kubeconfig, "/metrics")
	if err != nil || code != http.StatusOK {
		t.Fatalf("scheduler /metrics: code %d, err %v: %.300s", code, err, body)
	}
	return body
}

// SecureGet GETs url over HTTPS presenting the client certificate of
// kubeconfig (none when ""). It does not verify the server's certificate:
// components serve self-signed ones by default, as upstream's do.
func SecureGet(url, kubeconfig string) (int, string, error) {
	cfg := &rest.Config{}
	if kubeconfig != "" {
		loaded, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return 0, "", fmt.Errorf("load %s: %w", kubeconfig, err)
		}
		cfg.TLSClientConfig = rest.TLSClientConfig{
			CertFile: loaded.CertFile, KeyFile: loaded.KeyFile, CertData: loaded.CertData, KeyData: loaded.KeyData,
		}
	}
	cfg.Insecure = true
	cfg.Timeout = 5 * time.Second
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return 0, "", fmt.Errorf("client for %s: %w", url, err)
	}
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// HTTPGet does a plain HTTP GET with a short timeout.
func HTTPGet(url string) (int, string, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// KubeletOptions say how to run one skiff-kubelet.
type KubeletOptions struct {
	// NodeName is --node-name; the kubelet runs as system:node:<NodeName>
	// unless Kubeconfig is set.
	NodeName string
	// Runtime is --runtime: process, cri or fake.
	Runtime string
	// RootDir is --root-dir; a fresh temp dir when empty.
	RootDir string
	// Kubeconfig replaces the node identity (simulated nodes use an admin's).
	Kubeconfig string
	// Serve gives the kubelet its HTTPS API (logs) on a free port, trusting
	// the cluster CA; without it --port is 0.
	Serve bool
	// ExtraArgs are appended to the command line.
	ExtraArgs []string
}

// Kubelet is a skiff-kubelet process.
type Kubelet struct {
	*Process
	Options     KubeletOptions
	Kubeconfig  string
	Port        int
	HealthzPort int
	args        []string
}

// StartKubelet runs skiff-kubelet on 127.0.0.1 and waits until its healthz
// answers. Whatever containers the process runtime leaves under the root
// dir are killed when the test ends, since containers outlive a kubelet.
func StartKubelet(t testing.TB, server *APIServer, opts KubeletOptions) *Kubelet {
	t.Helper()
	if opts.RootDir == "" {
		opts.RootDir = t.TempDir()
	}
	k := &Kubelet{Options: opts, Kubeconfig: opts.Kubeconfig, HealthzPort: FreePort(t)}
	if k.Kubeconfig == "" {
		k.Kubeconfig = Kubeconfig(t, server, "system:node:"+opts.NodeName, "system:nodes")
	}
	var serving []string
	if opts.Serve {
		k.Port = FreePort(t)
		serving = KubeletServingCert(t, server, opts.NodeName, "127.0.0.1")
	}
	k.args = append([]string{
		"--kubeconfig", k.Kubeconfig,
		"--node-name", opts.NodeName,
		"--runtime", opts.Runtime,
		"--root-dir", opts.RootDir,
		"--address", "127.0.0.1",
		"--node-ip", "127.0.0.1",
		"--port", strconv.Itoa(k.Port),
		"--client-ca-file", server.CAFile(),
		"--healthz-port", strconv.Itoa(k.HealthzPort),
	}, serving...)
	k.args = append(k.args, opts.ExtraArgs...)
	k.start(t)
	if opts.Runtime == "process" {
		root, _ := filepath.Abs(opts.RootDir)
		t.Cleanup(func() {
			k.Kill()
			KillContainerProcesses(root)
		})
	}
	return k
}

func (k *Kubelet) start(t testing.TB) {
	t.Helper()
	k.Process = Start(t, "skiff-kubelet-"+k.Options.NodeName, Binary(t, "skiff-kubelet"), k.args...)
	WaitFor(t, 60*time.Second, "skiff-kubelet healthz", func() (bool, error) {
		if k.Exited() {
			return false, fmt.Errorf("skiff-kubelet exited: %v", k.err)
		}
		code, _, err := HTTPGet(fmt.Sprintf("http://127.0.0.1:%d/healthz", k.HealthzPort))
		return err == nil && code == http.StatusOK, nil
	})
}

// Restart starts the kubelet again with the same command line, after it
// was stopped or killed.
func (k *Kubelet) Restart(t testing.TB) {
	t.Helper()
	if !k.Exited() {
		t.Fatalf("restart of a kubelet that still runs")
	}
	k.start(t)
}

// procs lists the live (not zombie) processes of this machine.
func procs() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}

// ProcessesWithArg returns the live processes one of whose command-line
// arguments is exactly arg: give each test container a unique marker
// argument, and this finds its processes wherever they run.
func ProcessesWithArg(arg string) []int {
	var found []int
	for _, pid := range procs() {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		for _, a := range bytes.Split(cmdline, []byte{0}) {
			if string(a) == arg {
				found = append(found, pid)
				break
			}
		}
	}
	return found
}

// ContainerGroups returns the process groups of the live processes that
// carry marker. The process runtime runs each container as a process group
// of its own, led by its main process, so this counts copies of a
// container: a shell that forks a child (which carries its arguments until
// it execs) still makes one group.
func ContainerGroups(marker string) []int {
	var groups []int
	for _, pid := range ProcessesWithArg(marker) {
		pgid, err := ProcessGroupOf(pid)
		if err != nil {
			continue // gone since it was listed
		}
		if !slices.Contains(groups, pgid) {
			groups = append(groups, pgid)
		}
	}
	slices.Sort(groups)
	return groups
}

// ProcessGroupOf reads a process's group from /proc/<pid>/stat.
func ProcessGroupOf(pid int) (int, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat of process %d: %w", pid, err)
	}
	// The command name may hold spaces; the fields after it are state,
	// ppid, pgrp.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("parse stat of process %d: %q", pid, stat)
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 3 {
		return 0, fmt.Errorf("parse stat of process %d: %q", pid, stat)
	}
	pgid, err := strconv.Atoi(fields[2])
	if err != nil {
		return 0, fmt.Errorf("parse process group of process %d: %w", pid, err)
	}
	return pgid, nil
}

// Alive reports whether pid is a live, non-zombie process.
func Alive(pid int) bool {
	for _, p := range procs() {
		if p == pid {
			return true
		}
	}
	return false
}

// KillContainerProcesses kills every process the process runtime started
// under root: they carry SKIFF_KUBELET_ROOT=<root> in their environment.
func KillContainerProcesses(root string) {
	marker := []byte("SKIFF_KUBELET_ROOT=" + root)
	for _, pid := range procs() {
		env, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if bytes.Equal(kv, marker) {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				_ = syscall.Kill(pid, syscall.SIGKILL)
				break
			}
		}
	}
}

// Line is one line of a background command's output and when it came.
type Line struct {
	At   time.Time
	Text string
}

// Lines is a background kubectl whose output lines are time-stamped as
// they arrive, for watches whose timing matters.
type Lines struct {
	C    <-chan Line
	stop func()
}

// Stop ends the command.
func (l *Lines) Stop() { l.stop() }

// StartLines runs kubectl in the background and sends each line of its
// standard output on a channel, stamped with the time it was read.
func (k *Kubectl) StartLines(t testing.TB, args ...string) *Lines {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, k.Path, append([]string{"--kubeconfig", k.Kubeconfig}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("kubectl pipe: %v", err)
	}
	var stderr Output
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start kubectl %v: %v", args, err)
	}
	lines := make(chan Line, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- Line{At: time.Now(), Text: sc.Text()}
		}
		_ = cmd.Wait()
		if s := stderr.String(); s != "" && ctx.Err() == nil {
			t.Logf("kubectl %v: %s", args, s)
		}
	}()
	stop := func() {
		cancel()
		// Drain, so the reader is never blocked on a full channel.
		go func() {
			for range lines { //nolint:revive // draining
			}
		}()
		<-done
	}
	t.Cleanup(stop)
	return &Lines{C: lines, stop: stop}
}

// Command is kubectl with args, the kubeconfig in $KUBECONFIG rather than
// a flag, and binDir first on $PATH: how a user runs a kubectl plugin
// (kubectl looks plugins up on $PATH, and a global flag before the plugin
// name stops that lookup).
func (k *Kubectl) Command(ctx context.Context, binDir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, k.Path, args...)
	cmd.Env = append(os.Environ(),
		"KUBECONFIG="+k.Kubeconfig,
		"PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return cmd
}

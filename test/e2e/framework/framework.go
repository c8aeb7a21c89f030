// Package framework runs skiff's real binaries for end-to-end tests and
// drives them with the real kubectl.
package framework

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

// skiffBuild builds every skiff command into a temp dir, with a stamped
// version as `make build` does, unless $SKIFF_BIN_DIR names a built bin/.
var skiffBuild = &goBuild{
	what:   "skiff binaries",
	envVar: "SKIFF_BIN_DIR",
	args: []string{"-ldflags", "-X k8s.io/component-base/version.gitVersion=v1.37.2-skiff.e2e " +
		"-X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=37", "./cmd/..."},
}

// BinDir returns the folder holding the skiff binaries: $SKIFF_BIN_DIR when
// set (make test builds them there), otherwise a fresh build made once per
// test process.
func BinDir(t testing.TB) string {
	t.Helper()
	return skiffBuild.path(t)
}

// goBuild is a `go build` in the module root made at most once per test
// process, into a temp dir, unless an environment variable names a
// prebuilt result.
type goBuild struct {
	what   string   // for messages
	envVar string   // names a prebuilt result that replaces the build
	file   string   // the output file in the temp dir; empty: the dir itself
	args   []string // go build's arguments after -o

	once   sync.Once
	result string
	err    error
}

func (b *goBuild) path(t testing.TB) string {
	t.Helper()
	b.once.Do(func() {
		if p := os.Getenv(b.envVar); p != "" {
			b.result = p
			return
		}
		dir, err := os.MkdirTemp("", "skiff-e2e-build-")
		if err != nil {
			b.err = fmt.Errorf("create build dir: %w", err)
			return
		}
		root, err := moduleRoot()
		if err != nil {
			b.err = err
			return
		}
		b.result = filepath.Join(dir, b.file)
		out := b.result
		if b.file == "" {
			out += "/" // go build -o dir/ puts every main package there
		}
		start := time.Now()
		cmd := exec.Command("go", append([]string{"build", "-o", out}, b.args...)...)
		cmd.Dir = root
		if output, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %w\n%s", strings.Join(b.args, " "), err, output)
			return
		}
		t.Logf("built %s in %s", b.what, time.Since(start).Round(100*time.Millisecond))
	})
	if b.err != nil {
		t.Fatalf("build %s: %v", b.what, b.err)
	}
	if _, err := os.Stat(b.result); err != nil {
		t.Fatalf("%s at %s: %v", b.what, b.result, err)
	}
	return b.result
}

// Binary is the path of one skiff binary.
func Binary(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(BinDir(t), name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("binary %s not built: %v", name, err)
	}
	return p
}

func moduleRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot locate the source tree")
	}
	return filepath.Abs(filepath.Join(filepath.Dir(file), "..", "..", ".."))
}

// KubectlPath is the real kubectl on PATH. The tests need it: they exist to
// show that a stock kubectl works against skiff.
func KubectlPath(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("kubectl")
	if err != nil {
		t.Fatalf("kubectl is not on PATH: the end-to-end tests drive the real kubectl")
	}
	return p
}

// Process is a running skiff binary whose output goes to a log file.
type Process struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
}

// Start runs binary with args; its stdout and stderr go to a log file in
// the test's temp dir, printed when the test fails. The process is killed
// when the test ends, if it is still running.
func Start(t testing.TB, name, binary string, args ...string) *Process {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("create log for %s: %v", name, err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, so a kill reaches whatever it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			p.DumpLog(t)
		}
	})
	return p
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM and waits up to timeout for the process to exit,
// returning its exit code (-1 if it had to be killed).
func (p *Process) Stop(timeout time.Duration) int {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.Kill()
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Kill sends SIGKILL to the whole process group and waits for the exit.
func (p *Process) Kill() {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// DumpLog prints the tail of the process's log into the test output.
func (p *Process) DumpLog(t testing.TB) {
	data, err := os.ReadFile(p.LogPath)
	if err != nil {
		return
	}
	if len(data) > 8000 {
		data = data[len(data)-8000:]
	}
	t.Logf("---- %s log (tail) ----\n%s", p.Name, data)
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// APIServer is a skiff-apiserver process.
type APIServer struct {
	*Process
	DataDir    string
	Port       int
	Kubeconfig string
}

// StartAPIServer runs skiff-apiserver with only --data-dir and a port, as a
// newcomer would, and waits until /readyz answers ok.
func StartAPIServer(t testing.TB, dataDir string, port int, extraArgs ...string) *APIServer {
	t.Helper()
	args := append([]string{"--data-dir", dataDir, "--secure-port", fmt.Sprint(port)}, extraArgs...)
	p := Start(t, "skiff-apiserver", Binary(t, "skiff-apiserver"), args...)
	s := &APIServer{Process: p, DataDir: dataDir, Port: port, Kubeconfig: filepath.Join(dataDir, "admin.kubeconfig")}
	WaitFor(t, 90*time.Second, "skiff-apiserver /readyz", func() (bool, error) {
		if p.Exited() {
			return false, fmt.Errorf("skiff-apiserver exited: %v", p.err)
		}
		code, _, err := s.Get("/readyz")
		return err == nil && code == http.StatusOK, nil
	})
	return s
}

// AdminConfig is the admin kubeconfig's client config without client-side
// rate limiting: the fault tests drive the server as hard as it answers.
func (s *APIServer) AdminConfig(t testing.TB) *rest.Config {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", s.Kubeconfig)
	if err != nil {
		t.Fatalf("load %s: %v", s.Kubeconfig, err)
	}
	cfg.QPS, cfg.Burst = -1, 0
	return cfg
}

// AdminClient is a clientset on AdminConfig.
func (s *APIServer) AdminClient(t testing.TB) clientset.Interface {
	t.Helper()
	client, err := clientset.NewForConfig(s.AdminConfig(t))
	if err != nil {
		t.Fatalf("create client: %v", err)
	}
	return client
}

// URL is the server's base URL.
func (s *APIServer) URL() string { return fmt.Sprintf("https://127.0.0.1:%d", s.Port) }

// Get does an anonymous HTTPS GET, as curl -k would.
func (s *APIServer) Get(path string) (int, string, error) {
	client := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, //nolint:gosec // a test client, like curl -k
	}
	resp, err := client.Get(s.URL() + path)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.String(), nil
}

// Kubectl runs the real kubectl with a kubeconfig.
type Kubectl struct {
	Path       string
	Kubeconfig string
}

// NewKubectl returns kubectl bound to kubeconfig.
func NewKubectl(t testing.TB, kubeconfig string) *Kubectl {
	return &Kubectl{Path: KubectlPath(t), Kubeconfig: kubeconfig}
}

// Run runs kubectl with args and stdin, returning stdout, stderr and error.
func (k *Kubectl) Run(stdin string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.Path, append([]string{"--kubeconfig", k.Kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// MustRun runs kubectl and fails the test if it fails.
func (k *Kubectl) MustRun(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := k.Run(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// Start runs kubectl in the background (for -w); Stop it with its cancel.
func (k *Kubectl) Start(t testing.TB, args ...string) (*Output, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, k.Path, append([]string{"--kubeconfig", k.Kubeconfig}, args...)...)
	var out Output
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start kubectl %v: %v", args, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return &out, stop
}

// Output collects a background command's output; safe to read while it runs.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Output) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what has been written so far.
func (b *Output) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WaitFor polls cond every 100 ms until it is true, fails, or timeout passes.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

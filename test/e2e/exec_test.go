package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/utils/exec"

	"skiff.dev/skiff/test/e2e/framework"
)

// envHTTPServer makes the test binary, run as a pod's process, an HTTP
// server on the port it names: a server in the pod that needs nothing but
// what the test already has.
const envHTTPServer = "SKIFF_E2E_HTTP_SERVER_PORT"

func init() {
	if port := os.Getenv(envHTTPServer); port != "" {
		http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "hello from the pod, %s", r.URL.Path) })
		err := http.ListenAndServe("127.0.0.1:"+port, nil)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// TestExecAttachPortForward gets into a process-runtime pod the ways a
// user does: kubectl skiff exec (output, exit code, stdin, a terminal),
// port-forward, and the refusals.
func TestExecAttachPortForward(t *testing.T) {
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	k := framework.NewKubectl(t, server.Kubeconfig)
	framework.StartScheduler(t, server, "--leader-elect=false")
	kubelet := framework.StartKubelet(t, server, framework.KubeletOptions{NodeName: "n1", Runtime: "process", Serve: true})
	framework.WaitFor(t, 30*time.Second, "node n1 Ready", func() (bool, error) {
		out, _, err := k.Run("", "get", "nodes")
		return err == nil && regexp.MustCompile(`(?m)^n1\s+Ready\s`).MatchString(out), nil
	})
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	httpPort := framework.FreePort(t)
	k.MustRun(t, fmt.Sprintf(`apiVersion: core.skiff.dev/v1alpha1
kind: Pod
metadata:
  name: shell
spec:
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", %q]
    workingDir: work
    env:
    - {name: GREETING, value: hello-from-env}
---
apiVersion: core.skiff.dev/v1alpha1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: server
    image: web
    command: [%q, "-test.run=^$"]
    env:
    - {name: %s, value: "%d"}
---
apiVersion: core.skiff.dev/v1alpha1
kind: Pod
metadata:
  name: reader
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    stdin: true
    stdinOnce: true
    command: ["sh", "-c", "while read line; do echo \"read: $line\"; done; echo stdin closed"]
---
apiVersion: core.skiff.dev/v1alpha1
kind: Pod
metadata:
  name: nowhere
spec:
  nodeSelector: {no-such: node}
  containers:
  - {name: main, image: busybox, command: [sleep, "100"]}
`, sleepForever, self, envHTTPServer, httpPort), "apply", "-f", "-")
	waitForPodField(t, k, "shell", "{.status.phase}", regexp.MustCompile(`^Running$`))
	waitForPodField(t, k, "web", "{.status.phase}", regexp.MustCompile(`^Running$`))

	plugin := func(ctx context.Context, kubeconfig string, args ...string) *exec.Cmd {
		kc := *k
		kc.Kubeconfig = kubeconfig
		return kc.Command(ctx, framework.BinDir(t), append([]string{"skiff"}, args...)...)
	}
	run := func(stdin string, args ...string) (string, string, int) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := plugin(ctx, server.Kubeconfig, args...)
		var out, errOut strings.Builder
		cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(stdin), &out, &errOut
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("kubectl skiff %v: %v", args, err)
		}
		return out.String(), errOut.String(), cmd.ProcessState.ExitCode()
	}

	t.Run("exec returns the command's output and exit code", func(t *testing.T) {
		out, errOut, code := run("", "exec", "shell", "--", "sh", "-c", `echo "$GREETING"; pwd; echo oops >&2; exit 3`)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || lines[0] != "hello-from-env" || !strings.HasSuffix(lines[1], "/main/work") {
			t.Errorf("stdout = %q, want the container's env and working dir", out)
		}
		if code != 3 || !strings.Contains(errOut, "oops") || !strings.Contains(errOut, "command terminated with exit code 3") {
			t.Errorf("exit code %d, stderr %q; want 3 and the remote stderr", code, errOut)
		}
		if out, _, code := run("", "exec", "pod/shell", "-c", "main", "--", "true"); code != 0 || out != "" {
			t.Errorf("exec true: exit %d, output %q", code, out)
		}
	})

	t.Run("exec over SPDY, as older clients speak it, returns the exit code", func(t *testing.T) {
		u := server.AdminClient(t).CoreV1alpha1().RESTClient().Post().Namespace("default").Resource("pods").Name("shell").
			SubResource("exec").Param("command", "sh").Param("command", "-c").Param("command", "echo spdy; exit 5").
			Param("stdout", "true").URL()
		spdy, err := remotecommand.NewSPDYExecutor(server.AdminConfig(t), "POST", u)
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		err = spdy.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdout: &out})
		var exit utilexec.ExitError
		if !errors.As(err, &exit) || exit.ExitStatus() != 5 || out.String() != "spdy\n" {
			t.Errorf("SPDY exec: %v, output %q; want exit code 5 and spdy", err, out.String())
		}
	})

	t.Run("exec -i passes stdin", func(t *testing.T) {
		out, errOut, code := run("line one\nline two\n", "exec", "-i", "shell", "--", "wc", "-l")
		if code != 0 || strings.TrimSpace(out) != "2" {
			t.Errorf("wc -l of two lines: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})

	t.Run("exec -it works under a pseudo-terminal", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := plugin(ctx, server.Kubeconfig, "exec", "-it", "shell", "--", "sh", "-c", `stty size; read line; echo "got $line"; exit 7`)
		term, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 33, Cols: 111})
		if err != nil {
			t.Fatal(err)
		}
		defer term.Close()
		var seen framework.Output
		copied := make(chan struct{})
		go func() { _, _ = io.Copy(&seen, term); close(copied) }()
		// The remote terminal has the local one's size: stty says so
		// before the command reads the line typed.
		framework.WaitFor(t, 20*time.Second, "stty size on the remote terminal", func() (bool, error) {
			return strings.Contains(seen.String(), "33 111"), nil
		})
		fmt.Fprint(term, "typed\r")
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 7 {
			t.Errorf("exit: %v, want code 7", err)
		}
		term.Close()
		<-copied
		got := seen.String()
		if !strings.Contains(got, "33 111") || !strings.Contains(got, "got typed") {
			t.Errorf("terminal showed %q; want the size 33 111 and the echoed line", got)
		}
	})

	t.Run("attach -i joins the container's stdin and stdout", func(t *testing.T) {
		waitForPodField(t, k, "reader", "{.status.phase}", regexp.MustCompile(`^Running$`))
		out, errOut, code := run("one\ntwo\n", "attach", "-i", "reader")
		// stdinOnce: the end of the client's stdin is the container's.
		if code != 0 || out != "read: one\nread: two\nstdin closed\n" {
			t.Errorf("attach: exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		waitForPodField(t, k, "reader", "{.status.phase}", regexp.MustCompile(`^Succeeded$`))
	})

	t.Run("Ctrl-C in exec -it goes to the remote command", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := plugin(ctx, server.Kubeconfig, "exec", "-it", "shell", "--", "sh", "-c", `trap 'echo interrupted; exit 9' INT; echo waiting; while :; do sleep 0.1; done`)
		term, err := pty.Start(cmd)
		if err != nil {
			t.Fatal(err)
		}
		defer term.Close()
		var seen framework.Output
		go func() { _, _ = io.Copy(&seen, term) }()
		framework.WaitFor(t, 20*time.Second, "the remote command to wait", func() (bool, error) {
			return strings.Contains(seen.String(), "waiting"), nil
		})
		fmt.Fprint(term, "\x03") // Ctrl-C, in the local terminal's raw mode
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 9 {
			t.Errorf("exit: %v, want the remote trap's 9; terminal showed %q", err, seen.String())
		}
	})

	t.Run("an exec its client abandons leaves no process", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cmd := plugin(ctx, server.Kubeconfig, "exec", "shell", "--", "sh", "-c", `echo $$; exec sleep 1000`)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil {
			t.Fatalf("read the remote pid: %v", err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil || !framework.Alive(pid) {
			t.Fatalf("remote pid %q: %v, alive %v", line, err, framework.Alive(pid))
		}
		_ = cmd.Process.Signal(syscall.SIGKILL)
		_ = cmd.Wait()
		framework.WaitFor(t, 20*time.Second, "the abandoned command to be killed", func() (bool, error) {
			return !framework.Alive(pid), nil
		})
	})

	t.Run("port-forward carries HTTP to the pod; a closed port fails alone", func(t *testing.T) {
		local, closedLocal := framework.FreePort(t), framework.FreePort(t)
		closedRemote := framework.FreePort(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cmd := plugin(ctx, server.Kubeconfig, "port-forward", "web",
			fmt.Sprintf("%d:%d", local, httpPort), fmt.Sprintf("%d:%d", closedLocal, closedRemote))
		var out framework.Output
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cancel(); _ = cmd.Wait() }()
		framework.WaitFor(t, 30*time.Second, "port-forward to listen", func() (bool, error) {
			return strings.Count(out.String(), "Forwarding from 127.0.0.1:") == 2, nil
		})
		get := func() string {
			t.Helper()
			code, body, err := framework.HTTPGet(fmt.Sprintf("http://127.0.0.1:%d/through-the-api-server", local))
			if err != nil || code != http.StatusOK {
				t.Fatalf("GET through the forwarded port: %d %v\n%s", code, err, out.String())
			}
			return body
		}
		if body := get(); body != "hello from the pod, /through-the-api-server" {
			t.Errorf("body %q", body)
		}
		// Nobody listens on the other port: the connection is closed with
		// nothing read, and port-forward says why.
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", closedLocal))
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		n, _ := conn.Read(make([]byte, 10))
		conn.Close()
		if n != 0 {
			t.Errorf("read %d bytes from a port nobody listens on", n)
		}
		framework.WaitFor(t, 20*time.Second, "port-forward to report the closed port", func() (bool, error) {
			return strings.Contains(out.String(), fmt.Sprintf("%d", closedRemote)) && strings.Contains(out.String(), "connection refused"), nil
		})
		// The other port goes on working.
		if body := get(); !strings.HasPrefix(body, "hello from the pod") {
			t.Errorf("after the failed port: body %q", body)
		}
	})

	t.Run("exec by a node or the scheduler is refused", func(t *testing.T) {
		for _, id := range []struct{ user, group string }{{"system:node:n1", "system:nodes"}, {"system:kube-scheduler", ""}} {
			var groups []string
			if id.group != "" {
				groups = append(groups, id.group)
			}
			kc := framework.Kubeconfig(t, server, id.user, groups...)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			cmd := plugin(ctx, kc, "exec", "shell", "--", "true")
			out, _ := cmd.CombinedOutput()
			cancel()
			if cmd.ProcessState.ExitCode() == 0 || !strings.Contains(strings.ToLower(string(out)), "forbidden") {
				t.Errorf("%s: exit %d, output %q; want forbidden", id.user, cmd.ProcessState.ExitCode(), out)
			}
		}
	})

	t.Run("bad requests are 4xx naming what is wrong", func(t *testing.T) {
		client := server.AdminClient(t).CoreV1alpha1().RESTClient()
		post := func(pod, sub string, params ...string) error {
			req := client.Post().Namespace("default").Resource("pods").Name(pod).SubResource(sub)
			for i := 0; i+1 < len(params); i += 2 {
				req = req.Param(params[i], params[i+1])
			}
			return req.Do(context.Background()).Error()
		}
		for _, c := range []struct {
			name  string
			err   error
			check func(error) bool
			want  string
		}{
			{"no such container", post("shell", "exec", "container", "nope", "command", "true", "stdout", "true"), apierrors.IsBadRequest, "container nope is not valid for pod shell"},
			{"a pod that is not running", post("nowhere", "exec", "command", "true", "stdout", "true"), apierrors.IsBadRequest, "does not have a host assigned"},
			{"no command", post("shell", "exec", "stdout", "true"), apierrors.IsInvalid, "command"},
			{"a bad port", post("web", "portforward", "ports", "0"), apierrors.IsInvalid, "ports[0]"},
			{"a port out of range", post("web", "portforward", "ports", "70000"), apierrors.IsBadRequest, "70000"},
		} {
			if c.err == nil || !c.check(c.err) || !strings.Contains(c.err.Error(), c.want) {
				t.Errorf("%s: %v; want a 4xx saying %q", c.name, c.err, c.want)
			}
		}
		_, errOut, code := run("", "exec", "shell", "-c", "nope", "--", "true")
		if code == 0 || !strings.Contains(errOut, "container nope is not valid for pod shell") {
			t.Errorf("plugin with a bad container: exit %d, %q", code, errOut)
		}
	})

	// Last: it takes the kubelet away.
	t.Run("a kubelet that has gone away is 503 naming the node", func(t *testing.T) {
		kubelet.Kill()
		_, errOut, code := run("", "exec", "shell", "--", "true")
		if code == 0 || !strings.Contains(errOut, "node n1") {
			t.Errorf("exec with the kubelet gone: exit %d, stderr %q", code, errOut)
		}
		// Over SPDY the refusal comes before the upgrade, as an HTTP status.
		u := server.AdminClient(t).CoreV1alpha1().RESTClient().Post().Namespace("default").Resource("pods").Name("shell").
			SubResource("exec").Param("command", "true").Param("stdout", "true").URL()
		tlsConfig, err := rest.TLSConfigFor(server.AdminConfig(t))
		if err != nil {
			t.Fatal(err)
		}
		tlsConfig.NextProtos = []string{"http/1.1"}
		req, _ := http.NewRequest(http.MethodPost, u.String(), nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "SPDY/3.1")
		req.Header.Set("X-Stream-Protocol-Version", "v4.channel.k8s.io")
		resp, err := (&http.Client{Transport: &http.Transport{TLSClientConfig: tlsConfig}}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "node n1") {
			err = fmt.Errorf("%s: %s", resp.Status, body)
			t.Errorf("exec upgrade with the kubelet gone: %v; want 503 naming node n1", err)
		}
	})
}

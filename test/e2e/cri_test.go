package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"skiff.dev/skiff/pkg/kubelet/runtime/cri"
	"skiff.dev/skiff/test/e2e/framework"
)

// The images hack/containerd-up.sh builds and imports: containerd cannot
// pull anything here.
const busyboxImage = framework.BusyboxImage

// criPod is a pod for the CRI runtime running a busybox shell script.
func criPod(name, restartPolicy, image, script string) string {
	return shellPod(name, restartPolicy, image, script)
}

// startCRINode starts containerd with the test images and a skiff-kubelet
// (node c1) on it, with skiff-scheduler, and waits for the node to be Ready.
func startCRINode(t *testing.T) (*framework.APIServer, *framework.Kubectl, *framework.Containerd) {
	t.Helper()
	framework.SkipWithoutContainerd(t)
	ctrd := framework.StartContainerd(t)

	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	k := framework.NewKubectl(t, server.Kubeconfig)
	framework.StartScheduler(t, server, "--leader-elect=false")
	framework.StartKubelet(t, server, framework.KubeletOptions{
		NodeName: "c1", Runtime: "cri", Serve: true,
		ExtraArgs: []string{"--container-runtime-endpoint", ctrd.Endpoint()},
	})
	framework.WaitFor(t, 30*time.Second, "node c1 Ready", func() (bool, error) {
		out, _, err := k.Run("", "get", "nodes", "-o", "wide")
		return err == nil && regexp.MustCompile(`(?m)^c1\s+Ready\s.*containerd://`).MatchString(out), nil
	})
	return server, k, ctrd
}

// TestKubeletCRIRuntimeWithContainerd runs skiff-kubelet --runtime cri
// against a real containerd the test starts, with images it builds.
func TestKubeletCRIRuntimeWithContainerd(t *testing.T) {
	_, k, ctrd := startCRINode(t)

	t.Run("a pod from a locally built image runs and logs through the API server", func(t *testing.T) {
		k.MustRun(t, criPod("hello", "Always", busyboxImage, `echo "hello from cri"; trap "exit 0" TERM; while :; do sleep 1; done`), "apply", "-f", "-")
		k.MustRun(t, "", "wait", "--for=condition=Ready", "pod/hello", "--timeout=90s")
		if out := k.MustRun(t, "", "get", "pod", "hello", "-o", "wide"); !regexp.MustCompile(`hello\s+1/1\s+Running\s+0\s+.*\sc1\s`).MatchString(out) {
			t.Errorf("get pod -o wide:\n%s", out)
		}
		if id := k.MustRun(t, "", "get", "pod", "hello", "-o", "jsonpath={.status.containerStatuses[0].containerID}"); !strings.HasPrefix(id, "containerd://") {
			t.Errorf("containerID %q, want containerd://…", id)
		}
		framework.WaitFor(t, 30*time.Second, "hello's log through pods/log", func() (bool, error) {
			out, _, err := k.Run("", "get", "--raw", "/apis/core.skiff.dev/v1alpha1/namespaces/default/pods/hello/log")
			return err == nil && out == "hello from cri\n", nil
		})
	})

	t.Run("kubectl skiff exec runs a command in the container through containerd's streaming server", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := k.Command(ctx, framework.BinDir(t), "skiff", "exec", "-i", "hello", "--", "sh", "-c", `read line; echo "in the container: $line $(cat /proc/1/cmdline | tr '\0' ' ')"; exit 4`)
		cmd.Stdin = strings.NewReader("typed\n")
		out, err := cmd.Output()
		if code := cmd.ProcessState.ExitCode(); code != 4 || !strings.Contains(string(out), "in the container: typed") {
			t.Errorf("exec: exit %d (%v), output %q; want code 4 and the container's answer", code, err, out)
		}
	})

	t.Run("exit 3 with restartPolicy Never ends Failed with exit code 3", func(t *testing.T) {
		k.MustRun(t, criPod("fails", "Never", busyboxImage, "echo bye; exit 3"), "apply", "-f", "-")
		waitForPodField(t, k, "fails", "{.status.phase}", regexp.MustCompile(`^Failed$`))
		got := k.MustRun(t, "", "get", "pod", "fails", "-o", "jsonpath={.status.containerStatuses[0].state.terminated.exitCode}/{.status.containerStatuses[0].state.terminated.reason}")
		if got != "3/Error" {
			t.Errorf("exitCode/reason = %q, want 3/Error", got)
		}
		if out := k.MustRun(t, "", "get", "--raw", "/apis/core.skiff.dev/v1alpha1/namespaces/default/pods/fails/log"); out != "bye\n" {
			t.Errorf("log = %q, want bye", out)
		}
	})

	t.Run("an image that cannot be pulled gives ErrImagePull then ImagePullBackOff", func(t *testing.T) {
		// Nothing listens on port 1: the pull fails at once.
		const absent = "127.0.0.1:1/skiff-e2e/absent:1"
		k.MustRun(t, criPod("absent", "Always", absent, "true"), "apply", "-f", "-")
		watch := k.StartLines(t, "get", "pod", "absent", "-w", "-o",
			`jsonpath={.status.containerStatuses[0].state.waiting.reason}|{.status.containerStatuses[0].state.waiting.message}{"\n"}`)
		reasons := map[string]string{}
		deadline := time.After(90 * time.Second)
		for reasons["ErrImagePull"] == "" || reasons["ImagePullBackOff"] == "" {
			select {
			case l, ok := <-watch.C:
				if !ok {
					t.Fatalf("kubectl get -w ended")
				}
				if reason, message, ok := strings.Cut(l.Text, "|"); ok && reason != "" && reasons[reason] == "" {
					reasons[reason] = message
				}
			case <-deadline:
				t.Fatalf("waiting reasons seen in 90 s: %v; want ErrImagePull and ImagePullBackOff", reasons)
			}
		}
		watch.Stop()
		// The runtime's own words, naming the image.
		if msg := reasons["ErrImagePull"]; !strings.Contains(msg, absent) {
			t.Errorf("ErrImagePull message %q does not name the image", msg)
		}
		if got := k.MustRun(t, "", "get", "pod", "absent", "-o", "jsonpath={.status.phase}"); got != "Pending" {
			t.Errorf("phase %q, want Pending", got)
		}
	})

	t.Run("a deleted pod's containers and sandbox are removed", func(t *testing.T) {
		uid := k.MustRun(t, "", "get", "pod", "hello", "-o", "jsonpath={.metadata.uid}")
		ctx := context.Background()
		byPod := map[string]string{cri.LabelPodUID: uid}
		sandboxes, err := ctrd.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{LabelSelector: byPod}})
		if err != nil {
			t.Fatal(err)
		}
		containers, err := ctrd.Runtime.ListContainers(ctx, &runtimeapi.ListContainersRequest{Filter: &runtimeapi.ContainerFilter{LabelSelector: byPod}})
		if err != nil {
			t.Fatal(err)
		}
		if len(sandboxes.Items) != 1 || len(containers.Containers) != 1 {
			t.Fatalf("hello has %d sandboxes and %d containers in containerd, want 1 and 1", len(sandboxes.Items), len(containers.Containers))
		}
		ids := []string{sandboxes.Items[0].Id, containers.Containers[0].Id}
		before := ctrd.ContainerIDs(t)
		for _, id := range ids {
			if !slices.Contains(before, id) {
				t.Fatalf("ctr containers ls lacks %s: %v", id, before)
			}
		}

		k.MustRun(t, "", "delete", "pod", "hello", "--timeout=90s")
		if _, errOut, err := k.Run("", "get", "pod", "hello"); err == nil || !strings.Contains(errOut, "NotFound") {
			t.Errorf("hello still there: %v %s", err, errOut)
		}
		// The kubelet removes the sandbox right after the final delete;
		// give it a moment.
		framework.WaitFor(t, 30*time.Second, "hello's sandbox and container to leave containerd", func() (bool, error) {
			after := ctrd.ContainerIDs(t)
			return !slices.Contains(after, ids[0]) && !slices.Contains(after, ids[1]), nil
		})
		left, err := ctrd.Runtime.ListPodSandbox(ctx, &runtimeapi.ListPodSandboxRequest{Filter: &runtimeapi.PodSandboxFilter{LabelSelector: byPod}})
		if err != nil || len(left.Items) != 0 {
			t.Errorf("CRI still lists hello's sandboxes: %v %v", left, err)
		}
	})

	t.Run("deleting every pod leaves containerd empty", func(t *testing.T) {
		k.MustRun(t, "", "delete", "pods", "--all", "--timeout=90s")
		framework.WaitFor(t, 30*time.Second, "no containers in containerd", func() (bool, error) {
			return len(ctrd.ContainerIDs(t)) == 0, nil
		})
	})
}

// TestSkiffUpWithContainerd follows README.md's CRI section: containerd
// from hack/containerd-up.sh, `skiff up --runtime cri` on it, the README's
// pod from the locally imported busybox; Ctrl-C leaves no sandbox behind.
func TestSkiffUpWithContainerd(t *testing.T) {
	framework.SkipWithoutContainerd(t)
	ctrd := framework.StartContainerd(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	up := framework.Start(t, "skiff-up", framework.Binary(t, "skiff"), "up", "--runtime", "cri",
		"--container-runtime-endpoint", ctrd.Endpoint(), "--pod-infra-container-image", framework.PauseImage,
		"--data-dir", dataDir, "--secure-port", fmt.Sprint(framework.FreePort(t)), "--kubelet-port", fmt.Sprint(framework.FreePort(t)),
		"--scheduler-secure-port", fmt.Sprint(framework.FreePort(t)), "--node-name", "cri-up", "--shutdown-grace-period", "5s")
	t.Cleanup(func() {
		if t.Failed() {
			dumpComponentLogs(t, filepath.Join(dataDir, "logs"))
		}
	})
	k := framework.NewKubectl(t, filepath.Join(dataDir, "admin.kubeconfig"))
	framework.WaitFor(t, 90*time.Second, "node cri-up Ready on containerd", func() (bool, error) {
		out, _, err := k.Run("", "get", "nodes", "-o", "wide")
		return err == nil && regexp.MustCompile(`(?m)^cri-up\s+Ready\s.*containerd://`).MatchString(out), nil
	})

	k.MustRun(t, fmt.Sprintf(`apiVersion: core.skiff.dev/v1alpha1
kind: Pod
metadata:
  name: hello
spec:
  containers:
  - name: main
    image: %s
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "while true; do echo hello from skiff; sleep 5; done"]
`, busyboxImage), "apply", "-f", "-")
	started := time.Now()
	k.MustRun(t, "", "wait", "--for=condition=Ready", "pod/hello", "--timeout=90s")
	t.Logf("README pod Running on containerd in %s", time.Since(started).Round(time.Millisecond))
	framework.WaitFor(t, 30*time.Second, "hello's log", func() (bool, error) {
		out, err := kubectlSkiff(t, k, "logs", "hello")
		return err == nil && strings.HasPrefix(out, "hello from skiff\n"), nil
	})
	if n := len(ctrd.ContainerIDs(t)); n != 2 {
		t.Errorf("%d containers in containerd, want the sandbox and hello's", n)
	}

	if code := up.Stop(2 * time.Minute); code != 0 {
		t.Errorf("skiff up after SIGTERM exited %d, want 0", code)
	}
	if ids := ctrd.ContainerIDs(t); len(ids) != 0 {
		t.Errorf("containerd still has %v after skiff up stopped, want no sandbox or container", ids)
	}
}

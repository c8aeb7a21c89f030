package app

import (
	"context"
	"encoding/json"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/generated/clientset/versioned/fake"
	"skiff.dev/skiff/pkg/kubelet/nodestatus"
)

// These tests run the whole kubelet with the process runtime against the
// generated fake clientset: the API server's rules (graceful deletion,
// field selectors) are not there, so the tests play the API server's part
// where they need it.

func testOptions(t *testing.T, root string) *Options {
	o := NewOptions()
	o.NodeName, o.Runtime, o.RootDir = "node-a", RuntimeProcess, root
	o.Port, o.HealthzPort, o.NodeIP = 0, 0, "10.9.8.7"
	if err := o.Complete(); err != nil {
		t.Fatal(err)
	}
	return o
}

// startKubelet runs the kubelet until the returned stop function is called.
func startKubelet(t *testing.T, o *Options, client *fake.Clientset) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runNode(ctx, o, clients{api: client, events: kubefake.NewClientset()}) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("kubelet returned %v, want nil on shutdown", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func shPod(name string, policy v1alpha1.RestartPolicy, script string) *v1alpha1.Pod {
	grace := int64(10)
	return &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: types.UID("uid-" + name), CreationTimestamp: metav1.Now()},
		Spec: v1alpha1.PodSpec{
			NodeName: "node-a", RestartPolicy: policy, TerminationGracePeriodSeconds: &grace,
			Containers: []v1alpha1.Container{{Name: "main", Image: "sh", Command: []string{"sh", "-c", script}}},
		},
	}
}

func getPod(t *testing.T, client *fake.Clientset, name string) *v1alpha1.Pod {
	p, err := client.CoreV1alpha1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return p
}

func TestKubeletRunsPodsWithTheProcessRuntime(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	client := fake.NewClientset()
	startKubelet(t, testOptions(t, root), client)

	waitFor(t, "a Ready node", func() bool {
		n, err := client.CoreV1alpha1().Nodes().Get(ctx, "node-a", metav1.GetOptions{})
		return err == nil && len(n.Status.Conditions) > 0 && n.Status.Conditions[0].Status == v1alpha1.ConditionTrue
	})
	node, _ := client.CoreV1alpha1().Nodes().Get(ctx, "node-a", metav1.GetOptions{})
	if node.Labels[nodestatus.LabelHostname] != "node-a" || node.Status.NodeInfo.ContainerRuntimeVersion == "" || !strings.HasPrefix(node.Status.NodeInfo.ContainerRuntimeVersion, "process://") {
		t.Errorf("node %+v", node)
	}
	waitFor(t, "the node lease", func() bool {
		_, err := client.CoreV1alpha1().Leases("skiff-node-lease").Get(ctx, "node-a", metav1.GetOptions{})
		return err == nil
	})

	// A long-running pod runs and is Ready.
	if _, err := client.CoreV1alpha1().Pods("default").Create(ctx, shPod("web", v1alpha1.RestartPolicyAlways, "echo started; exec sleep 300"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A failing pod ends Failed with its exit code.
	if _, err := client.CoreV1alpha1().Pods("default").Create(ctx, shPod("fail", v1alpha1.RestartPolicyNever, "exit 3"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "web Running and Ready", func() bool {
		p := getPod(t, client, "web")
		return p != nil && p.Status.Phase == v1alpha1.PodRunning && podReady(p)
	})
	web := getPod(t, client, "web")
	if web.Status.PodIP != "10.9.8.7" || web.Status.HostIP != "10.9.8.7" {
		t.Errorf("web IPs %q %q", web.Status.PodIP, web.Status.HostIP)
	}
	waitFor(t, "fail Failed", func() bool {
		p := getPod(t, client, "fail")
		return p != nil && p.Status.Phase == v1alpha1.PodFailed
	})
	if st := getPod(t, client, "fail").Status.ContainerStatuses[0].State.Terminated; st == nil || st.ExitCode != 3 || st.Reason != "Error" {
		t.Errorf("fail's container: %+v", st)
	}

	// Graceful deletion: the API server marks the pod; the kubelet stops
	// the process and deletes the object.
	pid := containerPID(t, root, "uid-web")
	if !processAlive(pid) {
		t.Fatalf("web's process %d is not running", pid)
	}
	markDeleted(t, client, "web", 10)
	waitFor(t, "web to be deleted", func() bool { return getPod(t, client, "web") == nil })
	waitFor(t, "web's process to be gone", func() bool { return !processAlive(pid) })
}

func TestRestartedKubeletNeitherDuplicatesNorOrphans(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	client := fake.NewClientset()
	stop := startKubelet(t, testOptions(t, root), client)
	for _, name := range []string{"keep", "gone"} {
		if _, err := client.CoreV1alpha1().Pods("default").Create(ctx, shPod(name, v1alpha1.RestartPolicyAlways, "exec sleep 300"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"keep", "gone"} {
		waitFor(t, name+" running", func() bool {
			p := getPod(t, client, name)
			return p != nil && p.Status.Phase == v1alpha1.PodRunning
		})
	}
	keepPID, gonePID := containerPID(t, root, "uid-keep"), containerPID(t, root, "uid-gone")

	// The kubelet stops (SIGTERM): the containers keep running.
	stop()
	if !processAlive(keepPID) || !processAlive(gonePID) {
		t.Fatal("containers died with the kubelet")
	}
	// While it is down, one pod is deleted outright.
	if err := client.CoreV1alpha1().Pods("default").Delete(ctx, "gone", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	startKubelet(t, testOptions(t, root), client)
	waitFor(t, "the deleted pod's process to be killed", func() bool { return !processAlive(gonePID) })
	// The kept pod's process is adopted: same pid, no second copy.
	time.Sleep(500 * time.Millisecond)
	if got := containerPID(t, root, "uid-keep"); got != keepPID || !processAlive(keepPID) {
		t.Errorf("keep's container is pid %d (alive %v), want the adopted %d", got, processAlive(keepPID), keepPID)
	}
	if n := countProcesses(root); n != 1 {
		t.Errorf("%d container processes running, want 1", n)
	}
	if p := getPod(t, client, "keep"); p.Status.ContainerStatuses[0].RestartCount != 0 || p.Status.ContainerStatuses[0].State.Running == nil {
		t.Errorf("keep after the restart: %+v", p.Status.ContainerStatuses[0])
	}
	markDeleted(t, client, "keep", 0)
	// The kubelet deletes the pod once its container's exit is recorded:
	// until then the runtime may still write under root, which the test's
	// cleanup removes.
	waitFor(t, "keep to be deleted", func() bool { return getPod(t, client, "keep") == nil })
	waitFor(t, "keep's process to be gone", func() bool { return !processAlive(keepPID) })
}

// markDeleted does what the API server does on a graceful delete.
func markDeleted(t *testing.T, client *fake.Clientset, name string, grace int64) {
	p := getPod(t, client, name)
	now := metav1.Now()
	p.DeletionTimestamp, p.DeletionGracePeriodSeconds = &now, &grace
	if _, err := client.CoreV1alpha1().Pods("default").Update(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func podReady(p *v1alpha1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == v1alpha1.PodReady {
			return c.Status == v1alpha1.ConditionTrue
		}
	}
	return false
}

// containerPID reads the running container's pid from the process
// runtime's state, one JSON file per container.
func containerPID(t *testing.T, root string, uid string) int {
	files, _ := filepath.Glob(filepath.Join(root, "containers", "*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var rec struct {
			PodUID string
			State  string
			PID    int `json:"pid"`
		}
		if json.Unmarshal(data, &rec) == nil && rec.PodUID == uid && rec.State == "Running" {
			return rec.PID
		}
	}
	t.Fatalf("no running container of pod %s", uid)
	return 0
}

func processAlive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(data), ')')
	return syscall.Kill(pid, 0) == nil && i > 0 && string(data)[i+2] != 'Z'
}

// countProcesses counts the running processes that belong to containers
// of the kubelet at root.
func countProcesses(root string) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err == nil && strings.Contains(string(env), "SKIFF_KUBELET_ROOT="+root+"\x00") && processAlive(pid) {
			n++
		}
	}
	return n
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		change  func(o *Options)
		wantErr string
	}{
		{"defaults with a kubeconfig", func(o *Options) {}, ""},
		{"unknown runtime", func(o *Options) { o.Runtime = "docker" }, "--runtime"},
		{"simulated nodes need the fake runtime", func(o *Options) { o.SimulateNodes = 3 }, "--simulate-nodes needs --runtime fake"},
		{"no kubeconfig", func(o *Options) { o.Kubeconfig = "" }, "--kubeconfig is required"},
		{"certificate without key", func(o *Options) { o.TLSCertFile = "c.crt" }, "go together"},
		{"bad capacity", func(o *Options) { o.Capacity = map[string]string{"gpu": "1"} }, "--capacity"},
		{"bad reservation", func(o *Options) { o.KubeReserved = map[string]string{"cpu": "lots"} }, "--kube-reserved"},
		{"port out of range", func(o *Options) { o.Port = 70000 }, "--port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOptions()
			o.Kubeconfig = "node.kubeconfig"
			tc.change(o)
			err := o.Validate()
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

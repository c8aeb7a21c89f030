// Package kubelet runs a skiff-kubelet with the process runtime against an
// in-process skiff-apiserver, under the node identity system:node:<name>.
package kubelet

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/kubelet/app"
	"skiff.dev/skiff/pkg/kubelet/runtime/process"
	"skiff.dev/skiff/pkg/kubelet/status"
	"skiff.dev/skiff/pkg/pki"
	"skiff.dev/skiff/test/integration/framework"
)

const nodeName = "kubelet-it"

func freePort(t *testing.T) int32 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return int32(ln.Addr().(*net.TCPAddr).Port)
}

// startKubelet runs a kubelet for nodeName as the node's own identity, and
// kills whatever containers are left when the test ends.
func startKubelet(t *testing.T, s *framework.TestServer) string {
	root, _ := startKubeletWith(t, s, nil)
	return root
}

// startKubeletWith is startKubelet with options changed by modify, and
// returns them too.
func startKubeletWith(t *testing.T, s *framework.TestServer, modify func(*app.Options)) (string, *app.Options) {
	root := t.TempDir()
	o := app.NewOptions()
	o.ClientConfig = s.ConfigFor("system:node:"+nodeName, "system:nodes")
	o.NodeName, o.Runtime, o.RootDir = nodeName, app.RuntimeProcess, root
	o.Address, o.Port, o.NodeIP, o.HealthzPort = "127.0.0.1", freePort(t), "127.0.0.1", 0
	o.ClientCAFile = filepath.Join(s.DataDir, "pki", "ca.crt")
	o.TLSCertFile, o.TLSPrivateKeyFile = servingCert(t, s)
	if modify != nil {
		modify(o)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("kubelet: %v", err)
		}
		// The kubelet leaves containers running when it stops; these
		// belong to the test.
		rt, err := process.New(process.Options{RootDir: root})
		if err != nil {
			t.Error(err)
			return
		}
		cs, _ := rt.ListContainers(context.Background())
		for _, c := range cs {
			_ = rt.StopContainer(context.Background(), c.ID, 0)
		}
	})
	return root, o
}

// servingCert mints the kubelet's serving certificate from the cluster CA,
// which the API server verifies.
func servingCert(t *testing.T, s *framework.TestServer) (certFile, keyFile string) {
	ca, err := pki.LoadCA(filepath.Join(s.DataDir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := ca.KubeletServingCert(nodeName, []string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := kp.WriteFiles(dir, "kubelet.crt", "kubelet.key"); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "kubelet.crt"), filepath.Join(dir, "kubelet.key")
}

func waitFor(t *testing.T, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s (last error: %v)", what, lastErr)
}

func pod(name string, policy v1alpha1.RestartPolicy, script string) *v1alpha1.Pod {
	return &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: v1alpha1.PodSpec{
			NodeName: nodeName, RestartPolicy: policy,
			Containers: []v1alpha1.Container{{Name: "main", Image: "sh", Command: []string{"sh", "-c", script}}},
		},
	}
}

func condition(p *v1alpha1.Pod, t v1alpha1.PodConditionType) v1alpha1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func TestKubeletRunsPodsThroughTheAPIServer(t *testing.T) {
	s := framework.StartTestServer(t)
	root := startKubelet(t, s)
	ctx := context.Background()
	pods := s.Client.CoreV1alpha1().Pods("default")

	waitFor(t, "a Ready node", func() (bool, error) {
		n, err := s.Client.CoreV1alpha1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range n.Status.Conditions {
			if c.Type == v1alpha1.NodeReady && c.Status == v1alpha1.ConditionTrue {
				return n.Status.DaemonEndpoints.KubeletEndpoint.Port > 0, nil
			}
		}
		return false, nil
	})
	waitFor(t, "the node's lease", func() (bool, error) {
		l, err := s.Client.CoreV1alpha1().Leases("skiff-node-lease").Get(ctx, nodeName, metav1.GetOptions{})
		return err == nil && l.Spec.RenewTime != nil, err
	})

	t.Run("a pod runs and is Ready, and its log is readable through the API server", func(t *testing.T) {
		if _, err := pods.Create(ctx, pod("web", v1alpha1.RestartPolicyAlways, "echo hello from web; exec sleep 300"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "web Running and Ready", func() (bool, error) {
			p, err := pods.Get(ctx, "web", metav1.GetOptions{})
			return err == nil && p.Status.Phase == v1alpha1.PodRunning && condition(p, v1alpha1.PodReady) == v1alpha1.ConditionTrue, err
		})
		p, _ := pods.Get(ctx, "web", metav1.GetOptions{})
		if p.Status.PodIP != "127.0.0.1" || p.Status.StartTime == nil || !strings.HasPrefix(p.Status.ContainerStatuses[0].ContainerID, "process://") {
			t.Errorf("status %+v", p.Status)
		}
		waitFor(t, "web's log", func() (bool, error) {
			out, err := s.Client.CoreV1alpha1().RESTClient().Get().Namespace("default").Resource("pods").Name("web").
				SubResource("log").Param("container", "main").DoRaw(ctx)
			return string(out) == "hello from web\n", err
		})
	})

	t.Run("exit 3 with restartPolicy Never ends Failed with exit code 3", func(t *testing.T) {
		if _, err := pods.Create(ctx, pod("fails", v1alpha1.RestartPolicyNever, "exit 3"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "fails to be Failed", func() (bool, error) {
			p, err := pods.Get(ctx, "fails", metav1.GetOptions{})
			return err == nil && p.Status.Phase == v1alpha1.PodFailed, err
		})
		p, _ := pods.Get(ctx, "fails", metav1.GetOptions{})
		if term := p.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 3 || term.Reason != "Error" {
			t.Errorf("container state %+v, want terminated with exit code 3", p.Status.ContainerStatuses[0].State)
		}
	})

	t.Run("a deleted pod's process is gone and the object removed", func(t *testing.T) {
		if _, err := pods.Create(ctx, pod("doomed", v1alpha1.RestartPolicyAlways, "echo $$$$ > pid; exec sleep 300"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		var uid string
		waitFor(t, "doomed Running", func() (bool, error) {
			p, err := pods.Get(ctx, "doomed", metav1.GetOptions{})
			if err == nil {
				uid = string(p.UID)
			}
			return err == nil && p.Status.Phase == v1alpha1.PodRunning, err
		})
		pid := readPID(t, root, uid)
		if err := pods.Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "doomed to be removed", func() (bool, error) {
			_, err := pods.Get(ctx, "doomed", metav1.GetOptions{})
			return apierrors.IsNotFound(err), err
		})
		waitFor(t, "doomed's process to be gone", func() (bool, error) { return !alive(pid), nil })
	})

	t.Run("the node identity reaches only its own objects", func(t *testing.T) {
		nodeClient, err := clientset.NewForConfig(s.ConfigFor("system:node:"+nodeName, "system:nodes"))
		if err != nil {
			t.Fatal(err)
		}
		other := &v1alpha1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere", Namespace: "default"},
			Spec: v1alpha1.PodSpec{NodeName: "another-node", Containers: []v1alpha1.Container{{Name: "c", Image: "x"}}}}
		if _, err := pods.Create(ctx, other, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := nodeClient.CoreV1alpha1().Pods("default").Get(ctx, "elsewhere", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("reading another node's pod: %v, want Forbidden", err)
		}
		if err := nodeClient.CoreV1alpha1().Pods("default").Delete(ctx, "elsewhere", metav1.DeleteOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("deleting another node's pod: %v, want Forbidden", err)
		}
		if _, err := nodeClient.CoreV1alpha1().Leases("skiff-node-lease").Get(ctx, "another-node", metav1.GetOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("reading another node's lease: %v, want Forbidden", err)
		}
		if _, err := nodeClient.CoreV1alpha1().Pods("default").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
			t.Errorf("listing every pod: %v, want Forbidden", err)
		}
	})
}

// readPID reads the pid a container wrote into its working directory,
// <root-dir>/pods/<uid>/<container>.
func readPID(t *testing.T, root, uid string) int {
	t.Helper()
	var pid int
	waitFor(t, "the container's pid file", func() (bool, error) {
		data, err := os.ReadFile(filepath.Join(root, "pods", uid, "main", "pid"))
		if err != nil {
			return false, err
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
		return err == nil && pid > 0, err
	})
	return pid
}

func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(data), ')')
	return syscall.Kill(pid, 0) == nil && i > 0 && string(data)[i+2] != 'Z'
}

// TestStatusWritesKeepOtherWritersConditions has a second writer set a
// readiness-gate-like condition on a running pod; the kubelet's next status
// change (the container exits) must keep it.
func TestStatusWritesKeepOtherWritersConditions(t *testing.T) {
	s := framework.StartTestServer(t)
	startKubelet(t, s)
	ctx := context.Background()
	pods := s.Client.CoreV1alpha1().Pods("default")
	gate := filepath.Join(t.TempDir(), "go")
	if _, err := pods.Create(ctx, pod("gated", v1alpha1.RestartPolicyNever, "while [ ! -f "+gate+" ]; do sleep 0.1; done"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "gated Ready", func() (bool, error) {
		p, err := pods.Get(ctx, "gated", metav1.GetOptions{})
		return err == nil && condition(p, v1alpha1.PodReady) == v1alpha1.ConditionTrue, err
	})

	other := []byte(`{"status":{"conditions":[{"type":"example.com/gate","status":"True","reason":"SetByTheTest"}]}}`)
	if _, err := pods.Patch(ctx, "gated", types.StrategicMergePatchType, other, metav1.PatchOptions{}, "status"); err != nil {
		t.Fatalf("second writer: %v", err)
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var final *v1alpha1.Pod
	waitFor(t, "gated Succeeded", func() (bool, error) {
		p, err := pods.Get(ctx, "gated", metav1.GetOptions{})
		final = p
		return err == nil && p.Status.Phase == v1alpha1.PodSucceeded, err
	})
	if got := condition(final, "example.com/gate"); got != v1alpha1.ConditionTrue {
		t.Errorf("after the kubelet's write the second writer's condition is %q, want True; conditions %+v", got, final.Status.Conditions)
	}
	if got := condition(final, v1alpha1.PodReady); got != v1alpha1.ConditionFalse {
		t.Errorf("Ready %q after the pod succeeded, want False", got)
	}

	// The kubelet's patches carry the pod's UID: one meant for a pod of the
	// same name deleted since is refused, and the kubelet takes it for a pod
	// gone, not an error to retry.
	gone := final.DeepCopy()
	gone.UID = "uid-of-a-deleted-pod"
	st := *gone.Status.DeepCopy()
	st.Message = "for a pod that no longer exists"
	if err := status.NewManager(s.Client, nil).SetPodStatus(ctx, gone, st); err != nil {
		t.Errorf("writing the status of a pod replaced under its name: %v, want no error", err)
	}
	if p, _ := pods.Get(ctx, "gated", metav1.GetOptions{}); p.Status.Message == st.Message {
		t.Error("a status meant for another pod of the same name was written")
	}
}

// TestImageChangeRestartsTheContainer updates a running pod's image: the
// kubelet restarts the container from the new spec and reports the
// generation it acted on.
func TestImageChangeRestartsTheContainer(t *testing.T) {
	s := framework.StartTestServer(t)
	startKubelet(t, s)
	ctx := context.Background()
	pods := s.Client.CoreV1alpha1().Pods("default")
	created, err := pods.Create(ctx, pod("web", v1alpha1.RestartPolicyNever, "while :; do sleep 1; done"), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "web Ready", func() (bool, error) {
		p, err := pods.Get(ctx, "web", metav1.GetOptions{})
		return err == nil && condition(p, v1alpha1.PodReady) == v1alpha1.ConditionTrue && p.Status.ObservedGeneration == created.Generation, err
	})
	patched, err := pods.Patch(ctx, "web", types.StrategicMergePatchType,
		[]byte(`{"spec":{"containers":[{"name":"main","image":"sh:v2"}]}}`), metav1.PatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if patched.Generation <= created.Generation {
		t.Fatalf("generation %d after an image change, want more than %d", patched.Generation, created.Generation)
	}
	waitFor(t, "web restarted with the new image", func() (bool, error) {
		p, err := pods.Get(ctx, "web", metav1.GetOptions{})
		if err != nil || len(p.Status.ContainerStatuses) != 1 {
			return false, err
		}
		cs := p.Status.ContainerStatuses[0]
		return p.Status.ObservedGeneration == patched.Generation && cs.Image == "sh:v2" && cs.RestartCount == 1 && cs.State.Running != nil, nil
	})
}

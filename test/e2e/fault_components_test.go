package e2e

import (
	"context"
	"fmt"
	"k8s.io/client-go/kubernetes"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"

	"skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/kubelet/nodelease"
	"skiff.dev/skiff/pkg/kubelet/nodestatus"
	"skiff.dev/skiff/test/e2e/framework"
)

// Fault 2's cluster: every node takes exactly schedFaultPodsPerNode of the
// pods, by cpu and by pod count alike, so the pods fill the nodes to the
// brim. A pod placed twice, or one node given a pod too many, shows as
// overcommit.
const (
	schedFaultNodes       = 50
	schedFaultPodsPerNode = 20
	schedFaultPods        = schedFaultNodes * schedFaultPodsPerNode
	schedFaultNodeCPU     = "4"
	schedFaultNodeMemory  = "8Gi"
	schedFaultPodCPU      = "200m"  // 20 × 200m = 4 cpu
	schedFaultPodMemory   = "400Mi" // 20 × 400Mi = 8000Mi of 8192Mi
	// The scheduler is killed once this many bindings have been seen.
	schedFaultKillAfter = 300
)

// TestSchedulerKilledDuringScheduling is fault 2 of the fault suite:
// skiff-scheduler is killed with SIGKILL while it binds 1000 pods to 50
// nodes that have room for exactly 1000, then started again. Every pod must
// end up bound, each exactly once (no pod's node ever changes once set),
// with one PodScheduled=True condition, and no node may hold more than its
// allocatable cpu, memory and pod count.
func TestSchedulerKilledDuringScheduling(t *testing.T) {
	const ns = "default"
	began := time.Now()
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	client := server.AdminClient(t)
	// A hang guard for the whole test, well past what it needs.
	ctx, cancel := context.WithTimeout(context.Background(), 85*time.Second)
	defer cancel()

	if err := registerSchedFaultNodes(ctx, client); err != nil {
		t.Fatal(err)
	}

	// The pods' whole history, from before the first was created: the node
	// each is bound to, how often each went from unbound to bound, and
	// every event that contradicts binding once.
	var (
		mu          sync.Mutex
		nodeOf      = map[string]string{}
		bindings    = map[string]int{}
		bindTimes   []time.Time
		violations  []string
		reachedKill = make(chan struct{})
	)
	stopWatch := watchPodEvents(ctx, t, client, ns, func(typ watch.EventType, p *v1alpha1.Pod) {
		mu.Lock()
		defer mu.Unlock()
		prev := nodeOf[p.Name]
		switch {
		case typ == watch.Deleted:
			violations = append(violations, fmt.Sprintf("pod %s was deleted", p.Name))
		case prev != "" && p.Spec.NodeName != prev:
			violations = append(violations, fmt.Sprintf("pod %s moved from node %q to %q", p.Name, prev, p.Spec.NodeName))
		case prev == "" && p.Spec.NodeName != "":
			bindings[p.Name]++
			bindTimes = append(bindTimes, time.Now())
			if len(bindTimes) == schedFaultKillAfter {
				close(reachedKill)
			}
		}
		nodeOf[p.Name] = p.Spec.NodeName
	})
	boundSeen := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(bindTimes)
	}

	// Leader election is on, as by default: the restarted scheduler must
	// also take over the Lease the killed one never released.
	sched := framework.StartScheduler(t, server)
	var createdCount atomic.Int64
	created := make(chan error, 1)
	go func() { created <- createSchedFaultPods(ctx, client, ns, &createdCount) }()

	select {
	case <-reachedKill:
	case <-ctx.Done():
		t.Fatalf("only %d pods bound before the hang guard", boundSeen())
	}
	// The scheduler starts no processes, so SIGKILL of its process group
	// is kill -9 of the scheduler alone.
	sched.Kill()
	killedAt := time.Now()
	atKill, createdAtKill := boundSeen(), createdCount.Load()
	// Bindings the scheduler sent just before it died may still land, or
	// be on their way through the watch: wait until the count stands still.
	byDead := settleCount(ctx, boundSeen, time.Second)

	framework.StartScheduler(t, server)
	restartedAt := time.Now()
	framework.WaitFor(t, time.Until(deadlineOf(ctx)), fmt.Sprintf("%d pods bound", schedFaultPods), func() (bool, error) {
		return boundSeen() >= schedFaultPods, nil
	})
	allBoundAt := time.Now()
	if err := <-created; err != nil {
		t.Fatal(err)
	}
	stopWatch()

	mu.Lock()
	var firstAfterRestart time.Time
	for _, at := range bindTimes {
		if at.After(restartedAt) {
			firstAfterRestart = at
			break
		}
	}
	for _, v := range violations {
		t.Errorf("not bound once: %s", v)
	}
	boundAgain := 0
	for name, n := range bindings {
		if n != 1 {
			boundAgain++
			t.Errorf("pod %s went from unbound to bound %d times", name, n)
		}
	}
	transitions, nViolations := len(bindTimes), len(violations)
	watched := maps.Clone(nodeOf)
	mu.Unlock()

	list, err := client.CoreV1alpha1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	if len(list.Items) != schedFaultPods {
		t.Fatalf("%d pods, want %d", len(list.Items), schedFaultPods)
	}
	perNode := map[string][]*v1alpha1.Pod{}
	for i := range list.Items {
		p := &list.Items[i]
		if p.Spec.NodeName == "" {
			t.Errorf("pod %s is not bound", p.Name)
			continue
		}
		if watched[p.Name] != p.Spec.NodeName {
			t.Errorf("pod %s is on node %q, the watch last saw it on %q", p.Name, p.Spec.NodeName, watched[p.Name])
		}
		var scheduled []v1alpha1.PodCondition
		for _, c := range p.Status.Conditions {
			if c.Type == v1alpha1.PodScheduled {
				scheduled = append(scheduled, c)
			}
		}
		if len(scheduled) != 1 || scheduled[0].Status != v1alpha1.ConditionTrue {
			t.Errorf("pod %s has PodScheduled conditions %+v, want exactly one, True", p.Name, scheduled)
		}
		perNode[p.Spec.NodeName] = append(perNode[p.Spec.NodeName], p)
	}
	util := checkSchedFaultNodes(ctx, t, client, perNode)

	// The API is what makes binding once hold: a second binding of a bound
	// pod, even to another node, is refused and changes nothing.
	probe := list.Items[0]
	target := schedFaultNodeName(0)
	if target == probe.Spec.NodeName {
		target = schedFaultNodeName(1)
	}
	_, bindErr := client.CoreV1alpha1().Pods(ns).Bind(ctx, probe.Name, &v1alpha1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: probe.Name, UID: probe.UID},
		Target:     v1alpha1.ObjectReference{Kind: "Node", Name: target},
	}, metav1.CreateOptions{})
	if !apierrors.IsConflict(bindErr) {
		t.Errorf("second binding of pod %s to %s: %v, want 409 Conflict", probe.Name, target, bindErr)
	}
	if p, err := client.CoreV1alpha1().Pods(ns).Get(ctx, probe.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("get pod %s: %v", probe.Name, err)
	} else if p.Spec.NodeName != probe.Spec.NodeName {
		t.Errorf("after the refused binding pod %s is on %s, want %s", probe.Name, p.Spec.NodeName, probe.Spec.NodeName)
	}

	// The scheduler reports Scheduled once per binding it made; the killed
	// one may have died before sending some, but no pod may get two. Events
	// are written in the background after the binding: give them until
	// their number stands still.
	var scheduledEvents, repeated int
	settleCount(ctx, func() int {
		var err error
		if scheduledEvents, repeated, err = countScheduledEvents(ctx, kubernetes.NewForConfigOrDie(server.AdminConfig(t)), ns); err != nil {
			t.Error(err)
		}
		return scheduledEvents
	}, 2*time.Second)
	if repeated > 0 {
		t.Errorf("%d pods have more than one Scheduled event", repeated)
	}

	t.Logf("%d pods, %d nodes: %d created and %d bound when the scheduler was killed, %d bound once its last bindings had landed; "+
		"the restarted scheduler bound its first pod %s after it started (it waits out the killed leader's Lease) and the last %s after it started",
		schedFaultPods, schedFaultNodes, createdAtKill, atKill, byDead,
		firstAfterRestart.Sub(restartedAt).Round(time.Millisecond), allBoundAt.Sub(restartedAt).Round(time.Millisecond))
	t.Logf("scheduler down %s; %d unbound→bound transitions for %d pods (%d more than once), %d node changes; %d Scheduled events; second binding: %v",
		restartedAt.Sub(killedAt).Round(time.Millisecond), transitions, len(watched), boundAgain, nViolations, scheduledEvents, bindErr)
	t.Logf("max node utilisation: cpu %.1f%%, memory %.1f%%, pods %.1f%%; test took %s",
		100*util.cpu, 100*util.memory, 100*util.pods, time.Since(began).Round(time.Millisecond))
}

func schedFaultNodeName(i int) string { return fmt.Sprintf("fault-node-%02d", i) }

// registerSchedFaultNodes registers the nodes with a Ready status and their
// allocatable resources, as a kubelet's first status would; no kubelet runs
// them, and nothing in skiff marks a node NotReady for a missing heartbeat.
func registerSchedFaultNodes(ctx context.Context, client clientset.Interface) error {
	resources := v1alpha1.ResourceList{
		v1alpha1.ResourceCPU:    resource.MustParse(schedFaultNodeCPU),
		v1alpha1.ResourceMemory: resource.MustParse(schedFaultNodeMemory),
		v1alpha1.ResourcePods:   *resource.NewQuantity(schedFaultPodsPerNode, resource.DecimalSI),
	}
	return forEachParallel(schedFaultNodes, 8, func(i int) error {
		nodes := client.CoreV1alpha1().Nodes()
		name := schedFaultNodeName(i)
		node, err := nodes.Create(ctx, &v1alpha1.Node{ObjectMeta: metav1.ObjectMeta{
			Name: name, Labels: map[string]string{"kubernetes.io/hostname": name},
		}}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("register node %s: %w", name, err)
		}
		now := metav1.Now()
		node.Status = v1alpha1.NodeStatus{
			Capacity:    resources,
			Allocatable: resources,
			Conditions: []v1alpha1.NodeCondition{{
				Type: v1alpha1.NodeReady, Status: v1alpha1.ConditionTrue,
				LastHeartbeatTime: now, LastTransitionTime: now, Reason: "KubeletReady", Message: "fault test",
			}},
		}
		if _, err := nodes.UpdateStatus(ctx, node, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("write status of node %s: %w", name, err)
		}
		return nil
	})
}

// createSchedFaultPods creates the pods from 16 workers, as a burst of
// clients would, while the scheduler runs, dies and comes back.
func createSchedFaultPods(ctx context.Context, client clientset.Interface, ns string, created *atomic.Int64) error {
	grace := int64(0)
	return forEachParallel(schedFaultPods, 16, func(i int) error {
		pod := &v1alpha1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("sched-fault-%04d", i)},
			Spec: v1alpha1.PodSpec{
				TerminationGracePeriodSeconds: &grace,
				Containers: []v1alpha1.Container{{
					Name: "main", Image: "busybox", Command: []string{"sleep", "3600"},
					Resources: v1alpha1.ResourceRequirements{Requests: v1alpha1.ResourceList{
						v1alpha1.ResourceCPU:    resource.MustParse(schedFaultPodCPU),
						v1alpha1.ResourceMemory: resource.MustParse(schedFaultPodMemory),
					}},
				}},
			},
		}
		if _, err := client.CoreV1alpha1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create pod %s: %w", pod.Name, err)
		}
		created.Add(1)
		return nil
	})
}

// nodeUtilisation is the highest share of a node's allocatable cpu, memory
// and pods requested by the pods bound to it.
type nodeUtilisation struct{ cpu, memory, pods float64 }

// checkSchedFaultNodes fails the test for every node whose pods request
// more than its allocatable cpu, memory or pod count, and returns the
// highest utilisation of each.
func checkSchedFaultNodes(ctx context.Context, t *testing.T, client clientset.Interface, perNode map[string][]*v1alpha1.Pod) nodeUtilisation {
	t.Helper()
	nodes, err := client.CoreV1alpha1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list nodes: %v", err)
	}
	known := map[string]bool{}
	var util nodeUtilisation
	for _, n := range nodes.Items {
		known[n.Name] = true
		pods := perNode[n.Name]
		var cpu, memory resource.Quantity
		for _, p := range pods {
			for _, c := range p.Spec.Containers {
				cpu.Add(c.Resources.Requests[v1alpha1.ResourceCPU])
				memory.Add(c.Resources.Requests[v1alpha1.ResourceMemory])
			}
		}
		alloc := n.Status.Allocatable
		allocCPU, allocMemory, allocPods := alloc[v1alpha1.ResourceCPU], alloc[v1alpha1.ResourceMemory], alloc[v1alpha1.ResourcePods]
		if cpu.Cmp(allocCPU) > 0 {
			t.Errorf("node %s: pods request %s cpu, allocatable %s", n.Name, cpu.String(), allocCPU.String())
		}
		if memory.Cmp(allocMemory) > 0 {
			t.Errorf("node %s: pods request %s memory, allocatable %s", n.Name, memory.String(), allocMemory.String())
		}
		if int64(len(pods)) > allocPods.Value() {
			t.Errorf("node %s: %d pods, allocatable %d", n.Name, len(pods), allocPods.Value())
		}
		util.cpu = max(util.cpu, float64(cpu.MilliValue())/float64(allocCPU.MilliValue()))
		util.memory = max(util.memory, float64(memory.Value())/float64(allocMemory.Value()))
		util.pods = max(util.pods, float64(len(pods))/float64(allocPods.Value()))
	}
	for name, pods := range perNode {
		if !known[name] {
			t.Errorf("%d pods bound to node %s, which does not exist", len(pods), name)
		}
	}
	return util
}

// countScheduledEvents returns how many Scheduled events the pods in ns got
// and how many pods got more than one.
func countScheduledEvents(ctx context.Context, client kubernetes.Interface, ns string) (total, repeated int, err error) {
	events, err := client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, 0, fmt.Errorf("list events: %w", err)
	}
	perPod := map[string]int{}
	for _, e := range events.Items {
		if e.Reason != "Scheduled" || e.InvolvedObject.Kind != "Pod" {
			continue
		}
		// An event the recorder saw repeat is stored once, with a count.
		n := max(int(e.Count), 1)
		perPod[e.InvolvedObject.Name] += n
		total += n
	}
	for _, n := range perPod {
		if n > 1 {
			repeated++
		}
	}
	return total, repeated, nil
}

// TestKubeletKilledWithRunningPods is fault 3 of the fault suite:
// skiff-kubelet (process runtime) is killed with SIGKILL while 20 pods run.
// Their containers must outlive it, as containers outlive a kubelet. While
// it is down one pod is deleted gracefully, one forcibly, and two new pods
// are bound to the node. The restarted kubelet must adopt the 18 running
// containers (same pid, no second copy, restartCount unchanged), stop the
// two deleted pods' processes, start each new pod exactly once, and have
// the statuses right within one node-status period of answering healthz.
func TestKubeletKilledWithRunningPods(t *testing.T) {
	const (
		ns       = "default"
		nodeName = "fault-kubelet"
		running  = 20
	)
	// The kubelet's node status and lease periods have no flags; one
	// period of the longer is what a restarted kubelet gets to set every
	// pod's status right, as its first heartbeat would.
	heartbeat := max(nodestatus.DefaultUpdateInterval, nodelease.DefaultRenewInterval)
	began := time.Now()
	server := framework.StartAPIServer(t, filepath.Join(t.TempDir(), "data"), framework.FreePort(t))
	client := server.AdminClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 85*time.Second)
	defer cancel()
	kubelet := framework.StartKubelet(t, server, framework.KubeletOptions{NodeName: nodeName, Runtime: "process"})
	framework.WaitFor(t, 30*time.Second, "node "+nodeName+" Ready", func() (bool, error) {
		n, err := client.CoreV1alpha1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		return err == nil && nodeIsReady(n), nil
	})

	markers := map[string]string{}
	create := func(name string) {
		t.Helper()
		markers[name] = fmt.Sprintf("skiff-fault-%s-%d", name, time.Now().UnixNano())
		if _, err := client.CoreV1alpha1().Pods(ns).Create(ctx, kubeletFaultPod(name, nodeName, markers[name]), metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod %s: %v", name, err)
		}
	}
	var keep []string
	for i := range running {
		name := fmt.Sprintf("keep-%02d", i)
		keep = append(keep, name)
		create(name)
	}
	framework.WaitFor(t, 60*time.Second, fmt.Sprintf("%d pods Running and Ready", running), func() (bool, error) {
		list, err := client.CoreV1alpha1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		ready := 0
		for i := range list.Items {
			if podRunningAndReady(&list.Items[i]) {
				ready++
			}
		}
		return ready == running, nil
	})

	// What each container is before the kill: its process, and what the
	// API says of it.
	type container struct {
		pid          int
		containerID  string
		restartCount int32
	}
	before := map[string]container{}
	kubeletPID := kubelet.Pid()
	list, err := client.CoreV1alpha1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	for i := range list.Items {
		p := &list.Items[i]
		groups := framework.ContainerGroups(markers[p.Name])
		if len(groups) != 1 {
			t.Fatalf("pod %s runs as %d process groups %v, want 1", p.Name, len(groups), groups)
		}
		// Were a container in the kubelet's process group, killing the group
		// would be a node losing its containers, not a kubelet crash.
		if groups[0] == kubeletPID {
			t.Fatalf("pod %s's process is in the kubelet's process group %d", p.Name, kubeletPID)
		}
		cs := p.Status.ContainerStatuses[0]
		before[p.Name] = container{pid: groups[0], containerID: cs.ContainerID, restartCount: cs.RestartCount}
	}

	// Deleted while the kubelet is down: one gracefully (the object stays,
	// terminating, until a kubelet has stopped it), one forcibly (the
	// object goes at once, and the restarted kubelet finds an orphan).
	graceful, forced := keep[0], keep[1]
	survivors := keep[2:]
	added := []string{"new-00", "new-01"}

	// Every status the API holds for a surviving pod from the kill on: a
	// restarted kubelet that restarts, recreates or merely misreports a
	// container shows here even if it corrects itself later.
	var (
		mu            sync.Mutex
		flips         []string
		survivorSet   = map[string]bool{}
		survivorWrite int
		eventsSeen    int
	)
	for _, name := range survivors {
		survivorSet[name] = true
	}
	stopWatch := watchPodEvents(ctx, t, client, ns, func(typ watch.EventType, p *v1alpha1.Pod) {
		mu.Lock()
		defer mu.Unlock()
		eventsSeen++
		if !survivorSet[p.Name] {
			return
		}
		if typ == watch.Modified {
			survivorWrite++
		}
		b := before[p.Name]
		switch {
		case typ == watch.Deleted:
			flips = append(flips, fmt.Sprintf("%s deleted", p.Name))
		case !podRunningAndReady(p):
			flips = append(flips, fmt.Sprintf("%s phase %s, ready %v", p.Name, p.Status.Phase, podReadyCondition(p)))
		case p.Status.ContainerStatuses[0].ContainerID != b.containerID || p.Status.ContainerStatuses[0].RestartCount != b.restartCount:
			cs := p.Status.ContainerStatuses[0]
			flips = append(flips, fmt.Sprintf("%s container %s restartCount %d (was %s, %d)", p.Name, cs.ContainerID, cs.RestartCount, b.containerID, b.restartCount))
		}
	})

	// kill -9 of the kubelet process alone: what a crash of the kubelet is.
	if err := syscall.Kill(kubeletPID, syscall.SIGKILL); err != nil {
		t.Fatalf("kill kubelet %d: %v", kubeletPID, err)
	}
	framework.WaitFor(t, 10*time.Second, "the kubelet to exit", func() (bool, error) { return kubelet.Exited(), nil })
	killedAt := time.Now()
	for _, name := range keep {
		if !framework.Alive(before[name].pid) {
			t.Errorf("pod %s's process %d died with the kubelet", name, before[name].pid)
		}
	}

	podsAPI := client.CoreV1alpha1().Pods(ns)
	if err := podsAPI.Delete(ctx, graceful, metav1.DeleteOptions{}); err != nil {
		t.Fatalf("delete pod %s: %v", graceful, err)
	}
	zero := int64(0)
	if err := podsAPI.Delete(ctx, forced, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatalf("force-delete pod %s: %v", forced, err)
	}
	if p, err := podsAPI.Get(ctx, graceful, metav1.GetOptions{}); err != nil || p.DeletionTimestamp == nil {
		t.Fatalf("pod %s should be terminating while no kubelet runs: %v, %v", graceful, err, p)
	}
	for _, name := range added {
		create(name)
	}

	kubelet.Restart(t)
	upAt := time.Now()

	// Converged: the statuses are right and every process is where it
	// should be. Polled until then; the deadline is asserted after, so a
	// slow convergence is told from none.
	// What is still wrong, by pod: polled until nothing is, and
	// the deadline asserted after, so a slow convergence is told from none.
	notConverged := func() map[string][]string {
		wrong := map[string][]string{}
		list, err := podsAPI.List(ctx, metav1.ListOptions{})
		if err != nil {
			return map[string][]string{"": {err.Error()}}
		}
		pods := map[string]*v1alpha1.Pod{}
		for i := range list.Items {
			pods[list.Items[i].Name] = &list.Items[i]
		}
		for _, name := range survivors {
			p, b := pods[name], before[name]
			switch {
			case p == nil:
				wrong[name] = append(wrong[name], "gone from the API")
			case !podRunningAndReady(p):
				wrong[name] = append(wrong[name], fmt.Sprintf("%s, ready %v", p.Status.Phase, podReadyCondition(p)))
			case p.Status.ContainerStatuses[0].RestartCount != b.restartCount:
				wrong[name] = append(wrong[name], fmt.Sprintf("restartCount %d, was %d", p.Status.ContainerStatuses[0].RestartCount, b.restartCount))
			}
			if groups := framework.ContainerGroups(markers[name]); len(groups) != 1 || groups[0] != b.pid {
				wrong[name] = append(wrong[name], fmt.Sprintf("runs as process groups %v, was %d", groups, b.pid))
			}
		}
		for _, name := range added {
			if p := pods[name]; p == nil || !podRunningAndReady(p) {
				wrong[name] = append(wrong[name], "not Running and Ready")
			}
			if groups := framework.ContainerGroups(markers[name]); len(groups) != 1 {
				wrong[name] = append(wrong[name], fmt.Sprintf("runs as %d process groups %v", len(groups), groups))
			}
		}
		for _, name := range []string{graceful, forced} {
			if pods[name] != nil {
				wrong[name] = append(wrong[name], "still in the API")
			}
			if pids := framework.ProcessesWithArg(markers[name]); len(pids) != 0 {
				wrong[name] = append(wrong[name], fmt.Sprintf("still runs as %v", pids))
			}
		}
		return wrong
	}
	// When each pod was last seen wrong, after healthz; and what was wrong
	// once a heartbeat had passed.
	lastWrong := map[string]time.Duration{}
	var wrongAtHeartbeat map[string][]string
	framework.WaitFor(t, time.Until(deadlineOf(ctx)), "the restarted kubelet to converge", func() (bool, error) {
		wrong := notConverged()
		since := time.Since(upAt)
		for name := range wrong {
			lastWrong[name] = since
		}
		if since > heartbeat && wrongAtHeartbeat == nil && len(wrong) > 0 {
			wrongAtHeartbeat = wrong
		}
		return len(wrong) == 0, nil
	})
	convergedAfter := time.Since(upAt)
	stopWatch()
	if convergedAfter > heartbeat {
		t.Errorf("pods converged %s after the restarted kubelet answered healthz, more than one heartbeat (%s); still wrong then: %v",
			convergedAfter.Round(time.Millisecond), heartbeat, wrongAtHeartbeat)
	}
	lastOf := func(names ...string) string {
		var d time.Duration
		seen := false
		for _, n := range names {
			if w, ok := lastWrong[n]; ok {
				d, seen = max(d, w), true
			}
		}
		if !seen {
			return "never"
		}
		return d.Round(time.Millisecond).String()
	}
	mu.Lock()
	for _, f := range flips {
		t.Errorf("a surviving pod's status changed: %s", f)
	}
	nFlips, writes, nEvents := len(flips), survivorWrite, eventsSeen
	mu.Unlock()

	// One more look, a moment later, for a copy started late.
	time.Sleep(time.Second)
	adopted, startedOnce, cleanedUp := 0, 0, 0
	for _, name := range survivors {
		if groups := framework.ContainerGroups(markers[name]); len(groups) != 1 || groups[0] != before[name].pid {
			t.Errorf("pod %s runs as process groups %v a second after convergence, want only %d", name, groups, before[name].pid)
		} else {
			adopted++
		}
	}
	for _, name := range added {
		if groups := framework.ContainerGroups(markers[name]); len(groups) != 1 {
			t.Errorf("pod %s runs as %d process groups %v a second after convergence, want 1", name, len(groups), groups)
		} else {
			startedOnce++
		}
	}
	for _, name := range []string{graceful, forced} {
		if pids := framework.ProcessesWithArg(markers[name]); len(pids) != 0 {
			t.Errorf("deleted pod %s runs as processes %v a second after convergence, want none", name, pids)
		} else {
			cleanedUp++
		}
	}

	var pids []string
	for _, name := range survivors[:3] {
		pids = append(pids, fmt.Sprintf("%s=%d", name, before[name].pid))
	}
	t.Logf("kubelet pid %d killed with SIGKILL; %d containers in their own process groups survived it; down %s",
		kubeletPID, running, upAt.Sub(killedAt).Round(time.Millisecond))
	t.Logf("after the restart: %d of %d surviving pods adopted as their one process group with the same pid (e.g. %s); "+
		"%d of %d new pods running as one process group; %d of 2 deleted pods without processes; converged %s after healthz (heartbeat %s)",
		adopted, len(survivors), strings.Join(pids, " "), startedOnce, len(added), cleanedUp, convergedAfter.Round(time.Millisecond), heartbeat)
	t.Logf("last seen wrong after healthz: survivors %s, new pods %s, gracefully deleted %s, force-deleted %s",
		lastOf(survivors...), lastOf(added...), lastOf(graceful), lastOf(forced))
	t.Logf("pod watch from the kill to convergence: %d events, of which %d writes to surviving pods, %d wrong statuses; test took %s",
		nEvents, writes, nFlips, time.Since(began).Round(time.Millisecond))
}

// kubeletFaultPod is a pod bound to nodeName (no scheduler takes part)
// whose process runtime container is a shell sleeping in short naps, with
// marker as its $0 so its process can be found.
func kubeletFaultPod(name, nodeName, marker string) *v1alpha1.Pod {
	grace := int64(5)
	return &v1alpha1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.PodSpec{
			NodeName:                      nodeName,
			RestartPolicy:                 v1alpha1.RestartPolicyAlways,
			TerminationGracePeriodSeconds: &grace,
			Containers: []v1alpha1.Container{{
				Name: "main", Image: "busybox:1.36", Command: []string{"sh", "-c", sleepForever, marker},
			}},
		},
	}
}

func nodeIsReady(n *v1alpha1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == v1alpha1.NodeReady {
			return c.Status == v1alpha1.ConditionTrue
		}
	}
	return false
}

func podReadyCondition(p *v1alpha1.Pod) v1alpha1.ConditionStatus {
	for _, c := range p.Status.Conditions {
		if c.Type == v1alpha1.PodReady {
			return c.Status
		}
	}
	return ""
}

// podRunningAndReady: phase Running, Ready, and its one container running
// and ready.
func podRunningAndReady(p *v1alpha1.Pod) bool {
	if p.Status.Phase != v1alpha1.PodRunning || podReadyCondition(p) != v1alpha1.ConditionTrue || len(p.Status.ContainerStatuses) != 1 {
		return false
	}
	cs := p.Status.ContainerStatuses[0]
	return cs.Ready && cs.State.Running != nil
}

// watchPodEvents calls seen, from one goroutine, with every pod in ns as
// listed now (as Added) and then with every event after that list: a watch
// resumed from the last resource version whenever it ends, so no event is
// missed, unlike an informer, which may relist and skip intermediate
// states. The returned stop ends the watch and waits until seen is no
// longer called.
func watchPodEvents(ctx context.Context, t *testing.T, client clientset.Interface, ns string, seen func(watch.EventType, *v1alpha1.Pod)) (stop func()) {
	t.Helper()
	pods := client.CoreV1alpha1().Pods(ns)
	list, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list pods to watch: %v", err)
	}
	for i := range list.Items {
		seen(watch.Added, &list.Items[i])
	}
	ctx, cancel := context.WithCancel(ctx)
	w, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion, &cache.ListWatch{
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return pods.Watch(ctx, o)
		},
	})
	if err != nil {
		cancel()
		t.Fatalf("watch pods: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.ResultChan() {
			switch ev.Type {
			case watch.Added, watch.Modified, watch.Deleted:
				if p, ok := ev.Object.(*v1alpha1.Pod); ok {
					seen(ev.Type, p)
				}
			case watch.Error:
				// The watch can no longer resume (its resource version
				// expired): events may have been missed.
				if ctx.Err() == nil {
					t.Errorf("pod watch failed: %v", apierrors.FromObject(ev.Object))
				}
				return
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			w.Stop()
			<-done
		})
	}
	t.Cleanup(stop)
	return stop
}

// settleCount waits until count has not changed for quiet, and returns it.
func settleCount(ctx context.Context, count func() int, quiet time.Duration) int {
	last, since := count(), time.Now()
	for time.Since(since) < quiet && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		if n := count(); n != last {
			last, since = n, time.Now()
		}
	}
	return last
}

// deadlineOf is ctx's deadline, for waits bounded by the test's hang guard.
func deadlineOf(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Now().Add(time.Minute)
	}
	return d
}

// forEachParallel calls fn(0..n-1) from workers goroutines and returns the
// first error; after an error the calls not yet started are skipped.
func forEachParallel(n, workers int, fn func(i int) error) error {
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		mu.Lock()
		failed := firstErr != nil
		mu.Unlock()
		if failed {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return firstErr
}

package apiserver

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/test/integration/framework"
)

// TestListAndWatch covers what informers rely on: watches that resume,
// pages, optimistic concurrency and selectors.
func TestListAndWatch(t *testing.T) {
	s := framework.StartTestServer(t)
	t.Run("watch resumes from a resourceVersion", func(t *testing.T) { testWatchResume(t, s.Client) })
	t.Run("pagination", func(t *testing.T) { testPagination(t, s.Client) })
	t.Run("stale resourceVersion conflicts", func(t *testing.T) { testStaleUpdate(t, s.Client) })
	t.Run("field selectors", func(t *testing.T) { testFieldSelectors(t, s.Client) })
	t.Run("label selectors", func(t *testing.T) { testLabelSelectors(t, s.Client) })
}

func testWatchResume(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	const ns = "resume"
	pods := c.CoreV1alpha1().Pods(ns)
	mustCreatePod(t, c, ns, newPod("before-1"))
	mark := mustCreatePod(t, c, ns, newPod("before-2"))
	mustCreatePod(t, c, ns, newPod("after-1"))
	after2 := mustCreatePod(t, c, ns, newPod("after-2"))
	after2.Labels["changed"] = "yes"
	if _, err := pods.Update(ctx, after2, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update: %v", err)
	}

	// A watch from before-2's resourceVersion sees what came after it, in
	// order, and nothing from before.
	w, err := pods.Watch(ctx, metav1.ListOptions{ResourceVersion: mark.ResourceVersion})
	if err != nil {
		t.Fatalf("watch from %s: %v", mark.ResourceVersion, err)
	}
	defer w.Stop()
	want := []string{"ADDED after-1", "ADDED after-2", "MODIFIED after-2"}
	for _, wnt := range want {
		ev := nextEvent(t, w)
		if got := fmt.Sprintf("%s %s", ev.Type, podName(ev)); got != wnt {
			t.Fatalf("event = %s, want %s", got, wnt)
		}
	}
	// And then what happens next.
	mustCreatePod(t, c, ns, newPod("later"))
	if ev := nextEvent(t, w); ev.Type != watch.Added || podName(ev) != "later" {
		t.Fatalf("event = %s %s, want ADDED later", ev.Type, podName(ev))
	}

	// A watch from the newest resourceVersion sees only new events.
	list, err := pods.List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	w2, err := pods.Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatalf("watch from list: %v", err)
	}
	defer w2.Stop()
	mustCreatePod(t, c, ns, newPod("newest"))
	if ev := nextEvent(t, w2); ev.Type != watch.Added || podName(ev) != "newest" {
		t.Fatalf("event = %s %s, want ADDED newest (nothing older)", ev.Type, podName(ev))
	}
}

func testPagination(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	const ns = "pages"
	want := map[string]bool{}
	for i := 0; i < 25; i++ {
		name := fmt.Sprintf("p-%02d", i)
		mustCreatePod(t, c, ns, newPod(name))
		want[name] = true
	}
	pods := c.CoreV1alpha1().Pods(ns)
	var got []string
	var sizes []int
	opts := metav1.ListOptions{Limit: 10}
	firstRV := ""
	for page := 0; ; page++ {
		if page > 5 {
			t.Fatal("more pages than 25 pods in pages of 10 can make")
		}
		list, err := pods.List(ctx, opts)
		if err != nil {
			t.Fatalf("list page %d: %v", page, err)
		}
		if page == 0 {
			firstRV = list.ResourceVersion
			if list.RemainingItemCount == nil || *list.RemainingItemCount != 15 {
				t.Errorf("first page remainingItemCount = %v, want 15", list.RemainingItemCount)
			}
			// A pod created mid-listing is not in the pages of the
			// snapshot the continue token holds.
			mustCreatePod(t, c, ns, newPod("p-zz-late"))
		}
		if list.ResourceVersion != firstRV {
			t.Errorf("page %d resourceVersion = %s, want the first page's %s (one snapshot)", page, list.ResourceVersion, firstRV)
		}
		sizes = append(sizes, len(list.Items))
		for _, p := range list.Items {
			got = append(got, p.Name)
		}
		if list.Continue == "" {
			break
		}
		opts.Continue = list.Continue
	}
	if fmt.Sprint(sizes) != "[10 10 5]" {
		t.Errorf("page sizes = %v, want [10 10 5]", sizes)
	}
	if !sort.StringsAreSorted(got) {
		t.Errorf("pages are not in key order: %v", got)
	}
	seen := map[string]bool{}
	for _, n := range got {
		if seen[n] {
			t.Errorf("pod %s listed twice", n)
		}
		seen[n] = true
		if !want[n] {
			t.Errorf("pod %s listed but not created before the list", n)
		}
	}
	if len(seen) != 25 {
		t.Errorf("listed %d distinct pods, want 25", len(seen))
	}

	// A continue token that is not one is refused.
	_, err := pods.List(ctx, metav1.ListOptions{Limit: 10, Continue: "not-a-token"})
	expectStatus(t, err, 400, "list with a garbage continue token")
}

func testStaleUpdate(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	const ns = "stale"
	pods := c.CoreV1alpha1().Pods(ns)
	first := mustCreatePod(t, c, ns, newPod("web"))

	fresh := first.DeepCopy()
	fresh.Labels["writer"] = "one"
	if _, err := pods.Update(ctx, fresh, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("first update: %v", err)
	}
	stale := first.DeepCopy()
	stale.Labels["writer"] = "two"
	_, err := pods.Update(ctx, stale, metav1.UpdateOptions{})
	st := expectStatus(t, err, 409, "update with a stale resourceVersion")
	if st.Reason != metav1.StatusReasonConflict {
		t.Errorf("reason = %s, want Conflict", st.Reason)
	}
	got, _ := pods.Get(ctx, "web", metav1.GetOptions{})
	if got.Labels["writer"] != "one" {
		t.Errorf("labels after the conflict = %v, want the first writer's", got.Labels)
	}

	// The same holds on the status subresource and on nodes.
	staleStatus := first.DeepCopy()
	staleStatus.Status.Phase = v1alpha1.PodRunning
	_, err = pods.UpdateStatus(ctx, staleStatus, metav1.UpdateOptions{})
	expectStatus(t, err, 409, "status update with a stale resourceVersion")

	node := mustCreateNode(t, c, newNode("stale-n1"))
	node1 := node.DeepCopy()
	node1.Labels["a"] = "1"
	if _, err := c.CoreV1alpha1().Nodes().Update(ctx, node1, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("node update: %v", err)
	}
	node.Labels["a"] = "2"
	_, err = c.CoreV1alpha1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
	expectStatus(t, err, 409, "node update with a stale resourceVersion")

	// A delete precondition on a stale resourceVersion is a conflict too.
	err = pods.Delete(ctx, "web", metav1.DeleteOptions{Preconditions: &metav1.Preconditions{ResourceVersion: &first.ResourceVersion}})
	expectStatus(t, err, 409, "delete with a stale resourceVersion precondition")
}

func testFieldSelectors(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	const ns = "fields"
	mustCreateNode(t, c, newNode("fields-n1"))
	mustCreateNode(t, c, newNode("fields-n2"))
	for _, p := range []struct{ name, node, scheduler string }{
		{"a", "fields-n1", ""}, {"b", "fields-n1", ""}, {"c", "fields-n2", ""}, {"d", "", ""}, {"e", "", "other-scheduler"},
	} {
		pod := newPod(p.name)
		pod.Spec.SchedulerName = p.scheduler
		mustCreatePod(t, c, ns, pod)
		if p.node != "" {
			mustBind(t, c, ns, p.name, p.node)
		}
	}
	running, _ := c.CoreV1alpha1().Pods(ns).Get(ctx, "c", metav1.GetOptions{})
	running.Status.Phase = v1alpha1.PodRunning
	if _, err := c.CoreV1alpha1().Pods(ns).UpdateStatus(ctx, running, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update status: %v", err)
	}

	tests := []struct {
		selector string
		want     string
	}{
		{"spec.nodeName=fields-n1", "a b"},
		{"spec.nodeName=fields-n2", "c"},
		{"spec.nodeName=", "d e"},
		{"spec.nodeName!=", "a b c"},
		{"status.phase=Running", "c"},
		{"status.phase=Pending", "a b d e"},
		{"spec.schedulerName=other-scheduler", "e"},
		{"spec.schedulerName=skiff-scheduler,spec.nodeName=", "d"},
		{"metadata.name=b", "b"},
		{"metadata.namespace=" + ns + ",metadata.name!=a", "b c d e"},
	}
	for _, tt := range tests {
		t.Run(tt.selector, func(t *testing.T) {
			// Both a consistent list (from etcd or a fresh cache) and a
			// list from the watch cache must agree.
			for _, rv := range []string{"", "0"} {
				list, err := c.CoreV1alpha1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: tt.selector, ResourceVersion: rv})
				if err != nil {
					t.Fatalf("list (rv %q): %v", rv, err)
				}
				if got := names(list.Items); got != tt.want {
					t.Errorf("list (rv %q) = %q, want %q", rv, got, tt.want)
				}
			}
		})
	}

	// A watch on one node's pods (a kubelet's) sees only those.
	w, err := c.CoreV1alpha1().Pods("").Watch(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=fields-n2"})
	if err != nil {
		t.Fatalf("watch by node: %v", err)
	}
	defer w.Stop()
	if ev := nextEvent(t, w); ev.Type != watch.Added || podName(ev) != "c" {
		t.Fatalf("first event = %s %s, want ADDED c (initial state)", ev.Type, podName(ev))
	}
	mustCreatePod(t, c, ns, newPod("f"))
	mustBind(t, c, ns, "f", "fields-n1")
	mustCreatePod(t, c, ns, newPod("g"))
	mustBind(t, c, ns, "g", "fields-n2")
	// Binding g to n2 makes it enter the selection: ADDED, not MODIFIED.
	if ev := nextEvent(t, w); ev.Type != watch.Added || podName(ev) != "g" {
		t.Fatalf("event = %s %s, want ADDED g", ev.Type, podName(ev))
	}

	t.Run("an unsupported field is refused", func(t *testing.T) {
		_, err := c.CoreV1alpha1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: "spec.restartPolicy=Always"})
		st := expectStatus(t, err, 400, "list by spec.restartPolicy")
		if !strings.Contains(st.Message, "spec.restartPolicy") {
			t.Errorf("message %q does not name the field", st.Message)
		}
		_, err = c.CoreV1alpha1().Nodes().List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=x"})
		expectStatus(t, err, 400, "list nodes by spec.nodeName")
	})
	t.Run("nodes select by name", func(t *testing.T) {
		list, err := c.CoreV1alpha1().Nodes().List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=fields-n2"})
		if err != nil || len(list.Items) != 1 || list.Items[0].Name != "fields-n2" {
			t.Fatalf("list nodes by name = %v, %v", list, err)
		}
	})
}

func testLabelSelectors(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	const ns = "labels"
	for _, p := range []struct{ name, app, tier string }{
		{"a", "web", "front"}, {"b", "web", "back"}, {"c", "db", "back"}, {"d", "db", ""},
	} {
		pod := newPod(p.name)
		pod.Labels = map[string]string{"app": p.app}
		if p.tier != "" {
			pod.Labels["tier"] = p.tier
		}
		mustCreatePod(t, c, ns, pod)
	}
	tests := []struct{ selector, want string }{
		{"app=web", "a b"},
		{"app=web,tier=back", "b"},
		{"app in (web,db),tier!=front", "b c d"},
		{"tier", "a b c"},
		{"!tier", "d"},
		{"app=none", ""},
	}
	for _, tt := range tests {
		t.Run(tt.selector, func(t *testing.T) {
			list, err := c.CoreV1alpha1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: tt.selector})
			if err != nil {
				t.Fatalf("list: %v", err)
			}
			if got := names(list.Items); got != tt.want {
				t.Errorf("list = %q, want %q", got, tt.want)
			}
		})
	}
	_, err := c.CoreV1alpha1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app in (web"})
	if err == nil || !apierrors.IsBadRequest(err) {
		t.Errorf("list with a malformed label selector = %v, want 400", err)
	}
}

func names(pods []v1alpha1.Pod) string {
	var out []string
	for _, p := range pods {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

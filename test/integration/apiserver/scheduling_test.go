package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/test/integration/framework"
)

// TestScheduling drives the API side of issue 13: PriorityClasses and the
// Priority admission plugin, and the bad input of pod affinity and
// topology spread, each a 422 naming its field.
func TestScheduling(t *testing.T) {
	s := framework.StartTestServer(t)
	t.Run("system priority classes exist from the start", func(t *testing.T) { testSystemPriorityClasses(t, s.Client) })
	t.Run("priority admission", func(t *testing.T) { testPriorityAdmission(t, s.Client) })
	t.Run("priority class rules", func(t *testing.T) { testPriorityClassRules(t, s.Client) })
	t.Run("bad scheduling constraints are 422 with the field path", func(t *testing.T) { testSchedulingBadInput(t, s.Client) })
	t.Run("the scheduler nominates a node through pods/status", func(t *testing.T) { testNominatedNodeName(t, s.Client) })
}

func testSystemPriorityClasses(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	want := map[string]int32{"system-node-critical": 2000001000, "system-cluster-critical": 2000000000}
	for name, value := range want {
		pc, err := c.CoreV1alpha1().PriorityClasses().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		if pc.Value != value || pc.GlobalDefault || pc.PreemptionPolicy == nil || *pc.PreemptionPolicy != v1alpha1.PreemptLowerPriority {
			t.Errorf("%s: value %d globalDefault %v policy %v; want %d, false, PreemptLowerPriority", name, pc.Value, pc.GlobalDefault, pc.PreemptionPolicy, value)
		}
	}
	err := c.CoreV1alpha1().PriorityClasses().Delete(ctx, "system-node-critical", metav1.DeleteOptions{})
	expectStatus(t, err, 403, "delete of a system priority class")

	// kubectl get priorityclasses asks for a Table: upstream's columns.
	raw, err := c.CoreV1alpha1().RESTClient().Get().Resource("priorityclasses").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	if err != nil {
		t.Fatalf("get the priority class table: %v", err)
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatalf("decode the table: %v", err)
	}
	var columns []string
	for _, col := range table.ColumnDefinitions {
		if col.Priority == 0 {
			columns = append(columns, col.Name)
		}
	}
	if got := fmt.Sprint(columns); got != "[Name Value Global-Default Age]" {
		t.Errorf("columns %s, want upstream's NAME VALUE GLOBAL-DEFAULT AGE", got)
	}
	if len(table.Rows) != 2 {
		t.Errorf("%d rows, want the two system classes", len(table.Rows))
	}
}

func testPriorityAdmission(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	const ns = "priority"
	pods := c.CoreV1alpha1().Pods(ns)

	t.Run("a class that does not exist is 422 on spec.priorityClassName", func(t *testing.T) {
		p := newPod("missing-class")
		p.Spec.PriorityClassName = "no-such-class"
		_, err := pods.Create(ctx, p, metav1.CreateOptions{})
		st := expectStatus(t, err, 422, "create of a pod naming a missing class")
		if !hasCause(st, "spec.priorityClassName") {
			t.Errorf("causes %s lack spec.priorityClassName", causesOf(st))
		}
		if _, err := pods.Get(ctx, p.Name, metav1.GetOptions{}); err == nil {
			t.Error("the refused pod was stored")
		}
	})

	t.Run("system-node-critical gives its priority", func(t *testing.T) {
		p := newPod("critical")
		p.Spec.PriorityClassName = "system-node-critical"
		created := mustCreatePod(t, c, ns, p)
		if created.Spec.Priority == nil || *created.Spec.Priority != 2000001000 {
			t.Errorf("priority %v, want 2000001000", created.Spec.Priority)
		}
		if created.Spec.PreemptionPolicy == nil || *created.Spec.PreemptionPolicy != v1alpha1.PreemptLowerPriority {
			t.Errorf("preemptionPolicy %v, want PreemptLowerPriority", created.Spec.PreemptionPolicy)
		}
	})

	t.Run("no class and no default gives priority 0", func(t *testing.T) {
		created := mustCreatePod(t, c, ns, newPod("plain"))
		if created.Spec.Priority == nil || *created.Spec.Priority != 0 || created.Spec.PriorityClassName != "" {
			t.Errorf("priority %v class %q, want 0 and none", created.Spec.Priority, created.Spec.PriorityClassName)
		}
	})

	t.Run("a class created a moment ago resolves", func(t *testing.T) {
		createClass(t, c, "fresh", 1234, false, v1alpha1.PreemptNever)
		p := newPod("fresh")
		p.Spec.PriorityClassName = "fresh"
		created := mustCreatePod(t, c, ns, p)
		if created.Spec.Priority == nil || *created.Spec.Priority != 1234 || created.Spec.PreemptionPolicy == nil || *created.Spec.PreemptionPolicy != v1alpha1.PreemptNever {
			t.Errorf("priority %v policy %v, want 1234 Never", created.Spec.Priority, created.Spec.PreemptionPolicy)
		}
	})

	t.Run("a priority that disagrees with the class is 422 on spec.priority", func(t *testing.T) {
		p := newPod("disagrees")
		p.Spec.PriorityClassName = "system-cluster-critical"
		p.Spec.Priority = ptrTo(int32(7))
		_, err := pods.Create(ctx, p, metav1.CreateOptions{})
		st := expectStatus(t, err, 422, "create of a pod with its own priority")
		if !hasCause(st, "spec.priority") {
			t.Errorf("causes %s lack spec.priority", causesOf(st))
		}
	})

	t.Run("priority may not change on update", func(t *testing.T) {
		patch := []byte(`{"spec":{"priority":5}}`)
		_, err := pods.Patch(ctx, "critical", types.MergePatchType, patch, metav1.PatchOptions{})
		expectStatus(t, err, 422, "a patch of spec.priority")
	})
}

func testPriorityClassRules(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	classes := c.CoreV1alpha1().PriorityClasses()

	t.Run("a user value above 1e9 is 422 on value", func(t *testing.T) {
		_, err := classes.Create(ctx, &v1alpha1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "too-high"}, Value: 1000000001}, metav1.CreateOptions{})
		st := expectStatus(t, err, 422, "create of a class above the user maximum")
		if !hasCause(st, "value") {
			t.Errorf("causes %s lack value", causesOf(st))
		}
	})

	t.Run("preemptionPolicy defaults to PreemptLowerPriority", func(t *testing.T) {
		created, err := classes.Create(ctx, &v1alpha1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "defaulted"}, Value: 10}, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create: %v", err)
		}
		if created.PreemptionPolicy == nil || *created.PreemptionPolicy != v1alpha1.PreemptLowerPriority {
			t.Errorf("preemptionPolicy %v", created.PreemptionPolicy)
		}
	})

	t.Run("value is immutable", func(t *testing.T) {
		_, err := classes.Patch(ctx, "defaulted", types.MergePatchType, []byte(`{"value":11}`), metav1.PatchOptions{})
		st := expectStatus(t, err, 422, "a change of value")
		if !hasCause(st, "value") {
			t.Errorf("causes %s lack value", causesOf(st))
		}
	})

	t.Run("one globalDefault, which pods without a class get", func(t *testing.T) {
		createClass(t, c, "default-class", 42, true, v1alpha1.PreemptLowerPriority)
		_, err := classes.Create(ctx, &v1alpha1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: "second-default"}, Value: 1, GlobalDefault: true}, metav1.CreateOptions{})
		st := expectStatus(t, err, 422, "create of a second globalDefault class")
		if !hasCause(st, "globalDefault") {
			t.Errorf("causes %s lack globalDefault", causesOf(st))
		}
		// Pods resolve the default from the API server's informer, which
		// sees the new class a moment later: dry runs (admitted, never
		// stored) until it has.
		var created *v1alpha1.Pod
		err = wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, testTimeout, true, func(ctx context.Context) (bool, error) {
			created, err = c.CoreV1alpha1().Pods("priority").Create(ctx, newPod("gets-default"), metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			return err == nil && created.Spec.PriorityClassName == "default-class", err
		})
		if err != nil {
			t.Fatalf("a pod without a class never got the default class: %v (last: %+v)", err, created)
		}
		if created.Spec.Priority == nil || *created.Spec.Priority != 42 {
			t.Errorf("priority %v, want the default class's 42", created.Spec.Priority)
		}
		if err := classes.Delete(ctx, "default-class", metav1.DeleteOptions{}); err != nil {
			t.Fatalf("delete: %v", err)
		}
	})
}

func createClass(t *testing.T, c clientset.Interface, name string, value int32, globalDefault bool, policy v1alpha1.PreemptionPolicy) {
	t.Helper()
	pc := &v1alpha1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Value: value, GlobalDefault: globalDefault, PreemptionPolicy: &policy}
	if _, err := c.CoreV1alpha1().PriorityClasses().Create(testContext(t), pc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create priority class %s: %v", name, err)
	}
}

func testSchedulingBadInput(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	spread := func(mutate func(*v1alpha1.TopologySpreadConstraint)) func(*v1alpha1.Pod) {
		return func(p *v1alpha1.Pod) {
			tsc := v1alpha1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: v1alpha1.DoNotSchedule, LabelSelector: selector}
			mutate(&tsc)
			p.Spec.TopologySpreadConstraints = []v1alpha1.TopologySpreadConstraint{tsc}
		}
	}
	antiAffinity := func(term v1alpha1.PodAffinityTerm) func(*v1alpha1.Pod) {
		return func(p *v1alpha1.Pod) {
			p.Spec.Affinity = &v1alpha1.Affinity{PodAntiAffinity: &v1alpha1.PodAntiAffinity{
				RequiredDuringSchedulingIgnoredDuringExecution: []v1alpha1.PodAffinityTerm{term},
			}}
		}
	}
	const tsc0 = "spec.topologySpreadConstraints[0]"
	const anti0 = "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]"
	tests := []struct {
		name   string
		mutate func(*v1alpha1.Pod)
		field  string
	}{
		{"an invalid topologyKey", spread(func(c *v1alpha1.TopologySpreadConstraint) { c.TopologyKey = "not a key" }), tsc0 + ".topologyKey"},
		{"maxSkew 0", spread(func(c *v1alpha1.TopologySpreadConstraint) { c.MaxSkew = 0 }), tsc0 + ".maxSkew"},
		{"an empty topology key", spread(func(c *v1alpha1.TopologySpreadConstraint) { c.TopologyKey = "" }), tsc0 + ".topologyKey"},
		{"a bad whenUnsatisfiable", spread(func(c *v1alpha1.TopologySpreadConstraint) { c.WhenUnsatisfiable = "Sometimes" }), tsc0 + ".whenUnsatisfiable"},
		{"minDomains with ScheduleAnyway", spread(func(c *v1alpha1.TopologySpreadConstraint) {
			c.WhenUnsatisfiable, c.MinDomains = v1alpha1.ScheduleAnyway, ptrTo(int32(2))
		}), tsc0 + ".minDomains"},
		{"an affinity term with no selector", antiAffinity(v1alpha1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname"}), anti0 + ".labelSelector"},
		{"an affinity term with an invalid topologyKey", antiAffinity(v1alpha1.PodAffinityTerm{LabelSelector: selector, TopologyKey: "-bad"}), anti0 + ".topologyKey"},
		{"an affinity weight over 100", func(p *v1alpha1.Pod) {
			p.Spec.Affinity = &v1alpha1.Affinity{PodAffinity: &v1alpha1.PodAffinity{
				PreferredDuringSchedulingIgnoredDuringExecution: []v1alpha1.WeightedPodAffinityTerm{{
					Weight: 101, PodAffinityTerm: v1alpha1.PodAffinityTerm{LabelSelector: selector, TopologyKey: "kubernetes.io/hostname"},
				}},
			}}
		}, "spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newPod("bad-scheduling")
			tc.mutate(p)
			_, err := c.CoreV1alpha1().Pods("bad-scheduling").Create(ctx, p, metav1.CreateOptions{})
			st := expectStatus(t, err, 422, tc.name)
			if !hasCause(st, tc.field) {
				t.Errorf("causes %s lack %s", causesOf(st), tc.field)
			}
		})
	}

	t.Run("a Deployment's template is checked the same way", func(t *testing.T) {
		d := newDeployment("bad-spread")
		d.Spec.Template.Spec.TopologySpreadConstraints = []v1alpha1.TopologySpreadConstraint{{MaxSkew: 0, TopologyKey: "zone", WhenUnsatisfiable: v1alpha1.DoNotSchedule}}
		_, err := c.AppsV1alpha1().Deployments("bad-scheduling").Create(ctx, d, metav1.CreateOptions{})
		st := expectStatus(t, err, 422, "create of a Deployment with maxSkew 0")
		if !hasCause(st, "spec.template.spec.topologySpreadConstraints[0].maxSkew") {
			t.Errorf("causes %s lack the template's maxSkew", causesOf(st))
		}
	})

	t.Run("valid constraints are stored as sent", func(t *testing.T) {
		p := newPod("good-scheduling")
		spread(func(*v1alpha1.TopologySpreadConstraint) {})(p)
		antiAffinity(v1alpha1.PodAffinityTerm{LabelSelector: selector, TopologyKey: "kubernetes.io/hostname",
			NamespaceSelector: &metav1.LabelSelector{}})(p)
		created := mustCreatePod(t, c, "bad-scheduling", p)
		got, _ := json.Marshal(created.Spec.TopologySpreadConstraints)
		want, _ := json.Marshal(p.Spec.TopologySpreadConstraints)
		if string(got) != string(want) {
			t.Errorf("stored constraints %s, want %s", got, want)
		}
		if a := created.Spec.Affinity; a == nil || a.PodAntiAffinity == nil || a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].NamespaceSelector == nil {
			t.Errorf("stored affinity %+v lost its namespaceSelector", a)
		}
	})
}

func testNominatedNodeName(t *testing.T, c clientset.Interface) {
	ctx := testContext(t)
	const ns = "nominated"
	mustCreatePod(t, c, ns, newPod("preemptor"))
	patch := []byte(`{"status":{"nominatedNodeName":"node-3"}}`)
	got, err := c.CoreV1alpha1().Pods(ns).Patch(ctx, "preemptor", types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil {
		t.Fatalf("patch status: %v", err)
	}
	if got.Status.NominatedNodeName != "node-3" {
		t.Errorf("nominatedNodeName %q", got.Status.NominatedNodeName)
	}
	_, err = c.CoreV1alpha1().Pods(ns).Patch(ctx, "preemptor", types.MergePatchType, []byte(`{"status":{"nominatedNodeName":"Node_3"}}`), metav1.PatchOptions{}, "status")
	st := expectStatus(t, err, 422, "a nominatedNodeName that is no node name")
	if !hasCause(st, "status.nominatedNodeName") {
		t.Errorf("causes %s lack status.nominatedNodeName", causesOf(st))
	}
}

package cache

import (
	"fmt"
	"sort"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

const ttl = 30 * time.Second

func bound(name, node, cpu string) *v1alpha1.Pod {
	return st.MakePod(name).Req(cpu, "").Node(node).Obj()
}

// usage is what a node is charged for.
type usage struct {
	milliCPU int64
	pods     int64
}

func TestCacheAccounting(t *testing.T) {
	type step func(t *testing.T, c *Cache, clk *clocktesting.FakeClock)
	assume := func(p *v1alpha1.Pod) step {
		return func(t *testing.T, c *Cache, _ *clocktesting.FakeClock) {
			if err := c.AssumePod(p); err != nil {
				t.Fatalf("AssumePod(%s): %v", p.Name, err)
			}
		}
	}
	finish := func(p *v1alpha1.Pod) step {
		return func(t *testing.T, c *Cache, _ *clocktesting.FakeClock) { _ = c.FinishBinding(p) }
	}
	forget := func(p *v1alpha1.Pod) step {
		return func(t *testing.T, c *Cache, _ *clocktesting.FakeClock) {
			if err := c.ForgetPod(p); err != nil {
				t.Fatalf("ForgetPod(%s): %v", p.Name, err)
			}
		}
	}
	add := func(p *v1alpha1.Pod) step {
		return func(t *testing.T, c *Cache, _ *clocktesting.FakeClock) {
			if err := c.AddPod(p); err != nil {
				t.Fatalf("AddPod(%s): %v", p.Name, err)
			}
		}
	}
	remove := func(p *v1alpha1.Pod) step {
		return func(t *testing.T, c *Cache, _ *clocktesting.FakeClock) { _ = c.RemovePod(p) }
	}
	wait := func(d time.Duration) step {
		return func(t *testing.T, c *Cache, clk *clocktesting.FakeClock) {
			clk.Step(d)
			c.cleanupExpiredAssumedPods()
		}
	}

	p1 := bound("p1", "n1", "1")
	p1OnN2 := bound("p1", "n2", "1")
	p2 := bound("p2", "n1", "500m")

	tests := []struct {
		name        string
		steps       []step
		want        map[string]usage
		wantPods    int
		wantAssumed []*v1alpha1.Pod
	}{
		{"assumed pod is charged to its node at once",
			[]step{assume(p1)}, map[string]usage{"n1": {1000, 1}}, 1, []*v1alpha1.Pod{p1}},
		{"forgetting an assumed pod releases it",
			[]step{assume(p1), forget(p1)}, map[string]usage{"n1": {0, 0}}, 0, nil},
		{"informer confirms an assumed pod without charging twice",
			[]step{assume(p1), add(p1)}, map[string]usage{"n1": {1000, 1}}, 1, nil},
		{"confirmation before the binding call returns is not undone by it",
			[]step{assume(p1), add(p1), finish(p1), wait(2 * ttl)}, map[string]usage{"n1": {1000, 1}}, 1, nil},
		{"confirmed on another node moves the charge",
			[]step{assume(p1), add(p1OnN2)}, map[string]usage{"n1": {0, 0}, "n2": {1000, 1}}, 1, nil},
		{"assumed pod never confirmed expires after the TTL",
			[]step{assume(p1), assume(p2), finish(p1), wait(ttl + time.Second)}, map[string]usage{"n1": {500, 1}}, 1, []*v1alpha1.Pod{p2}},
		{"assumed pod is kept until the TTL has passed",
			[]step{assume(p1), finish(p1), wait(ttl - time.Second)}, map[string]usage{"n1": {1000, 1}}, 1, []*v1alpha1.Pod{p1}},
		{"binding still in flight never expires",
			[]step{assume(p1), wait(10 * ttl)}, map[string]usage{"n1": {1000, 1}}, 1, []*v1alpha1.Pod{p1}},
		{"deleted bound pod frees its node",
			[]step{add(p1), add(p2), remove(p1)}, map[string]usage{"n1": {500, 1}}, 1, nil},
		{"deleted assumed pod frees its node",
			[]step{assume(p1), remove(p1)}, map[string]usage{"n1": {0, 0}}, 0, nil},
		{"informer add of an already known pod is not charged twice",
			[]step{add(p1), add(p1)}, map[string]usage{"n1": {1000, 1}}, 1, nil},
		{"expired pod seen again by the informer is charged again",
			[]step{assume(p1), finish(p1), wait(ttl + time.Second), add(p1)}, map[string]usage{"n1": {1000, 1}}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := clocktesting.NewFakeClock(time.Now())
			c := New(ttl, clk)
			c.AddNode(st.MakeNode("n1").Obj())
			c.AddNode(st.MakeNode("n2").Obj())
			for _, s := range tt.steps {
				s(t, c, clk)
			}
			for node, want := range tt.want {
				n, ok := c.NodeInfo(node)
				if !ok {
					t.Fatalf("node %s missing from the cache", node)
				}
				if got := (usage{n.Requested.MilliCPU, n.PodCount}); got != want {
					t.Errorf("node %s charged %+v, want %+v", node, got, want)
				}
			}
			if got := c.PodCount(); got != tt.wantPods {
				t.Errorf("cache holds %d pods, want %d", got, tt.wantPods)
			}
			for _, p := range tt.wantAssumed {
				if !c.IsAssumedPod(p) {
					t.Errorf("pod %s is not assumed", p.Name)
				}
			}
		})
	}
}

func TestAssumeTwiceFails(t *testing.T) {
	c := New(ttl, nil)
	p := bound("p", "n1", "1")
	if err := c.AssumePod(p); err != nil {
		t.Fatal(err)
	}
	if err := c.AssumePod(p); err == nil {
		t.Error("assuming the same pod twice succeeded")
	}
}

func TestForgetConfirmedPodFails(t *testing.T) {
	c := New(ttl, nil)
	p := bound("p", "n1", "1")
	_ = c.AddPod(p)
	if err := c.ForgetPod(p); err == nil {
		t.Error("forgetting a pod the informer confirmed succeeded")
	}
	if c.PodCount() != 1 {
		t.Error("the confirmed pod was dropped")
	}
}

func names(s *Snapshot) []string {
	var out []string
	for _, n := range s.NodeInfos() {
		out = append(out, n.Node().Name)
	}
	return out
}

func TestSnapshot(t *testing.T) {
	c := New(ttl, nil)
	s := NewEmptySnapshot()
	c.AddNode(st.MakeNode("b").Obj())
	c.AddNode(st.MakeNode("a").Obj())
	c.UpdateSnapshot(s)
	if got := names(s); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("snapshot nodes = %v, want [a b]", got)
	}

	t.Run("pod changes reach the snapshot", func(t *testing.T) {
		_ = c.AssumePod(bound("p", "a", "2"))
		c.UpdateSnapshot(s)
		a, _ := s.Get("a")
		if a.Requested.MilliCPU != 2000 || a.PodCount != 1 {
			t.Errorf("snapshot node a charged %dm/%d pods, want 2000m/1", a.Requested.MilliCPU, a.PodCount)
		}
	})

	t.Run("the snapshot does not change until it is updated", func(t *testing.T) {
		_ = c.AssumePod(bound("q", "a", "1"))
		a, _ := s.Get("a")
		if a.Requested.MilliCPU != 2000 {
			t.Errorf("snapshot changed under the cycle: %dm", a.Requested.MilliCPU)
		}
		c.UpdateSnapshot(s)
		if a.Requested.MilliCPU != 3000 {
			t.Errorf("after update node a charged %dm, want 3000m", a.Requested.MilliCPU)
		}
	})

	t.Run("node changes reach the snapshot", func(t *testing.T) {
		c.UpdateNode(nil, st.MakeNode("b").Label("disk", "ssd").Obj())
		c.UpdateSnapshot(s)
		b, _ := s.Get("b")
		if b.Node().Labels["disk"] != "ssd" {
			t.Error("label change missing from the snapshot")
		}
	})

	t.Run("removed empty node leaves the snapshot", func(t *testing.T) {
		c.RemoveNode(st.MakeNode("b").Obj())
		c.UpdateSnapshot(s)
		if got := names(s); len(got) != 1 || got[0] != "a" {
			t.Errorf("snapshot nodes = %v, want [a]", got)
		}
	})

	t.Run("removed node with pods leaves the snapshot but keeps its charge", func(t *testing.T) {
		c.RemoveNode(st.MakeNode("a").Obj())
		c.UpdateSnapshot(s)
		if s.NumNodes() != 0 {
			t.Fatalf("snapshot nodes = %v, want none", names(s))
		}
		c.AddNode(st.MakeNode("a").Obj())
		c.UpdateSnapshot(s)
		a, ok := s.Get("a")
		if !ok || a.Requested.MilliCPU != 3000 {
			t.Errorf("re-added node a: present %v, charged %v; want 3000m", ok, a)
		}
	})

	t.Run("pods bound to a node not yet seen are charged when it appears", func(t *testing.T) {
		_ = c.AddPod(bound("early", "c", "500m"))
		c.UpdateSnapshot(s)
		if _, ok := s.Get("c"); ok {
			t.Fatal("a node known only from its pods is in the snapshot")
		}
		c.AddNode(st.MakeNode("c").Obj())
		c.UpdateSnapshot(s)
		n, ok := s.Get("c")
		if !ok || n.Requested.MilliCPU != 500 {
			t.Errorf("node c: present %v, charged %v; want 500m", ok, n)
		}
	})

	t.Run("a fresh snapshot equals an updated one", func(t *testing.T) {
		fresh := NewEmptySnapshot()
		c.UpdateSnapshot(fresh)
		if len(names(fresh)) != len(names(s)) {
			t.Fatalf("fresh %v, updated %v", names(fresh), names(s))
		}
		for _, n := range fresh.NodeInfos() {
			o, _ := s.Get(n.Node().Name)
			if summary(o) != summary(n) {
				t.Errorf("node %s: fresh %+v, updated %+v", n.Node().Name, n, o)
			}
		}
	})
}

// summary is what must agree between two copies of a NodeInfo.
func summary(n *framework.NodeInfo) string {
	var uids []string
	for _, p := range n.Pods {
		uids = append(uids, string(p.Pod.UID))
	}
	sort.Strings(uids)
	return fmt.Sprintf("%s %+v %+v %d %d %v aff=%d anti=%d", n.Node().Name, n.Requested, n.NonZeroRequested, n.PodCount, n.Generation, uids, len(n.PodsWithAffinity), len(n.PodsWithRequiredAntiAffinity))
}

func TestSnapshotCopiesAreIndependent(t *testing.T) {
	c := New(ttl, nil)
	c.AddNode(st.MakeNode("a").Obj())
	s := NewEmptySnapshot()
	_ = c.AddPod(bound("p", "a", "1"))
	c.UpdateSnapshot(s)
	a, _ := s.Get("a")
	// The cache's list changes in place; the snapshot's must not follow
	// until it is updated.
	_ = c.RemovePod(bound("p", "a", "1"))
	_ = c.AddPod(bound("q", "a", "1"))
	if len(a.Pods) != 1 || a.Pods[0].Pod.Name != "p" {
		t.Fatalf("snapshot pods changed under the cycle: %v", summary(a))
	}
	c.UpdateSnapshot(s)
	if len(a.Pods) != 1 || a.Pods[0].Pod.Name != "q" {
		t.Fatalf("after update: %v, want pod q", summary(a))
	}
}

func TestExpiryHeapIgnoresStaleDeadlines(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Now())
	c := New(ttl, clk)
	p := bound("p", "n1", "1")
	_ = c.AssumePod(p)
	_ = c.FinishBinding(p)
	// Confirmed, deleted and assumed again: the first deadline is stale.
	_ = c.AddPod(p)
	_ = c.RemovePod(p)
	clk.Step(ttl / 2)
	_ = c.AssumePod(p)
	_ = c.FinishBinding(p)
	clk.Step(ttl/2 + time.Second)
	c.cleanupExpiredAssumedPods()
	if !c.IsAssumedPod(p) {
		t.Fatal("a re-assumed pod expired on its earlier deadline")
	}
	clk.Step(ttl)
	c.cleanupExpiredAssumedPods()
	if c.PodCount() != 0 || c.expiry.Len() != 0 {
		t.Fatalf("after its own deadline: %d pods, %d deadlines; want none", c.PodCount(), c.expiry.Len())
	}
}

package framework_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	st "skiff.dev/skiff/pkg/scheduler/testing"
)

// fakePlugin filters and scores by table: reject[node] is a rejection
// reason, score[node] a raw score.
type fakePlugin struct {
	name      string
	preFilter *framework.Status
	reject    map[string]string
	score     map[string]int64
	normalize bool
	filtered  int
}

func (p *fakePlugin) Name() string { return p.name }
func (p *fakePlugin) PreFilter(context.Context, *framework.CycleState, *v1alpha1.Pod) (*framework.PreFilterResult, *framework.Status) {
	return nil, p.preFilter
}

func (p *fakePlugin) PreFilterExtensions() framework.PreFilterExtensions { return nil }
func (p *fakePlugin) Filter(_ context.Context, _ *framework.CycleState, _ *v1alpha1.Pod, n *framework.NodeInfo) *framework.Status {
	p.filtered++
	if r, ok := p.reject[n.Node().Name]; ok {
		return framework.NewStatus(framework.Unschedulable, r)
	}
	return nil
}
func (p *fakePlugin) Score(_ context.Context, _ *framework.CycleState, _ *v1alpha1.Pod, n *framework.NodeInfo) (int64, *framework.Status) {
	return p.score[n.Node().Name], nil
}
func (p *fakePlugin) ScoreExtensions() framework.ScoreExtensions {
	if p.normalize {
		return p
	}
	return nil
}
func (p *fakePlugin) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *v1alpha1.Pod, s framework.NodeScoreList) *framework.Status {
	return framework.DefaultNormalizeScore(framework.MaxNodeScore, false, s)
}

func nodes(names ...string) []*framework.NodeInfo {
	var out []*framework.NodeInfo
	for _, n := range names {
		out = append(out, framework.NewNodeInfo(st.MakeNode(n).Obj()))
	}
	return out
}

func TestNewFrameworkRejectsBadRegistrations(t *testing.T) {
	tests := []struct {
		name string
		regs []framework.Registration
		want string
	}{
		{"same plugin twice", []framework.Registration{{Plugin: &fakePlugin{name: "a"}, Weight: 1}, {Plugin: &fakePlugin{name: "a"}, Weight: 1}}, "registered twice"},
		{"score plugin without weight", []framework.Registration{{Plugin: &fakePlugin{name: "a"}}}, "positive weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := framework.NewFramework(tt.regs, 1)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestPreFilterSkipMeansFilterIsNotCalled(t *testing.T) {
	skipper := &fakePlugin{name: "skipper", preFilter: framework.NewStatus(framework.Skip), reject: map[string]string{"n": "never"}}
	other := &fakePlugin{name: "other"}
	f, err := framework.NewFramework([]framework.Registration{{Plugin: skipper, Weight: 1}, {Plugin: other, Weight: 1}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, state, pod := context.Background(), framework.NewCycleState(), st.MakePod("p").Obj()
	if _, s := f.RunPreFilterPlugins(ctx, state, pod); !s.IsSuccess() {
		t.Fatalf("RunPreFilterPlugins: %v", s.AsError())
	}
	if s := f.RunFilterPlugins(ctx, state, pod, nodes("n")[0]); !s.IsSuccess() {
		t.Fatalf("RunFilterPlugins = %v, want success", s.Reasons())
	}
	// Preemption and nominated pods filter on a clone of the state.
	if s := f.RunFilterPlugins(ctx, state.Clone(), pod, nodes("n")[0]); !s.IsSuccess() {
		t.Fatalf("RunFilterPlugins on a clone = %v, want success", s.Reasons())
	}
	if skipper.filtered != 0 || other.filtered != 2 {
		t.Errorf("filter calls: skipped plugin %d, other %d; want 0 and 2", skipper.filtered, other.filtered)
	}
	// A state PreFilter has not seen runs every filter.
	if s := f.RunFilterPlugins(ctx, framework.NewCycleState(), pod, nodes("n")[0]); s.IsSuccess() {
		t.Error("RunFilterPlugins without PreFilter skipped the plugin")
	}
}

func TestPreFilterRejectionNamesThePlugin(t *testing.T) {
	p := &fakePlugin{name: "gate", preFilter: framework.NewStatus(framework.UnschedulableAndUnresolvable, "pod is gated")}
	f, _ := framework.NewFramework([]framework.Registration{{Plugin: p, Weight: 1}}, 1)
	_, s := f.RunPreFilterPlugins(context.Background(), framework.NewCycleState(), st.MakePod("p").Obj())
	if !s.IsRejected() || s.Plugin() != "gate" || s.Message() != "pod is gated" {
		t.Errorf("status = %v %q from %q, want rejection %q from gate", s.Code(), s.Message(), s.Plugin(), "pod is gated")
	}
}

func TestFilterStopsAtFirstRejection(t *testing.T) {
	first := &fakePlugin{name: "first", reject: map[string]string{"n": "first says no"}}
	second := &fakePlugin{name: "second", reject: map[string]string{"n": "second says no"}}
	f, _ := framework.NewFramework([]framework.Registration{{Plugin: first, Weight: 1}, {Plugin: second, Weight: 1}}, 1)
	ctx, state, pod := context.Background(), framework.NewCycleState(), st.MakePod("p").Obj()
	f.RunPreFilterPlugins(ctx, state, pod)
	s := f.RunFilterPlugins(ctx, state, pod, nodes("n")[0])
	if !reflect.DeepEqual(s.Reasons(), []string{"first says no"}) || s.Plugin() != "first" {
		t.Errorf("got %q from %q, want only the first plugin's reason", s.Reasons(), s.Plugin())
	}
	if second.filtered != 0 {
		t.Errorf("second filter ran %d times after the first rejected", second.filtered)
	}
}

func TestScoresAreNormalisedWeightedAndSummed(t *testing.T) {
	raw := &fakePlugin{name: "raw", score: map[string]int64{"a": 10, "b": 50, "c": 100}}
	norm := &fakePlugin{name: "norm", score: map[string]int64{"a": 4, "b": 2, "c": 0}, normalize: true}
	f, _ := framework.NewFramework([]framework.Registration{{Plugin: raw, Weight: 1}, {Plugin: norm, Weight: 3}}, 4)
	got, s := f.RunScorePlugins(context.Background(), framework.NewCycleState(), st.MakePod("p").Obj(), nodes("a", "b", "c"))
	if !s.IsSuccess() {
		t.Fatal(s.AsError())
	}
	// norm scales 4,2,0 to 100,50,0 and weighs it 3.
	want := []int64{10 + 300, 50 + 150, 100}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("totals = %v, want %v", got, want)
	}
}

func TestScoreOutOfRangeIsAnError(t *testing.T) {
	bad := &fakePlugin{name: "bad", score: map[string]int64{"a": 101}}
	f, _ := framework.NewFramework([]framework.Registration{{Plugin: bad, Weight: 1}}, 1)
	_, s := f.RunScorePlugins(context.Background(), framework.NewCycleState(), st.MakePod("p").Obj(), nodes("a"))
	if s.Code() != framework.Error {
		t.Errorf("code = %v, want Error", s.Code())
	}
}

func TestDefaultNormalizeScore(t *testing.T) {
	tests := []struct {
		name    string
		reverse bool
		in      []int64
		want    []int64
	}{
		{"highest becomes 100", false, []int64{1, 2, 4}, []int64{25, 50, 100}},
		{"reversed: lowest becomes 100", true, []int64{0, 2, 4}, []int64{100, 50, 0}},
		{"all zero stays zero", false, []int64{0, 0}, []int64{0, 0}},
		{"all zero reversed is all 100", true, []int64{0, 0}, []int64{100, 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scores := make(framework.NodeScoreList, len(tt.in))
			for i, v := range tt.in {
				scores[i].Score = v
			}
			framework.DefaultNormalizeScore(framework.MaxNodeScore, tt.reverse, scores)
			for i := range scores {
				if scores[i].Score != tt.want[i] {
					t.Errorf("score[%d] = %d, want %d", i, scores[i].Score, tt.want[i])
				}
			}
		})
	}
}

func TestFitErrorMessage(t *testing.T) {
	rejected := func(reasons ...string) *framework.Status {
		return framework.NewStatus(framework.Unschedulable, reasons...)
	}
	tests := []struct {
		name string
		err  framework.FitError
		want string
	}{
		{"reasons counted and sorted as upstream", framework.FitError{NumAllNodes: 4, Diagnosis: framework.Diagnosis{NodeToStatus: map[string]*framework.Status{
			"a": rejected("node(s) were unschedulable"),
			"b": rejected("node(s) had untolerated taint {dedicated: gpu}"),
			"c": rejected("Insufficient cpu"),
			"d": rejected("Insufficient cpu"),
		}}}, "0/4 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) were unschedulable, 2 Insufficient cpu."},
		{"a node with two reasons counts in both", framework.FitError{NumAllNodes: 2, Diagnosis: framework.Diagnosis{NodeToStatus: map[string]*framework.Status{
			"a": rejected("Insufficient cpu", "Insufficient memory"),
			"b": rejected("Insufficient memory"),
		}}}, "0/2 nodes are available: 1 Insufficient cpu, 2 Insufficient memory."},
		{"prefilter rejection replaces the per-node reasons", framework.FitError{NumAllNodes: 3, Diagnosis: framework.Diagnosis{PreFilterMsg: "pod is gated"}},
			"0/3 nodes are available: pod is gated."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("message\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	var nilStatus *framework.Status
	if !nilStatus.IsSuccess() || nilStatus.AsError() != nil {
		t.Error("a nil status must be a success")
	}
	cause := errors.New("boom")
	s := framework.AsStatus(cause)
	if s.Code() != framework.Error || !errors.Is(s.AsError(), cause) {
		t.Errorf("AsStatus(err) = %v %v, want Error wrapping the cause", s.Code(), s.AsError())
	}
}

func TestComputePodRequests(t *testing.T) {
	pod := st.MakePod("p").Req("250m", "").Container("", "1Gi").Obj()
	got := framework.ComputePodRequests(pod)
	want := framework.PodRequests{
		Requested: framework.Resource{MilliCPU: 250, Memory: 1 << 30},
		NonZero:   framework.Resource{MilliCPU: 250 + framework.DefaultMilliCPURequest, Memory: framework.DefaultMemoryRequest + 1<<30},
	}
	if got != want {
		t.Errorf("requests = %+v, want %+v", got, want)
	}
}

// sharedRejecter rejects every node with one status of its own.
type sharedRejecter struct{ status *framework.Status }

func (sharedRejecter) Name() string { return "sharedRejecter" }
func (p sharedRejecter) Filter(context.Context, *framework.CycleState, *v1alpha1.Pod, *framework.NodeInfo) *framework.Status {
	return p.status
}

// TestOneRejectionStatusServesEveryNodeAtOnce: a plugin's RejectionStatus,
// returned for many nodes by filters running at once, comes back naming
// the plugin with its reasons, and nothing writes it (go test -race).
func TestOneRejectionStatusServesEveryNodeAtOnce(t *testing.T) {
	p := sharedRejecter{framework.RejectionStatus("sharedRejecter", framework.UnschedulableAndUnresolvable, "no node for you")}
	f, err := framework.NewFramework([]framework.Registration{{Plugin: p, Weight: 1}}, 4)
	if err != nil {
		t.Fatal(err)
	}
	ctx, state, pod := context.Background(), framework.NewCycleState(), st.MakePod("p").Obj()
	f.RunPreFilterPlugins(ctx, state, pod)
	// Goroutines that all start at once, as the filter pass's do over many
	// nodes.
	statuses := make([]*framework.Status, 8)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Go(func() {
			<-start
			statuses[i] = f.RunFilterPlugins(ctx, state, pod, framework.NewNodeInfo(st.MakeNode("n").Obj()))
		})
	}
	close(start)
	wg.Wait()
	for i, s := range statuses {
		if s.Code() != framework.UnschedulableAndUnresolvable || s.Plugin() != "sharedRejecter" || s.Message() != "no node for you" {
			t.Fatalf("node %d: %v from %q (%q), want the plugin's rejection", i, s.Code(), s.Plugin(), s.Message())
		}
	}
}

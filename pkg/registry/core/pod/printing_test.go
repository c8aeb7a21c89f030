package pod

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/pkg/apis/core"
)

func podWithStatuses(phase core.PodPhase, statuses ...core.ContainerStatus) *core.Pod {
	p := &core.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Status:     core.PodStatus{Phase: phase, ContainerStatuses: statuses},
	}
	for _, cs := range statuses {
		p.Spec.Containers = append(p.Spec.Containers, core.Container{Name: cs.Name, Image: "img"})
	}
	if len(statuses) == 0 {
		p.Spec.Containers = []core.Container{{Name: "c", Image: "img"}}
	}
	return p
}

func running(name string, ready bool) core.ContainerStatus {
	return core.ContainerStatus{Name: name, Ready: ready, State: core.ContainerState{Running: &core.ContainerStateRunning{}}}
}

func waiting(name, reason string) core.ContainerStatus {
	return core.ContainerStatus{Name: name, State: core.ContainerState{Waiting: &core.ContainerStateWaiting{Reason: reason}}}
}

func terminated(name string, t core.ContainerStateTerminated) core.ContainerStatus {
	return core.ContainerStatus{Name: name, State: core.ContainerState{Terminated: &t}}
}

func TestPodStatusText(t *testing.T) {
	now := metav1.Now()
	tests := []struct {
		name string
		pod  *core.Pod
		want string
	}{
		{name: "a new pod is Pending", pod: podWithStatuses(core.PodPending), want: "Pending"},
		{name: "a running pod is Running", pod: podWithStatuses(core.PodRunning, running("c", true)), want: "Running"},
		{name: "a crash-looping container shows its waiting reason", pod: podWithStatuses(core.PodRunning, waiting("c", "CrashLoopBackOff")), want: "CrashLoopBackOff"},
		{name: "a container waiting for its image shows why", pod: podWithStatuses(core.PodPending, waiting("c", "ContainerCreating")), want: "ContainerCreating"},
		{name: "a waiting container without a reason shows the phase", pod: podWithStatuses(core.PodPending, waiting("c", "")), want: "Pending"},
		{name: "a container that exited 0 shows Completed", pod: podWithStatuses(core.PodSucceeded, terminated("c", core.ContainerStateTerminated{Reason: "Completed"})), want: "Completed"},
		{name: "a container that failed shows Error", pod: podWithStatuses(core.PodFailed, terminated("c", core.ContainerStateTerminated{ExitCode: 1, Reason: "Error"})), want: "Error"},
		{name: "a terminated container without a reason shows its exit code", pod: podWithStatuses(core.PodFailed, terminated("c", core.ContainerStateTerminated{ExitCode: 3})), want: "ExitCode:3"},
		{name: "a killed container without a reason shows its signal", pod: podWithStatuses(core.PodFailed, terminated("c", core.ContainerStateTerminated{ExitCode: 137, Signal: 9})), want: "Signal:9"},
		{name: "the pod's reason wins over its phase", pod: func() *core.Pod {
			p := podWithStatuses(core.PodFailed)
			p.Status.Reason = "Evicted"
			return p
		}(), want: "Evicted"},
		{name: "the first container's state is shown when several say something", pod: podWithStatuses(core.PodRunning,
			waiting("a", "CrashLoopBackOff"), waiting("b", "ImagePullBackOff")), want: "CrashLoopBackOff"},
		{name: "a pod being deleted is Terminating", pod: func() *core.Pod {
			p := podWithStatuses(core.PodRunning, running("c", true))
			p.DeletionTimestamp = &now
			return p
		}(), want: "Terminating"},
		{name: "a crash-looping pod being deleted is Terminating", pod: func() *core.Pod {
			p := podWithStatuses(core.PodRunning, waiting("c", "CrashLoopBackOff"))
			p.DeletionTimestamp = &now
			return p
		}(), want: "Terminating"},
		// kubectl shows Running while a ready container still runs beside
		// one that completed (a finished sidecar-like helper).
		{name: "a completed container beside a running one shows Running", pod: func() *core.Pod {
			p := podWithStatuses(core.PodRunning, running("main", true), terminated("helper", core.ContainerStateTerminated{Reason: "Completed"}))
			p.Status.Conditions = []core.PodCondition{{Type: core.PodReady, Status: core.ConditionTrue}}
			return p
		}(), want: "Running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PodStatusText(tt.pod); got != tt.want {
				t.Errorf("PodStatusText = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPodRow(t *testing.T) {
	finished := metav1.NewTime(time.Now().Add(-90 * time.Second))
	tests := []struct {
		name             string
		pod              *core.Pod
		wantReady        string
		wantRestarts     string
		wantIP, wantNode string
	}{
		{
			name:         "an unscheduled pod has no IP or node",
			pod:          podWithStatuses(core.PodPending),
			wantReady:    "0/1",
			wantRestarts: "0",
			wantIP:       "<none>", wantNode: "<none>",
		},
		{
			name: "ready counts only running ready containers",
			pod: func() *core.Pod {
				p := podWithStatuses(core.PodRunning, running("a", true), running("b", false), waiting("c", "CrashLoopBackOff"))
				p.Spec.NodeName, p.Status.PodIP = "n1", "10.0.0.7"
				return p
			}(),
			wantReady:    "1/3",
			wantRestarts: "0",
			wantIP:       "10.0.0.7", wantNode: "n1",
		},
		{
			name: "restarts add up over containers and say when the last was",
			pod: func() *core.Pod {
				a, b := running("a", true), running("b", true)
				a.RestartCount, b.RestartCount = 2, 3
				b.LastTerminationState.Terminated = &core.ContainerStateTerminated{ExitCode: 1, FinishedAt: finished}
				return podWithStatuses(core.PodRunning, a, b)
			}(),
			wantReady:    "2/2",
			wantRestarts: "5 (90s ago)",
			wantIP:       "<none>", wantNode: "<none>",
		},
		{
			name: "restarts without a recorded termination show only the count",
			pod: func() *core.Pod {
				a := running("a", true)
				a.RestartCount = 4
				return podWithStatuses(core.PodRunning, a)
			}(),
			wantReady:    "1/1",
			wantRestarts: "4",
			wantIP:       "<none>", wantNode: "<none>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.pod.CreationTimestamp = metav1.NewTime(time.Now().Add(-5 * time.Minute))
			table, err := tableConvertor.ConvertToTable(context.Background(), tt.pod, nil)
			if err != nil {
				t.Fatalf("ConvertToTable: %v", err)
			}
			if len(table.Rows) != 1 {
				t.Fatalf("rows = %d, want 1", len(table.Rows))
			}
			cells := cellsByColumn(t, table)
			want := map[string]interface{}{
				"Name": "p", "Ready": tt.wantReady, "Restarts": tt.wantRestarts, "Age": "5m",
				"IP": tt.wantIP, "Node": tt.wantNode,
			}
			for col, w := range want {
				if cells[col] != w {
					t.Errorf("%s = %v, want %v", col, cells[col], w)
				}
			}
		})
	}
}

// TestPodColumns checks the columns kubectl prints: the default ones and
// the ones `-o wide` adds.
func TestPodColumns(t *testing.T) {
	table, err := tableConvertor.ConvertToTable(context.Background(), podWithStatuses(core.PodPending), nil)
	if err != nil {
		t.Fatalf("ConvertToTable: %v", err)
	}
	var normal, wide []string
	for _, c := range table.ColumnDefinitions {
		if c.Priority == 0 {
			normal = append(normal, c.Name)
		} else {
			wide = append(wide, c.Name)
		}
	}
	if got, want := join(normal), "Name Ready Status Restarts Age"; got != want {
		t.Errorf("default columns = %q, want %q", got, want)
	}
	if got, want := join(wide), "IP Node Nominated Node"; got != want {
		t.Errorf("-o wide columns = %q, want %q", got, want)
	}
	if table.ColumnDefinitions[0].Format != "name" {
		t.Errorf("Name column format = %q, want name", table.ColumnDefinitions[0].Format)
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

func cellsByColumn(t *testing.T, table *metav1.Table) map[string]interface{} {
	t.Helper()
	if len(table.Rows[0].Cells) != len(table.ColumnDefinitions) {
		t.Fatalf("row has %d cells for %d columns", len(table.Rows[0].Cells), len(table.ColumnDefinitions))
	}
	out := map[string]interface{}{}
	for i, c := range table.ColumnDefinitions {
		out[c.Name] = table.Rows[0].Cells[i]
	}
	return out
}

// TestPodNominatedNodeColumn checks that -o wide shows where preemption made
// room for a pending pod, as kubectl does for core pods.
func TestPodNominatedNodeColumn(t *testing.T) {
	for _, nominated := range []string{"", "n2"} {
		pod := podWithStatuses(core.PodPending)
		pod.Status.NominatedNodeName = nominated
		table, err := tableConvertor.ConvertToTable(context.Background(), pod, nil)
		if err != nil {
			t.Fatalf("ConvertToTable: %v", err)
		}
		want := nominated
		if want == "" {
			want = "<none>"
		}
		if got := cellsByColumn(t, table)["Nominated Node"]; got != want {
			t.Errorf("Nominated Node = %v, want %v", got, want)
		}
	}
}

package node

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"skiff.dev/skiff/pkg/apis/core"
)

func TestNodeRow(t *testing.T) {
	withReady := func(s core.ConditionStatus) []core.NodeCondition {
		return []core.NodeCondition{{Type: "MemoryPressure", Status: core.ConditionFalse}, {Type: core.NodeReady, Status: s}}
	}
	tests := []struct {
		name          string
		labels        map[string]string
		conditions    []core.NodeCondition
		unschedulable bool
		wantStatus    string
		wantRoles     string
	}{
		{name: "a ready node", conditions: withReady(core.ConditionTrue), wantStatus: "Ready", wantRoles: "<none>"},
		{name: "a node that reports not ready", conditions: withReady(core.ConditionFalse), wantStatus: "NotReady", wantRoles: "<none>"},
		{name: "a node whose kubelet stopped reporting", conditions: withReady(core.ConditionUnknown), wantStatus: "NotReady", wantRoles: "<none>"},
		{name: "a node with no Ready condition yet", wantStatus: "Unknown", wantRoles: "<none>"},
		{name: "a cordoned ready node", conditions: withReady(core.ConditionTrue), unschedulable: true, wantStatus: "Ready,SchedulingDisabled", wantRoles: "<none>"},
		{name: "a cordoned node with no Ready condition", unschedulable: true, wantStatus: "Unknown,SchedulingDisabled", wantRoles: "<none>"},
		{
			name:       "roles come sorted from node-role labels",
			labels:     map[string]string{"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/control-plane": "", "zone": "a", "node-role.kubernetes.io/": "x"},
			conditions: withReady(core.ConditionTrue),
			wantStatus: "Ready", wantRoles: "control-plane,worker",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := &core.Node{
				ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: tt.labels},
				Spec:       core.NodeSpec{Unschedulable: tt.unschedulable},
				Status: core.NodeStatus{
					Conditions: tt.conditions,
					Addresses:  []core.NodeAddress{{Type: core.NodeHostName, Address: "h1"}, {Type: core.NodeInternalIP, Address: "192.168.1.10"}},
					NodeInfo:   core.NodeSystemInfo{KubeletVersion: "v1.37.2-skiff.1", OSImage: "Debian", ContainerRuntimeVersion: "process://1"},
				},
			}
			table, err := tableConvertor.ConvertToTable(context.Background(), node, nil)
			if err != nil {
				t.Fatalf("ConvertToTable: %v", err)
			}
			cells := map[string]interface{}{}
			for i, c := range table.ColumnDefinitions {
				cells[c.Name] = table.Rows[0].Cells[i]
			}
			want := map[string]interface{}{
				"Name": "n1", "Status": tt.wantStatus, "Roles": tt.wantRoles, "Version": "v1.37.2-skiff.1",
				"Internal-IP": "192.168.1.10", "External-IP": "<none>", "OS-Image": "Debian",
				"Kernel-Version": "<unknown>", "Container-Runtime": "process://1",
			}
			for col, w := range want {
				if cells[col] != w {
					t.Errorf("%s = %v, want %v", col, cells[col], w)
				}
			}
		})
	}
}

func TestNodeColumns(t *testing.T) {
	table, err := tableConvertor.ConvertToTable(context.Background(), &core.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, nil)
	if err != nil {
		t.Fatalf("ConvertToTable: %v", err)
	}
	var normal []string
	for _, c := range table.ColumnDefinitions {
		if c.Priority == 0 {
			normal = append(normal, c.Name)
		}
	}
	want := []string{"Name", "Status", "Roles", "Age", "Version"}
	if len(normal) != len(want) {
		t.Fatalf("default columns = %v, want %v", normal, want)
	}
	for i := range want {
		if normal[i] != want[i] {
			t.Errorf("default columns = %v, want %v", normal, want)
			break
		}
	}
}

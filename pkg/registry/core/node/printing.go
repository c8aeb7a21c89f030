package node

import (
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"skiff.dev/skiff/pkg/apis/core"
	"skiff.dev/skiff/pkg/registry/table"
)

var tableConvertor = table.New([]metav1.TableColumnDefinition{
	table.Column("Name", "string", "Name of the node.", false),
	table.Column("Status", "string", "Ready, NotReady or Unknown, and SchedulingDisabled when cordoned.", false),
	table.Column("Roles", "string", "Roles from the node-role.kubernetes.io/ labels.", false),
	table.Column("Age", "string", "Time since the node registered.", false),
	table.Column("Version", "string", "The kubelet's version.", false),
	table.Column("Internal-IP", "string", "The node's internal IP.", true),
	table.Column("External-IP", "string", "The node's external IP.", true),
	table.Column("OS-Image", "string", "The node's OS image.", true),
	table.Column("Kernel-Version", "string", "The node's kernel version.", true),
	table.Column("Container-Runtime", "string", "The node's container runtime and version.", true),
}, printNode)

const rolePrefix = "node-role.kubernetes.io/"

func printNode(obj runtime.Object) ([]interface{}, error) {
	node, ok := obj.(*core.Node)
	if !ok {
		return nil, fmt.Errorf("not a node: %T", obj)
	}
	status := "Unknown"
	for _, c := range node.Status.Conditions {
		if c.Type == core.NodeReady {
			if c.Status == core.ConditionTrue {
				status = "Ready"
			} else {
				status = "NotReady"
			}
		}
	}
	if node.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	var roles []string
	for k := range node.Labels {
		if strings.HasPrefix(k, rolePrefix) && len(k) > len(rolePrefix) {
			roles = append(roles, k[len(rolePrefix):])
		}
	}
	sort.Strings(roles)
	rolesText := strings.Join(roles, ",")
	if rolesText == "" {
		rolesText = "<none>"
	}
	info := node.Status.NodeInfo
	return []interface{}{
		node.Name, status, rolesText, table.Age(node.CreationTimestamp), info.KubeletVersion,
		address(node, core.NodeInternalIP), address(node, core.NodeExternalIP),
		orUnknown(info.OSImage), orUnknown(info.KernelVersion), orUnknown(info.ContainerRuntimeVersion),
	}, nil
}

func address(node *core.Node, t core.NodeAddressType) string {
	for _, a := range node.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}

func orUnknown(s string) string {
	if s == "" {
		return "<unknown>"
	}
	return s
}

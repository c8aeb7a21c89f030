package apiserver

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/test/integration/framework"
)

// TestNodeRestriction: a kubelet, authenticated as system:node:<name>, may
// write its own Node, but not what steers work to it: an admin's taint, its
// cordon, or a node-role label. Nor may it relabel its pods through their
// status. What it may still do (its own labels, its status) goes through.
func TestNodeRestriction(t *testing.T) {
	s := framework.StartTestServer(t)
	ctx := testContext(t)
	admin := s.Client
	const nodeName, ns = "nr-n1", "noderestriction"

	n := newNode(nodeName)
	n.Labels["node-role.kubernetes.io/infra"] = ""
	n.Spec.Unschedulable = true
	n.Spec.Taints = []v1alpha1.Taint{{Key: "maintenance", Value: "disk", Effect: v1alpha1.TaintEffectNoSchedule}}
	mustCreateNode(t, admin, n)
	mustCreatePod(t, admin, ns, newPod("own"))
	mustBind(t, admin, ns, "own", nodeName)

	kubelet := clientFor(t, s.ConfigFor("system:node:"+nodeName, "system:nodes"))
	nodes := kubelet.CoreV1alpha1().Nodes()
	patchNode := func(patch string, sub ...string) error {
		_, err := nodes.Patch(ctx, nodeName, types.MergePatchType, []byte(patch), metav1.PatchOptions{}, sub...)
		return err
	}

	for _, tc := range []struct{ what, patch, sub, why string }{
		{"removes the admin's NoSchedule taint", `{"spec":{"taints":null}}`, "", "taints"},
		{"adds a taint of its own", `{"spec":{"taints":[{"key":"maintenance","value":"disk","effect":"NoSchedule"},{"key":"x","effect":"PreferNoSchedule"}]}}`, "", "taints"},
		{"uncordons itself", `{"spec":{"unschedulable":false}}`, "", "spec.unschedulable"},
		{"labels itself control-plane", `{"metadata":{"labels":{"node-role.kubernetes.io/control-plane":""}}}`, "", "node-role.kubernetes.io/control-plane"},
		{"drops the admin's node-role label", `{"metadata":{"labels":{"node-role.kubernetes.io/infra":null}}}`, "", "node-role.kubernetes.io/infra"},
		{"sets a node-restriction label", `{"metadata":{"labels":{"node-restriction.kubernetes.io/secure":"true"}}}`, "", "node-restriction.kubernetes.io/secure"},
		{"labels itself through its status", `{"metadata":{"labels":{"node-role.kubernetes.io/worker":""}}}`, "status", "node-role.kubernetes.io/worker"},
	} {
		var sub []string
		if tc.sub != "" {
			sub = []string{tc.sub}
		}
		err := patchNode(tc.patch, sub...)
		st := expectStatus(t, err, 403, "a node "+tc.what)
		expectMessage(t, st, nodeName, tc.why)
	}

	// What a kubelet does write still goes through.
	if err := patchNode(`{"metadata":{"labels":{"example.com/disk":"ssd","topology.kubernetes.io/zone":"z1"}}}`); err != nil {
		t.Errorf("a node sets labels of its own: %v", err)
	}
	if err := patchNode(`{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}]}}`, "status"); err != nil {
		t.Errorf("a node reports its status: %v", err)
	}

	got, err := admin.CoreV1alpha1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get node: %v", err)
	}
	if !got.Spec.Unschedulable || len(got.Spec.Taints) != 1 || got.Spec.Taints[0].Key != "maintenance" {
		t.Errorf("the node's cordon or taints changed: unschedulable=%v taints=%v", got.Spec.Unschedulable, got.Spec.Taints)
	}
	if _, ok := got.Labels["node-role.kubernetes.io/infra"]; !ok {
		t.Errorf("the admin's node-role label is gone: %v", got.Labels)
	}
	for k := range got.Labels {
		if k == "node-role.kubernetes.io/control-plane" || k == "node-role.kubernetes.io/worker" || k == "node-restriction.kubernetes.io/secure" {
			t.Errorf("the node gave itself label %s", k)
		}
	}
	if got.Labels["example.com/disk"] != "ssd" {
		t.Errorf("the node's own label was not kept: %v", got.Labels)
	}

	// Its pods: status yes, relabelling through status no, new pods no.
	waitForOwnPod(t, kubelet, nodeName, "own")
	pods := kubelet.CoreV1alpha1().Pods(ns)
	_, err = pods.Patch(ctx, "own", types.MergePatchType, []byte(`{"metadata":{"labels":{"app":"db"}}}`), metav1.PatchOptions{}, "status")
	expectMessage(t, expectStatus(t, err, 403, "a node relabels its pod through the status"), "labels")
	if _, err := pods.Patch(ctx, "own", types.MergePatchType, []byte(`{"status":{"phase":"Running"}}`), metav1.PatchOptions{}, "status"); err != nil {
		t.Errorf("a node writes its pod's status: %v", err)
	}
	mine := newPod("mine")
	mine.Spec.NodeName = nodeName
	_, err = pods.Create(ctx, mine, metav1.CreateOptions{})
	expectStatus(t, err, 403, "a node creates a pod bound to itself")
}

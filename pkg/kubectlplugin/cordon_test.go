package kubectlplugin

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clienttesting "k8s.io/client-go/testing"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
)

func node(name string, unschedulable bool, labels map[string]string) *v1alpha1.Node {
	return &v1alpha1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: v1alpha1.NodeSpec{Unschedulable: unschedulable}}
}

// writes are the client's write actions: what was sent to the server.
func writes(actions []clienttesting.Action) []clienttesting.Action {
	var w []clienttesting.Action
	for _, a := range actions {
		if a.GetVerb() != "get" && a.GetVerb() != "list" && a.GetVerb() != "watch" {
			w = append(w, a)
		}
	}
	return w
}

func TestCordonUncordon(t *testing.T) {
	client := newFake(node("n1", false, nil))
	out, _, err := runFake(t, client, "cordon", "n1")
	if err != nil || out != "node/n1 cordoned\n" {
		t.Fatalf("cordon: %q %v", out, err)
	}
	w := writes(client.Actions())
	if len(w) != 1 {
		t.Fatalf("want one write, got %v", w)
	}
	// A patch of spec.unschedulable alone: an update would need the whole
	// node and race the kubelet's status writes.
	p, ok := w[0].(clienttesting.PatchAction)
	if !ok || p.GetPatchType() != types.StrategicMergePatchType || string(p.GetPatch()) != `{"spec":{"unschedulable":true}}` {
		t.Fatalf("want a strategic merge patch of spec.unschedulable, got %#v", w[0])
	}
	n, _ := client.CoreV1alpha1().Nodes().Get(context.Background(), "n1", metav1.GetOptions{})
	if !n.Spec.Unschedulable {
		t.Fatal("node not cordoned")
	}

	client.ClearActions()
	if out, _, err := runFake(t, client, "cordon", "n1"); err != nil || out != "node/n1 already cordoned\n" {
		t.Errorf("cordon again: %q %v", out, err)
	}
	if w := writes(client.Actions()); len(w) != 0 {
		t.Errorf("cordoning a cordoned node wrote %v", w)
	}

	if out, _, err := runFake(t, client, "uncordon", "n1"); err != nil || out != "node/n1 uncordoned\n" {
		t.Fatalf("uncordon: %q %v", out, err)
	}
	n, _ = client.CoreV1alpha1().Nodes().Get(context.Background(), "n1", metav1.GetOptions{})
	if n.Spec.Unschedulable {
		t.Fatal("node still cordoned")
	}
	if out, _, _ := runFake(t, client, "uncordon", "n1"); out != "node/n1 already uncordoned\n" {
		t.Errorf("uncordon again: %q", out)
	}
}

func TestCordonDryRunAndSelector(t *testing.T) {
	client := newFake(node("a", false, map[string]string{"pool": "x"}), node("b", false, map[string]string{"pool": "x"}), node("c", false, nil))
	out, _, err := runFake(t, client, "cordon", "a", "--dry-run=client")
	if err != nil || out != "node/a cordoned (dry run)\n" {
		t.Fatalf("dry run: %q %v", out, err)
	}
	if w := writes(client.Actions()); len(w) != 0 {
		t.Fatalf("client dry run wrote %v", w)
	}
	client.ClearActions()
	if _, _, err := runFake(t, client, "cordon", "c", "--dry-run=server"); err != nil {
		t.Fatal(err)
	}
	if w := writes(client.Actions()); len(w) != 1 || len(w[0].(clienttesting.PatchActionImpl).GetPatchOptions().DryRun) != 1 {
		t.Fatalf("server dry run: want one patch with dryRun=All, got %#v", w)
	}

	out, _, err = runFake(t, client, "cordon", "-l", "pool=x")
	if err != nil || !strings.Contains(out, "node/a cordoned") || !strings.Contains(out, "node/b cordoned") || strings.Contains(out, "node/c") {
		t.Fatalf("selector: %q %v", out, err)
	}
	if _, _, err := runFake(t, client, "cordon", "a", "-l", "pool=x"); err == nil {
		t.Error("a name and a selector together should be refused")
	}
	if _, _, err := runFake(t, client, "cordon", "nope"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("a missing node: %v", err)
	}
	if _, _, err := runFake(t, client, "cordon", "a", "--dry-run=maybe"); err == nil {
		t.Error("a bad --dry-run should be refused")
	}
}

package namespacelifecycle

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	"skiff.dev/skiff/pkg/apis/core"
)

func namespace(name string, phase corev1.NamespacePhase) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.NamespaceStatus{Phase: phase}}
}

func podAttrs(op admission.Operation, ns string) admission.Attributes {
	return admission.NewAttributesRecord(&core.Pod{}, nil, core.SchemeGroupVersion.WithKind("Pod"), ns, "p",
		core.Resource("pods").WithVersion("v1alpha1"), "", op, nil, false, nil)
}

func nsAttrs(op admission.Operation, name string) admission.Attributes {
	return admission.NewAttributesRecord(&corev1.Namespace{}, nil, corev1.SchemeGroupVersion.WithKind("Namespace"), "", name,
		corev1.SchemeGroupVersion.WithResource("namespaces"), "", op, nil, false, nil)
}

func TestAdmit(t *testing.T) {
	client := fake.NewClientset(namespace("team-a", corev1.NamespaceActive), namespace("leaving", corev1.NamespaceTerminating))
	factory := informers.NewSharedInformerFactory(client, 0)
	plugin, err := New(client, factory)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	factory.Start(ctx.Done())
	factory.WaitForCacheSync(ctx.Done())

	tests := []struct {
		name     string
		attrs    admission.Attributes
		wantCode int32
		wantMsg  string
	}{
		{name: "a pod in an active namespace", attrs: podAttrs(admission.Create, "team-a")},
		{name: "a pod in a namespace that does not exist", attrs: podAttrs(admission.Create, "nowhere"),
			wantCode: 404, wantMsg: `namespaces "nowhere" not found`},
		{name: "a pod in a terminating namespace", attrs: podAttrs(admission.Create, "leaving"),
			wantCode: 403, wantMsg: "unable to create new content in namespace leaving because it is being terminated"},
		{name: "updating a pod in a terminating namespace", attrs: podAttrs(admission.Update, "leaving")},
		{name: "deleting a pod in a terminating namespace", attrs: podAttrs(admission.Delete, "leaving")},
		{name: "a node, not namespaced", attrs: admission.NewAttributesRecord(&core.Node{}, nil, core.SchemeGroupVersion.WithKind("Node"), "", "n1",
			core.Resource("nodes").WithVersion("v1alpha1"), "", admission.Create, nil, false, nil)},
		{name: "creating a namespace", attrs: nsAttrs(admission.Create, "new")},
		{name: "deleting a namespace", attrs: nsAttrs(admission.Delete, "team-a")},
		{name: "default may not be deleted", attrs: nsAttrs(admission.Delete, "default"), wantCode: 403, wantMsg: "this namespace may not be deleted"},
		{name: "skiff-system may not be deleted", attrs: nsAttrs(admission.Delete, "skiff-system"), wantCode: 403, wantMsg: "this namespace may not be deleted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := plugin.Admit(ctx, tc.attrs, admission.NewObjectInterfacesFromScheme(runtime.NewScheme()))
			if tc.wantCode == 0 {
				if err != nil {
					t.Fatalf("Admit = %v, want admitted", err)
				}
				return
			}
			var status apierrors.APIStatus
			if !errors.As(err, &status) || status.Status().Code != tc.wantCode || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("Admit = %v, want %d with %q", err, tc.wantCode, tc.wantMsg)
			}
		})
	}
}

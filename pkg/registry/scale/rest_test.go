package scale

import (
	"context"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/utils/ptr"

	"skiff.dev/skiff/pkg/apis/apps"
	"skiff.dev/skiff/pkg/apis/apps/v1alpha1"
)

// testREST is a scale endpoint over Deployments; UpdatedObject needs only
// the store's resource name, never its storage.
func testREST() *REST {
	return NewREST(&genericregistry.Store{DefaultQualifiedResource: apps.Resource("deployments")}, Accessor{
		Replicas: func(obj runtime.Object) (int32, int32, *metav1.LabelSelector, error) {
			d := obj.(*apps.Deployment)
			return *d.Spec.Replicas, d.Status.Replicas, d.Spec.Selector, nil
		},
		SetReplicas: func(obj runtime.Object, replicas int32) error {
			obj.(*apps.Deployment).Spec.Replicas = &replicas
			return nil
		},
		ReplicasPaths:       managedfields.ResourcePathMappings{v1alpha1.SchemeGroupVersion.String(): ReplicasPath},
		DefaultGroupVersion: v1alpha1.SchemeGroupVersion,
	})
}

func stored() *apps.Deployment {
	return &apps.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "uid-1", ResourceVersion: "42"},
		Spec: apps.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpIn, Values: []string{"web"}}}},
		},
		Status: apps.DeploymentStatus{Replicas: 2},
	}
}

func TestScaleOf(t *testing.T) {
	s, err := testREST().scaleOf(stored())
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "web" || s.Namespace != "default" || s.UID != "uid-1" || s.ResourceVersion != "42" {
		t.Errorf("scale metadata %+v, want the parent's", s.ObjectMeta)
	}
	if s.Spec.Replicas != 3 || s.Status.Replicas != 2 || s.Status.Selector != "app in (web)" {
		t.Errorf("scale %+v", s)
	}
}

// updateFunc is a client's update computed from the current object.
type updateFunc func(ctx context.Context, old runtime.Object) (runtime.Object, error)

func (updateFunc) Preconditions() *metav1.Preconditions { return nil }
func (f updateFunc) UpdatedObject(ctx context.Context, old runtime.Object) (runtime.Object, error) {
	return f(ctx, old)
}

func TestUpdatedObject(t *testing.T) {
	withScale := func(mutate func(*autoscalingv1.Scale)) rest.UpdatedObjectInfo {
		return updateFunc(func(_ context.Context, obj runtime.Object) (runtime.Object, error) {
			s := obj.(*autoscalingv1.Scale).DeepCopy()
			mutate(s)
			return s, nil
		})
	}
	tests := []struct {
		name     string
		old      *apps.Deployment
		info     rest.UpdatedObjectInfo
		check    func(error) bool
		replicas int32
	}{
		{name: "a new replica count", old: stored(), info: withScale(func(s *autoscalingv1.Scale) { s.Spec.Replicas = 7 }),
			check: func(err error) bool { return err == nil }, replicas: 7},
		{name: "a negative replica count", old: stored(), info: withScale(func(s *autoscalingv1.Scale) { s.Spec.Replicas = -1 }),
			check: apierrors.IsInvalid},
		{name: "a Scale of another object", old: stored(), info: withScale(func(s *autoscalingv1.Scale) { s.UID = "uid-2" }),
			check: apierrors.IsConflict},
		{name: "a parent that does not exist", old: &apps.Deployment{Spec: apps.DeploymentSpec{Replicas: ptr.To[int32](0)}},
			info: withScale(func(*autoscalingv1.Scale) {}), check: apierrors.IsNotFound},
		{name: "not a Scale", old: stored(), info: updateFunc(func(context.Context, runtime.Object) (runtime.Object, error) {
			return &apps.Deployment{}, nil
		}), check: apierrors.IsBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := testREST()
			obj, err := (&updatedObjectInfo{name: "web", reqObjInfo: tc.info, rest: r}).UpdatedObject(context.Background(), tc.old)
			if !tc.check(err) {
				t.Fatalf("unexpected error %v", err)
			}
			if err != nil {
				return
			}
			d := obj.(*apps.Deployment)
			if *d.Spec.Replicas != tc.replicas || d.ResourceVersion != "42" {
				t.Errorf("replicas %d resourceVersion %s, want %d and the Scale's 42", *d.Spec.Replicas, d.ResourceVersion, tc.replicas)
			}
			if *tc.old.Spec.Replicas != 3 {
				t.Error("the stored object was changed in place")
			}
		})
	}
}

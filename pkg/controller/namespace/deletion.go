package namespace

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/discovery"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"
)

// remainingError says content is still being deleted (pods waiting for
// their kubelet, objects held by finalizers): the namespace is looked at
// again after retryAfterSeconds.
type remainingError struct {
	retryAfterSeconds int64
	remaining         map[string]int
}

func (e *remainingError) Error() string {
	return fmt.Sprintf("content remains, checking again in %ds: %s", e.retryAfterSeconds, describeRemaining(e.remaining))
}

// describeRemaining renders "pods.core.skiff.dev has 2 resource instances"
// lines in a stable order, as upstream's namespace conditions word them.
func describeRemaining(remaining map[string]int) string {
	var parts []string
	for r, n := range remaining {
		parts = append(parts, fmt.Sprintf("%s has %d resource instances", r, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// deleter empties a terminating namespace and then removes the namespace
// controller's finalizer from it.
type deleter struct {
	namespaces typedcorev1.NamespaceInterface
	metadata   metadata.Interface
	discovery  discovery.ServerResourcesInterface
}

// delete advances the deletion of namespace name by one step: nothing if
// it is not being deleted or is already finalized; otherwise it deletes
// the namespace's content and, once none is left, finalizes it.
func (d *deleter) delete(ctx context.Context, name string) error {
	ns, err := d.namespaces.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get namespace %s: %w", name, err)
	}
	if ns.DeletionTimestamp.IsZero() || !slices.Contains(ns.Spec.Finalizers, corev1.FinalizerKubernetes) {
		return nil
	}
	if ns.Status.Phase != corev1.NamespaceTerminating {
		ns.Status.Phase = corev1.NamespaceTerminating
		if ns, err = d.namespaces.UpdateStatus(ctx, ns, metav1.UpdateOptions{}); err != nil {
			if apierrors.IsNotFound(err) {
				return nil
			}
			return fmt.Errorf("mark namespace %s terminating: %w", name, err)
		}
	}
	if err := d.deleteAllContent(ctx, ns); err != nil {
		return err
	}
	return d.finalize(ctx, name)
}

// finalize removes the kubernetes finalizer through namespaces/finalize;
// the API server then removes the namespace.
func (d *deleter) finalize(ctx context.Context, name string) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ns, err := d.namespaces.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		ns.Spec.Finalizers = slices.DeleteFunc(ns.Spec.Finalizers, func(f corev1.FinalizerName) bool { return f == corev1.FinalizerKubernetes })
		_, err = d.namespaces.Finalize(ctx, ns, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("finalize namespace %s: %w", name, err)
	}
	klog.V(2).InfoS("Namespace emptied and finalized", "namespace", name)
	return nil
}

// deleteAllContent deletes every object of every namespaced resource that
// discovery lists with the list and delete verbs, pods first: other
// objects go only once the pods are gone, as upstream does, so what a
// running pod still uses outlives it. It returns a remainingError while
// anything is left.
func (d *deleter) deleteAllContent(ctx context.Context, ns *corev1.Namespace) error {
	lists, discoveryErr := d.discovery.ServerPreferredNamespacedResources()
	if discoveryErr != nil && len(lists) == 0 {
		return fmt.Errorf("discover namespaced resources: %w", discoveryErr)
	}
	deletable := discovery.FilteredBy(discovery.SupportsAllVerbs{Verbs: []string{"list", "delete"}}, lists)
	gvrs, err := discovery.GroupVersionResources(deletable)
	if err != nil {
		return fmt.Errorf("parse discovered resources: %w", err)
	}
	var pods, others []schema.GroupVersionResource
	for gvr := range gvrs {
		if gvr.Resource == "pods" {
			pods = append(pods, gvr)
		} else {
			others = append(others, gvr)
		}
	}
	var errs []error
	remaining := map[string]int{}
	var retryAfter int64
	for _, batch := range [][]schema.GroupVersionResource{pods, others} {
		for _, gvr := range batch {
			left, grace, err := d.deleteResource(ctx, gvr, ns.Name)
			if err != nil {
				errs = append(errs, err)
			}
			if left > 0 {
				remaining[gvr.GroupResource().String()] = left
				retryAfter = max(retryAfter, grace)
			}
		}
		if len(remaining) > 0 || len(errs) > 0 {
			break
		}
	}
	if discoveryErr != nil {
		// Resources of a group that did not answer may be left: do not
		// finalize until discovery is whole again.
		errs = append(errs, fmt.Errorf("discover namespaced resources: %w", discoveryErr))
	}
	if len(errs) > 0 {
		return utilerrors.NewAggregate(errs)
	}
	if len(remaining) > 0 {
		return &remainingError{retryAfterSeconds: max(retryAfter, 1), remaining: remaining}
	}
	return nil
}

// deleteResource deletes the objects of gvr in namespace one by one and
// reports how many are left, and the longest grace period among those on
// their way out. Objects are listed and deleted one at a time (not with
// deletecollection), so pods go through their graceful deletion.
func (d *deleter) deleteResource(ctx context.Context, gvr schema.GroupVersionResource, namespace string) (int, int64, error) {
	client := d.metadata.Resource(gvr).Namespace(namespace)
	list, err := client.List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("list %s in %s: %w", gvr.GroupResource(), namespace, err)
	}
	var errs []error
	background := metav1.DeletePropagationBackground
	for _, item := range list.Items {
		if item.DeletionTimestamp != nil {
			continue
		}
		uid := item.UID
		err := client.Delete(ctx, item.Name, metav1.DeleteOptions{
			PropagationPolicy: &background,
			Preconditions:     &metav1.Preconditions{UID: &uid},
		})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			errs = append(errs, fmt.Errorf("delete %s %s/%s: %w", gvr.GroupResource(), namespace, item.Name, err))
		}
	}
	list, err = client.List(ctx, metav1.ListOptions{})
	if err != nil {
		errs = append(errs, fmt.Errorf("list %s in %s: %w", gvr.GroupResource(), namespace, err))
		return 0, 0, utilerrors.NewAggregate(errs)
	}
	var grace int64
	for _, item := range list.Items {
		if s := item.DeletionGracePeriodSeconds; s != nil {
			grace = max(grace, *s)
		}
	}
	if len(list.Items) > 0 {
		klog.V(4).InfoS("Namespace content remains", "namespace", namespace, "resource", gvr.GroupResource(), "count", len(list.Items))
	}
	return len(list.Items), grace, utilerrors.NewAggregate(errs)
}

package kubectlplugin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

// kubectl's words for the pods drain refuses or warns about.
const (
	daemonSetFatal   = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
	daemonSetWarning = "ignoring DaemonSet-managed Pods"
	unmanagedFatal   = "Pods that declare no controller (use --force to override)"
	unmanagedWarning = "deleting Pods that declare no controller"
)

type drainOptions struct {
	force              bool
	gracePeriod        int
	timeout            time.Duration
	ignoreDaemonSets   bool
	deleteEmptyDirData bool
	disableEviction    bool
	podSelector        string
	selector           string
	dryRun             dryRun
}

func newDrainCommand(f Factory, streams genericiooptions.IOStreams) *cobra.Command {
	o := &drainOptions{gracePeriod: -1}
	cmd := &cobra.Command{
		Use:   "drain NODE",
		Short: "Drain a node in preparation for maintenance",
		Long: `Cordon the node, then delete its pods gracefully, each with its own
termination grace period unless --grace-period is given, and wait for them to
be gone. skiff has no eviction API, so pods are deleted, as kubectl's
--disable-eviction does; "evicting" in the output means that deletion.

Pods that declare no controller are refused unless --force is given: nothing
recreates them. Pods that have finished are deleted whatever their owner.`,
		Example: `  # Drain node "n1", also deleting pods no controller recreates
  kubectl skiff drain n1 --force

  # Drain node "n1", waiting at most 2 minutes, giving each pod 5 seconds to stop
  kubectl skiff drain n1 --timeout=2m --grace-period=5`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			return runDrain(ctx, f, o, streams, args)
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&o.force, "force", o.force, "Continue even if there are pods that do not declare a controller.")
	fs.IntVar(&o.gracePeriod, "grace-period", o.gracePeriod, "Period of time in seconds given to each pod to terminate gracefully. If negative, the default value specified in the pod will be used.")
	fs.DurationVar(&o.timeout, "timeout", o.timeout, "The length of time to wait before giving up, zero means infinite")
	fs.BoolVar(&o.ignoreDaemonSets, "ignore-daemonsets", o.ignoreDaemonSets, "Ignore DaemonSet-managed pods.")
	fs.BoolVar(&o.deleteEmptyDirData, "delete-emptydir-data", o.deleteEmptyDirData, "Continue even if there are pods using emptyDir (skiff pods have no volumes, so there are none).")
	fs.BoolVar(&o.disableEviction, "disable-eviction", o.disableEviction, "Delete pods instead of evicting them (skiff always deletes: it has no eviction API).")
	fs.StringVar(&o.podSelector, "pod-selector", o.podSelector, "Label selector to filter pods on the node")
	fs.StringVarP(&o.selector, "selector", "l", o.selector, "Selector (label query) to filter on")
	addDryRunFlag(cmd, &o.dryRun)
	return cmd
}

func runDrain(ctx context.Context, f Factory, o *drainOptions, streams genericiooptions.IOStreams, args []string) error {
	if err := o.dryRun.validate(); err != nil {
		return err
	}
	if _, err := labels.Parse(o.podSelector); err != nil {
		return errors.New("--pod-selector=<pod_selector> must be a valid label selector")
	}
	client, err := f.Client()
	if err != nil {
		return err
	}
	nodes, err := selectNodes(ctx, client, args, o.selector)
	if err != nil {
		return err
	}
	var fatal []error
	var pending []string
	for _, node := range nodes {
		err := setUnschedulable(ctx, client, streams, node, true, o.dryRun)
		if err == nil {
			err = o.deletePods(ctx, client, streams, node.Name)
		}
		if err != nil {
			fmt.Fprintf(streams.ErrOut, "error: unable to drain node %q due to error: %s, continuing command...\n", node.Name, err)
			fatal = append(fatal, err)
			pending = append(pending, node.Name)
			continue
		}
		fmt.Fprintf(streams.Out, "node/%s drained%s\n", node.Name, o.dryRun.suffix())
	}
	if len(pending) > 0 {
		fmt.Fprintf(streams.ErrOut, "There are pending nodes to be drained:\n")
		for _, name := range pending {
			fmt.Fprintf(streams.ErrOut, " %s\n", name)
		}
	}
	return errors.Join(fatal...)
}

// deletePods deletes the node's pods that may go, or deletes nothing and
// says which pods stop the drain.
func (o *drainOptions) deletePods(ctx context.Context, client clientset.Interface, streams genericiooptions.IOStreams, nodeName string) error {
	list, err := client.CoreV1alpha1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", nodeName).String(),
		LabelSelector: o.podSelector,
	})
	if err != nil {
		return fmt.Errorf("list the pods of node %s: %w", nodeName, err)
	}
	var doomed []v1alpha1.Pod
	refused := map[string][]string{}
	warned := map[string][]string{}
	for _, pod := range list.Items {
		// The field selector is the server's filter; this one keeps the
		// answer honest whatever the server ignored.
		if pod.Spec.NodeName != nodeName {
			continue
		}
		deleteIt, fatalMsg, warning := o.filter(&pod)
		ref := pod.Namespace + "/" + pod.Name
		if fatalMsg != "" {
			refused[fatalMsg] = append(refused[fatalMsg], ref)
			continue
		}
		if warning != "" {
			warned[warning] = append(warned[warning], ref)
		}
		if deleteIt {
			doomed = append(doomed, pod)
		}
	}
	if len(refused) > 0 {
		var errs []string
		for _, msg := range sortedKeys(refused) {
			errs = append(errs, fmt.Sprintf("cannot delete %s: %s", msg, strings.Join(refused[msg], ", ")))
		}
		return errors.New(strings.Join(errs, ", "))
	}
	if len(warned) > 0 {
		var msgs []string
		for _, msg := range sortedKeys(warned) {
			msgs = append(msgs, fmt.Sprintf("%s: %s", msg, strings.Join(warned[msg], ", ")))
		}
		fmt.Fprintf(streams.ErrOut, "Warning: %s\n", strings.Join(msgs, "; "))
	}

	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	opts := metav1.DeleteOptions{DryRun: o.dryRun.options()}
	if o.gracePeriod >= 0 {
		grace := int64(o.gracePeriod)
		opts.GracePeriodSeconds = &grace
	}
	for i := range doomed {
		pod := &doomed[i]
		fmt.Fprintf(streams.Out, "evicting pod %s/%s%s\n", pod.Namespace, pod.Name, o.dryRun.suffix())
		if o.dryRun == dryRunClient {
			continue
		}
		// Preconditioned on the UID, so a pod recreated under the same
		// name is not deleted in its predecessor's stead.
		opts.Preconditions = metav1.NewUIDPreconditions(string(pod.UID))
		err := client.CoreV1alpha1().Pods(pod.Namespace).Delete(ctx, pod.Name, opts)
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("error when evicting pods/%q -n %q: %w", pod.Name, pod.Namespace, err)
		}
	}
	if o.dryRun != dryRunNone {
		return nil
	}
	return o.waitGone(ctx, client, streams, doomed)
}

// waitGone waits until each pod is gone (or replaced by one of another UID)
// and says so, as kubectl does, until --timeout.
func (o *drainOptions) waitGone(ctx context.Context, client clientset.Interface, streams genericiooptions.IOStreams, pods []v1alpha1.Pod) error {
	for i := range pods {
		pod := &pods[i]
		err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
			got, err := client.CoreV1alpha1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) || (err == nil && got.UID != pod.UID) {
				return true, nil
			}
			return false, err
		})
		if err != nil {
			if ctx.Err() != nil && o.timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("error when waiting for pod %q in namespace %q to terminate: global timeout reached: %v", pod.Name, pod.Namespace, o.timeout)
			}
			return fmt.Errorf("error when waiting for pod %q in namespace %q to terminate: %w", pod.Name, pod.Namespace, err)
		}
		fmt.Fprintf(streams.Out, "pod/%s evicted\n", pod.Name)
	}
	return nil
}

// filter is kubectl drain's verdict on one pod: delete it or not, a reason
// that stops the drain, or a warning.
func (o *drainOptions) filter(pod *v1alpha1.Pod) (deleteIt bool, fatal, warning string) {
	// A pod already on its way out needs no push.
	if pod.DeletionTimestamp != nil {
		return false, "", ""
	}
	finished := pod.Status.Phase == v1alpha1.PodSucceeded || pod.Status.Phase == v1alpha1.PodFailed
	controller := metav1.GetControllerOf(pod)
	if controller != nil && controller.Kind == "DaemonSet" && !finished {
		// Its controller ignores the node's unschedulable mark and would
		// put it back at once.
		if !o.ignoreDaemonSets {
			return false, daemonSetFatal, ""
		}
		return false, "", daemonSetWarning
	}
	if controller == nil && !finished {
		if !o.force {
			return false, unmanagedFatal, ""
		}
		return true, "", unmanagedWarning
	}
	return true, "", ""
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

package kubectlplugin

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

type cordonOptions struct {
	selector string
	dryRun   dryRun
}

// newCordonCommand is `cordon` (desired true) or `uncordon`.
func newCordonCommand(f Factory, streams genericiooptions.IOStreams, desired bool) *cobra.Command {
	o := &cordonOptions{}
	use, short, example := "cordon NODE", "Mark a node as unschedulable", `  # Mark node "n1" as unschedulable
  kubectl skiff cordon n1`
	if !desired {
		use, short, example = "uncordon NODE", "Mark a node as schedulable", `  # Mark node "n1" as schedulable
  kubectl skiff uncordon n1`
	}
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.dryRun.validate(); err != nil {
				return err
			}
			client, err := f.Client()
			if err != nil {
				return err
			}
			nodes, err := selectNodes(cmd.Context(), client, args, o.selector)
			if err != nil {
				return err
			}
			for _, n := range nodes {
				if err := setUnschedulable(cmd.Context(), client, streams, n, desired, o.dryRun); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&o.selector, "selector", "l", "", "Selector (label query) to filter on")
	addDryRunFlag(cmd, &o.dryRun)
	return cmd
}

// selectNodes returns the named node, or the nodes matching selector, as
// kubectl takes either but not both.
func selectNodes(ctx context.Context, client clientset.Interface, args []string, selector string) ([]*v1alpha1.Node, error) {
	switch {
	case len(args) > 0 && selector != "":
		return nil, fmt.Errorf("cannot specify both a node name and a --selector option")
	case len(args) == 0 && selector == "":
		return nil, fmt.Errorf("resource(s) were provided, but no name was specified")
	case len(args) > 1:
		return nil, fmt.Errorf("expected one node name, got %d", len(args))
	case len(args) == 1:
		node, err := client.CoreV1alpha1().Nodes().Get(ctx, args[0], metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		return []*v1alpha1.Node{node}, nil
	}
	list, err := client.CoreV1alpha1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		return nil, err
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("no nodes found matching %q", selector)
	}
	nodes := make([]*v1alpha1.Node, len(list.Items))
	for i := range list.Items {
		nodes[i] = &list.Items[i]
	}
	return nodes, nil
}

// setUnschedulable sets spec.unschedulable by a strategic merge patch of
// that field alone, as kubectl's cordon helper does, so it neither needs
// nor overwrites the rest of the node (which the kubelet keeps writing).
func setUnschedulable(ctx context.Context, client clientset.Interface, streams genericiooptions.IOStreams, node *v1alpha1.Node, desired bool, dry dryRun) error {
	verb := "cordoned"
	if !desired {
		verb = "uncordoned"
	}
	if node.Spec.Unschedulable == desired {
		fmt.Fprintf(streams.Out, "node/%s already %s%s\n", node.Name, verb, dry.suffix())
		return nil
	}
	if dry != dryRunClient {
		oldData, err := json.Marshal(node)
		if err != nil {
			return err
		}
		changed := node.DeepCopy()
		changed.Spec.Unschedulable = desired
		newData, err := json.Marshal(changed)
		if err != nil {
			return err
		}
		patch, err := strategicpatch.CreateTwoWayMergePatch(oldData, newData, &v1alpha1.Node{})
		if err != nil {
			return fmt.Errorf("make the patch of node %s: %w", node.Name, err)
		}
		if _, err := client.CoreV1alpha1().Nodes().Patch(ctx, node.Name, types.StrategicMergePatchType, patch,
			metav1.PatchOptions{DryRun: dry.options()}); err != nil {
			return fmt.Errorf("unable to %s node %q: %w", verb[:len(verb)-2], node.Name, err)
		}
	}
	fmt.Fprintf(streams.Out, "node/%s %s%s\n", node.Name, verb, dry.suffix())
	return nil
}

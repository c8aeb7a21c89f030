package kubectlplugin

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/yaml"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	dutil "skiff.dev/skiff/pkg/controller/deployment/util"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

// deploymentKind is how kubectl names the resource in its messages
// (kubectl's "deployment.apps/web").
const deploymentKind = "deployment.apps.skiff.dev"

// changeCauseAnnotation is kubectl's record of why a revision was made.
const changeCauseAnnotation = "kubernetes.io/change-cause"

// newRolloutCommand is `kubectl skiff rollout`, kubectl rollout for
// apps.skiff.dev Deployments: kubectl's own knows only apps/v1.
func newRolloutCommand(f Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout SUBCOMMAND",
		Short: "Manage the rollout of an apps.skiff.dev Deployment",
		Example: `  kubectl skiff rollout status deployment/web
  kubectl skiff rollout undo sdeploy/web --to-revision 2`,
	}
	type sub struct {
		use, short string
		flags      func(*cobra.Command, *rolloutOptions)
		run        func(context.Context, clientset.Interface, string, string, *rolloutOptions, genericiooptions.IOStreams) error
	}
	subs := []sub{
		{"status", "Show the status of the rollout, waiting for it to finish", func(c *cobra.Command, o *rolloutOptions) {
			c.Flags().BoolVarP(&o.watch, "watch", "w", true, "Watch the status of the rollout until it's done.")
			c.Flags().Int64Var(&o.revision, "revision", 0, "Pin to a specific revision for showing its status. Defaults to 0 (last revision).")
			c.Flags().DurationVar(&o.timeout, "timeout", 0, "The length of time to wait before ending watch, zero means never. Any other values should contain a corresponding time unit (e.g. 1s, 2m, 3h).")
		}, rolloutStatus},
		{"history", "View rollout history", func(c *cobra.Command, o *rolloutOptions) {
			c.Flags().Int64Var(&o.revision, "revision", 0, "See the details, including podTemplate of the revision specified")
		}, rolloutHistory},
		{"undo", "Undo a previous rollout", func(c *cobra.Command, o *rolloutOptions) {
			c.Flags().Int64Var(&o.toRevision, "to-revision", 0, "The revision to rollback to. Default to 0 (last revision).")
		}, rolloutUndo},
		{"restart", "Restart a resource", nil, rolloutRestart},
		{"pause", "Mark the provided resource as paused", nil, rolloutPause},
		{"resume", "Resume a paused resource", nil, rolloutResume},
	}
	for _, s := range subs {
		o := &rolloutOptions{}
		c := &cobra.Command{
			Use:   s.use + " (TYPE NAME | TYPE/NAME)",
			Short: s.short,
			Args:  cobra.RangeArgs(1, 2),
			RunE: func(cmd *cobra.Command, args []string) error {
				name, err := deploymentName(args)
				if err != nil {
					return err
				}
				client, err := f.Client()
				if err != nil {
					return err
				}
				ns, err := f.Namespace()
				if err != nil {
					return err
				}
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
				defer stop()
				return s.run(ctx, client, ns, name, o, streams)
			},
		}
		if s.flags != nil {
			s.flags(c, o)
		}
		cmd.AddCommand(c)
	}
	return cmd
}

type rolloutOptions struct {
	watch      bool
	revision   int64
	toRevision int64
	timeout    time.Duration
}

// deploymentName accepts TYPE/NAME or TYPE NAME, TYPE being any name of
// apps.skiff.dev Deployments.
func deploymentName(args []string) (string, error) {
	var kind, name string
	if len(args) == 2 {
		kind, name = args[0], args[1]
	} else {
		var ok bool
		if kind, name, ok = strings.Cut(args[0], "/"); !ok {
			return "", fmt.Errorf("you must specify the type of resource and its name, as deployment/NAME")
		}
	}
	switch strings.ToLower(kind) {
	case "deployment", "deployments", "deploy", "sdeploy",
		"deployment.apps.skiff.dev", "deployments.apps.skiff.dev", "deployments.v1alpha1.apps.skiff.dev":
	default:
		return "", fmt.Errorf("no rollout for %q: kubectl skiff rollout works on apps.skiff.dev Deployments (deployment/NAME, sdeploy/NAME)", kind)
	}
	if name == "" {
		return "", fmt.Errorf("no name in %q", strings.Join(args, " "))
	}
	return name, nil
}

// statusMessage is kubectl's status viewer for Deployments: a message,
// whether the rollout is done, and an error once it cannot finish.
func statusMessage(d *appsv1alpha1.Deployment, revision int64) (string, bool, error) {
	if revision > 0 {
		cur, err := dutil.Revision(d)
		if err != nil {
			return "", false, fmt.Errorf("cannot get the revision of deployment %q: %w", d.Name, err)
		}
		if revision != cur {
			return "", false, fmt.Errorf("desired revision (%d) is different from the running revision (%d)", revision, cur)
		}
	}
	if d.Generation > d.Status.ObservedGeneration {
		return "Waiting for deployment spec update to be observed...\n", false, nil
	}
	if c := dutil.GetCondition(d.Status, appsv1alpha1.DeploymentProgressing); c != nil && c.Reason == dutil.TimedOutReason {
		return "", false, fmt.Errorf("deployment %q exceeded its progress deadline", d.Name)
	}
	s := d.Status
	switch replicas := dutil.Replicas(d); {
	case s.UpdatedReplicas < replicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d out of %d new replicas have been updated...\n", d.Name, s.UpdatedReplicas, replicas), false, nil
	case s.Replicas > s.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...\n", d.Name, s.Replicas-s.UpdatedReplicas), false, nil
	case s.AvailableReplicas < s.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...\n", d.Name, s.AvailableReplicas, s.UpdatedReplicas), false, nil
	}
	return fmt.Sprintf("deployment %q successfully rolled out\n", d.Name), true, nil
}

// statusPollInterval is how often rollout status looks again.
var statusPollInterval = 500 * time.Millisecond

func rolloutStatus(ctx context.Context, c clientset.Interface, ns, name string, o *rolloutOptions, streams genericiooptions.IOStreams) error {
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	last := ""
	var final error
	err := wait.PollUntilContextCancel(ctx, statusPollInterval, true, func(ctx context.Context) (bool, error) {
		d, err := c.AppsV1alpha1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) {
				final = err
				return true, nil
			}
			if ctx.Err() != nil {
				return false, nil
			}
			final = err
			return true, nil
		}
		msg, done, err := statusMessage(d, o.revision)
		if err != nil {
			final = err
			return true, nil
		}
		if msg != last {
			fmt.Fprint(streams.Out, msg)
			last = msg
		}
		return done || !o.watch, nil
	})
	if final != nil {
		return final
	}
	if err != nil {
		return fmt.Errorf("timed out waiting for the condition")
	}
	return nil
}

// ownedReplicaSets returns the ReplicaSets d controls.
func ownedReplicaSets(ctx context.Context, c clientset.Interface, d *appsv1alpha1.Deployment) ([]*appsv1alpha1.ReplicaSet, error) {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("deployment %q: %w", d.Name, err)
	}
	list, err := c.AppsV1alpha1().ReplicaSets(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("list replica sets of deployment %q: %w", d.Name, err)
	}
	var out []*appsv1alpha1.ReplicaSet
	for i := range list.Items {
		if metav1.IsControlledBy(&list.Items[i], d) {
			out = append(out, &list.Items[i])
		}
	}
	return out, nil
}

// revisions maps each revision to its ReplicaSet.
func revisions(rss []*appsv1alpha1.ReplicaSet) (map[int64]*appsv1alpha1.ReplicaSet, []int64) {
	byRev := map[int64]*appsv1alpha1.ReplicaSet{}
	var revs []int64
	for _, rs := range rss {
		v, err := dutil.Revision(rs)
		if err != nil || v == 0 {
			continue
		}
		if _, ok := byRev[v]; !ok {
			revs = append(revs, v)
		}
		byRev[v] = rs
	}
	sort.Slice(revs, func(i, j int) bool { return revs[i] < revs[j] })
	return byRev, revs
}

func rolloutHistory(ctx context.Context, c clientset.Interface, ns, name string, o *rolloutOptions, streams genericiooptions.IOStreams) error {
	d, err := c.AppsV1alpha1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	rss, err := ownedReplicaSets(ctx, c, d)
	if err != nil {
		return err
	}
	byRev, revs := revisions(rss)
	if len(revs) == 0 {
		fmt.Fprintf(streams.Out, "%s/%s \nNo rollout history found.\n", deploymentKind, name)
		return nil
	}
	if o.revision > 0 {
		rs, ok := byRev[o.revision]
		if !ok {
			return fmt.Errorf("unable to find the specified revision")
		}
		template := rs.Spec.Template.DeepCopy()
		delete(template.Labels, dutil.DefaultDeploymentUniqueLabelKey)
		b, err := yaml.Marshal(template)
		if err != nil {
			return fmt.Errorf("print the template of revision %d: %w", o.revision, err)
		}
		fmt.Fprintf(streams.Out, "%s/%s with revision #%d\nPod Template:\n", deploymentKind, name, o.revision)
		for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			fmt.Fprintf(streams.Out, "  %s\n", line)
		}
		return nil
	}
	fmt.Fprintf(streams.Out, "%s/%s \n", deploymentKind, name)
	tw := tabwriter.NewWriter(streams.Out, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "REVISION\tCHANGE-CAUSE\n")
	for _, r := range revs {
		cause := byRev[r].Annotations[changeCauseAnnotation]
		if cause == "" {
			cause = "<none>"
		}
		fmt.Fprintf(tw, "%d\t%s\n", r, cause)
	}
	fmt.Fprintln(tw)
	return tw.Flush()
}

// rolloutUndo copies an earlier revision's pod template (and the
// annotations it was made with) into the Deployment, as kubectl does since
// the rollback subresource went away; the controller then rolls to it as
// to any new template, reusing the old ReplicaSet.
func rolloutUndo(ctx context.Context, c clientset.Interface, ns, name string, o *rolloutOptions, streams genericiooptions.IOStreams) error {
	d, err := c.AppsV1alpha1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if d.Spec.Paused {
		return fmt.Errorf("you cannot rollback a paused deployment; resume it first with 'kubectl skiff rollout resume' and try again")
	}
	rss, err := ownedReplicaSets(ctx, c, d)
	if err != nil {
		return err
	}
	byRev, revs := revisions(rss)
	var toRevision int64
	if o.toRevision == 0 {
		// The previous revision: the highest below the current one.
		if len(revs) < 2 {
			return fmt.Errorf("no rollout history found for deployment %q", name)
		}
		toRevision = revs[len(revs)-2]
	} else {
		toRevision = o.toRevision
	}
	target, ok := byRev[toRevision]
	if !ok {
		return fmt.Errorf("unable to find specified revision %v in history", toRevision)
	}
	if dutil.EqualIgnoreHash(&target.Spec.Template, &d.Spec.Template) {
		fmt.Fprintf(streams.Out, "%s/%s skipped rollback (current template already matches revision %d)\n", deploymentKind, name, toRevision)
		return nil
	}
	template := target.Spec.Template.DeepCopy()
	delete(template.Labels, dutil.DefaultDeploymentUniqueLabelKey)
	annotated := d.DeepCopy()
	dutil.SetDeploymentAnnotationsTo(annotated, target)
	// A JSON patch with the resourceVersion as a test: the rollback fails
	// rather than overwrite a change made since it read the Deployment.
	patch, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/resourceVersion", "value": d.ResourceVersion},
		{"op": "replace", "path": "/spec/template", "value": template},
		{"op": "replace", "path": "/metadata/annotations", "value": annotated.Annotations},
	})
	if err != nil {
		return fmt.Errorf("encode rollback: %w", err)
	}
	if _, err := c.AppsV1alpha1().Deployments(ns).Patch(ctx, name, types.JSONPatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("failed restoring revision %d: %w", toRevision, err)
	}
	fmt.Fprintf(streams.Out, "%s/%s rolled back\n", deploymentKind, name)
	return nil
}

// rolloutRestart changes the pod template by an annotation, so the
// Deployment rolls every pod.
func rolloutRestart(ctx context.Context, c clientset.Interface, ns, name string, _ *rolloutOptions, streams genericiooptions.IOStreams) error {
	d, err := c.AppsV1alpha1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if d.Spec.Paused {
		return fmt.Errorf("can't restart paused deployment (run rollout resume first)")
	}
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{dutil.RestartedAtAnnotation: time.Now().Format(time.RFC3339)},
	}}}})
	if err != nil {
		return fmt.Errorf("encode restart: %w", err)
	}
	if _, err := c.AppsV1alpha1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("restart deployment %q: %w", name, err)
	}
	fmt.Fprintf(streams.Out, "%s/%s restarted\n", deploymentKind, name)
	return nil
}

func rolloutPause(ctx context.Context, c clientset.Interface, ns, name string, _ *rolloutOptions, streams genericiooptions.IOStreams) error {
	return setPaused(ctx, c, ns, name, true, streams)
}

func rolloutResume(ctx context.Context, c clientset.Interface, ns, name string, _ *rolloutOptions, streams genericiooptions.IOStreams) error {
	return setPaused(ctx, c, ns, name, false, streams)
}

func setPaused(ctx context.Context, c clientset.Interface, ns, name string, paused bool, streams genericiooptions.IOStreams) error {
	word := map[bool]string{true: "paused", false: "resumed"}[paused]
	d, err := c.AppsV1alpha1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if d.Spec.Paused == paused {
		fmt.Fprintf(streams.Out, "%s/%s already %s\n", deploymentKind, name, word)
		return nil
	}
	patch := []byte(fmt.Sprintf(`{"spec":{"paused":%t}}`, paused))
	if _, err := c.AppsV1alpha1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("%s deployment %q: %w", strings.TrimSuffix(word, "d"), name, err)
	}
	fmt.Fprintf(streams.Out, "%s/%s %s\n", deploymentKind, name, word)
	return nil
}

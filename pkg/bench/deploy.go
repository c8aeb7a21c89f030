package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	appsv1alpha1 "skiff.dev/skiff/pkg/apis/apps/v1alpha1"
	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/bench/progress"
	"skiff.dev/skiff/pkg/bench/report"
	dutil "skiff.dev/skiff/pkg/controller/deployment/util"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
)

// DeployOptions configures the deploy scenario.
type DeployOptions struct {
	// Replicas of the Deployment.
	Replicas int32
	// MaxSurge and MaxUnavailable of its rolling update, int or percent.
	MaxSurge, MaxUnavailable string
	// NodeSelector limits the pods to matching nodes.
	NodeSelector map[string]string
	// Image and Command are the container's.
	Image   string
	Command []string
}

// deploymentName is the Deployment the scenario creates.
const deploymentName = "bench-deploy"

// Deploy measures the controller manager with the scheduler and kubelets
// (real or simulated) of a cluster: it creates a Deployment of R replicas,
// waits until all are available, then changes its template and waits for
// the rolling update to finish. Figures: time to all available, time for
// the full rolling update, and the API server's peak writes per second
// (from apiserver_request_total) during each.
func Deploy(ctx context.Context, e Env, o DeployOptions) (*report.Result, error) {
	if o.Replicas <= 0 {
		return nil, fmt.Errorf("deploy needs --replicas above 0, got %d", o.Replicas)
	}
	surge, unavailable := intstr.Parse(o.MaxSurge), intstr.Parse(o.MaxUnavailable)
	if _, _, err := dutil.ResolveFenceposts(&surge, &unavailable, o.Replicas); err != nil {
		return nil, fmt.Errorf("--max-surge/--max-unavailable: %w", err)
	}
	const scenario = "deploy"
	ns := e.namespace(scenario)
	r := report.New(scenario)
	r.Parameters["replicas"] = o.Replicas
	r.Parameters["max-surge"] = o.MaxSurge
	r.Parameters["max-unavailable"] = o.MaxUnavailable
	r.Parameters["namespace"] = ns
	if len(o.NodeSelector) > 0 {
		r.Parameters["node-selector"] = labels.SelectorFromSet(o.NodeSelector).String()
	}
	ready, err := readyNodes(ctx, e, o.NodeSelector)
	if err != nil {
		return r, err
	}
	if ready == 0 {
		return r, fmt.Errorf("no Ready node matches the node selector %q: deploy needs kubelets (skiff-kubelet, or --runtime fake --simulate-nodes N)",
			labels.SelectorFromSet(o.NodeSelector).String())
	}
	r.Add("ready nodes", float64(ready), report.Count)

	deployments := e.Client.AppsV1alpha1().Deployments(ns)
	defer func() { r.Notes = append(r.Notes, cleanupDeployment(ctx, e, ns, deploymentName, scenario, true)...) }()

	writes := startWriteSampler(ctx, e.Client, time.Second)
	start := time.Now()
	if _, err := deployments.Create(ctx, o.deployment(ns, &surge, &unavailable), metav1.CreateOptions{}); err != nil {
		writes.stop()
		return r, fmt.Errorf("create deployment %s/%s: %w", ns, deploymentName, err)
	}
	err = waitRolledOut(ctx, e, deployments, o.Replicas, "replicas available")
	r.Add("time to all available", time.Since(start).Seconds(), report.Seconds)
	r.Add("peak API writes/s while creating", writes.stop(), "writes/s")
	if err != nil {
		return r, err
	}

	// A template change rolls every pod, as kubectl rollout restart does.
	writes = startWriteSampler(ctx, e.Client, time.Second)
	start = time.Now()
	patch, _ := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": map[string]any{
		"annotations": map[string]string{dutil.RestartedAtAnnotation: start.Format(time.RFC3339Nano)}}}}})
	if _, err := deployments.Patch(ctx, deploymentName, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
		writes.stop()
		return r, fmt.Errorf("change the template of %s/%s: %w", ns, deploymentName, err)
	}
	err = waitRolledOut(ctx, e, deployments, o.Replicas, "replicas updated and available")
	r.Add("full rolling update", time.Since(start).Seconds(), report.Seconds)
	r.Add("peak API writes/s during the update", writes.stop(), "writes/s")
	if writes.err != nil {
		r.Notef("API writes not measured: %v", writes.err)
	}
	if err := interrupted(ctx); err != nil {
		return r, err
	}
	return r, err
}

func (o DeployOptions) deployment(ns string, surge, unavailable *intstr.IntOrString) *appsv1alpha1.Deployment {
	lbls := map[string]string{LabelScenario: "deploy"}
	grace := int64(1)
	c := v1alpha1.Container{Name: "bench", Image: "busybox:1.36", Command: o.Command,
		Resources: v1alpha1.ResourceRequirements{Requests: v1alpha1.ResourceList{
			v1alpha1.ResourceCPU:    resource.MustParse("10m"),
			v1alpha1.ResourceMemory: resource.MustParse("16Mi"),
		}}}
	if o.Image != "" {
		c.Image = o.Image
	}
	replicas := o.Replicas
	return &appsv1alpha1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: deploymentName},
		Spec: appsv1alpha1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: lbls},
			Template: v1alpha1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: lbls},
				Spec: v1alpha1.PodSpec{
					Containers:                    []v1alpha1.Container{c},
					NodeSelector:                  o.NodeSelector,
					TerminationGracePeriodSeconds: &grace,
					RestartPolicy:                 v1alpha1.RestartPolicyAlways,
				},
			},
			Strategy: appsv1alpha1.DeploymentStrategy{Type: appsv1alpha1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1alpha1.RollingUpdateDeployment{MaxSurge: surge, MaxUnavailable: unavailable}},
		},
	}
}

// waitRolledOut polls the Deployment until its current generation is
// rolled out: every replica updated and available, and no old one left.
func waitRolledOut(ctx context.Context, e Env, deployments interface {
	Get(context.Context, string, metav1.GetOptions) (*appsv1alpha1.Deployment, error)
}, replicas int32, what string) error {
	bar := progress.Start(e.Progress, what, int(replicas))
	defer bar.Finish()
	shown := 0
	var last *appsv1alpha1.Deployment
	err := waitFor(ctx, e.timeout(), func() bool {
		d, err := deployments.Get(ctx, deploymentName, metav1.GetOptions{})
		if err != nil {
			return false
		}
		last = d
		if d.Status.ObservedGeneration < d.Generation {
			// The status still describes the previous template.
			return false
		}
		n := int(min(d.Status.AvailableReplicas, d.Status.UpdatedReplicas))
		if n > shown {
			bar.Add(n - shown)
			shown = n
		}
		return dutil.DeploymentComplete(d, &d.Status)
	})
	if err != nil {
		if last != nil {
			return fmt.Errorf("deployment %s not rolled out within %v (status %+v): %w", deploymentName, e.timeout(), last.Status, err)
		}
		return err
	}
	return nil
}

// cleanupDeployment deletes the Deployment name, its ReplicaSets (those
// labelled with scenario) and the pods in ns (through the garbage
// collector, then directly for what is left; graceful as deletePods).
func cleanupDeployment(ctx context.Context, e Env, ns, name, scenario string, graceful bool) []string {
	if e.Keep {
		return []string{fmt.Sprintf("kept deployment %s/%s (--keep)", ns, name)}
	}
	ctx, cancel := cleanupContext(ctx)
	defer cancel()
	var notes []string
	background := metav1.DeletePropagationBackground
	err := e.Client.AppsV1alpha1().Deployments(ns).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &background})
	if err != nil && !apierrors.IsNotFound(err) {
		notes = append(notes, fmt.Sprintf("cleanup: delete deployment: %v", err))
	}
	// The garbage collector may be slower than this cleanup: delete the
	// ReplicaSets too, or they would recreate the pods deleted below.
	if err := e.Client.AppsV1alpha1().ReplicaSets(ns).DeleteCollection(ctx, metav1.DeleteOptions{PropagationPolicy: &background},
		metav1.ListOptions{LabelSelector: LabelScenario + "=" + scenario}); err != nil && !apierrors.IsNotFound(err) {
		notes = append(notes, fmt.Sprintf("cleanup: delete replica sets: %v", err))
	}
	return append(notes, cleanupNamespace(ctx, e, ns, graceful)...)
}

// writeSampler reads the API server's apiserver_request_total every
// interval and keeps the highest rate of writes (POST, PUT, PATCH, DELETE,
// DELETECOLLECTION) between two reads.
type writeSampler struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	peak   float64
	err    error
}

func startWriteSampler(ctx context.Context, client clientset.Interface, interval time.Duration) *writeSampler {
	ctx, cancel := context.WithCancel(ctx)
	s := &writeSampler{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		prev, prevAt, err := apiWrites(ctx, client)
		if err != nil {
			s.err = err
			return
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			cur, at, err := apiWrites(ctx, client)
			if err != nil {
				continue
			}
			rate := (cur - prev) / at.Sub(prevAt).Seconds()
			s.mu.Lock()
			s.peak = max(s.peak, rate)
			s.mu.Unlock()
			prev, prevAt = cur, at
		}
	}()
	return s
}

// stop ends the sampling and returns the peak.
func (s *writeSampler) stop() float64 {
	s.cancel()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peak
}

var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "DELETE": true, "DELETECOLLECTION": true, "APPLY": true}

// apiWrites sums apiserver_request_total over the write verbs.
func apiWrites(ctx context.Context, client clientset.Interface) (float64, time.Time, error) {
	body, err := client.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	at := time.Now()
	if err != nil {
		return 0, at, fmt.Errorf("get /metrics: %w", err)
	}
	total, err := sumWrites(body)
	return total, at, err
}

func sumWrites(text []byte) (float64, error) {
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var total float64
	found := false
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		i := strings.Index(line, `verb="`)
		end := strings.LastIndex(line, "}")
		if i < 0 || end < 0 {
			continue
		}
		verb := line[i+len(`verb="`):]
		verb = verb[:strings.Index(verb, `"`)]
		found = true
		if !writeVerbs[verb] {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			return 0, fmt.Errorf("parse %q: %w", line, err)
		}
		total += v
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	if !found {
		return 0, fmt.Errorf("no apiserver_request_total in the metrics")
	}
	return total, nil
}

// Package scheduler is skiff-scheduler: it watches pods and nodes through
// shared informers, keeps a cache of every node's free resources, takes
// pending pods for its scheduler name from a priority queue, picks a node
// for each with the plugins in pkg/scheduler/plugins (filters, then
// scores), reserves it in the cache and binds the pod through pods/binding
// asynchronously.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	clientset "skiff.dev/skiff/pkg/generated/clientset/versioned"
	"skiff.dev/skiff/pkg/generated/informers/externalversions"
	listers "skiff.dev/skiff/pkg/generated/listers/core/v1alpha1"
	internalcache "skiff.dev/skiff/pkg/scheduler/cache"
	"skiff.dev/skiff/pkg/scheduler/framework"
	"skiff.dev/skiff/pkg/scheduler/metrics"
	"skiff.dev/skiff/pkg/scheduler/plugins"
	"skiff.dev/skiff/pkg/scheduler/queue"
)

// Config is what a Scheduler is built from.
type Config struct {
	// SchedulerName: only pending pods with this spec.schedulerName are
	// scheduled. Defaults to v1alpha1.DefaultSchedulerName.
	SchedulerName string
	// Parallelism is how many nodes are filtered and scored at once.
	// Defaults to framework.DefaultParallelism.
	Parallelism int
	// PercentageOfNodesToScore: the search for feasible nodes stops once
	// this share of the cluster (but at least 100 nodes) is found. 0 means
	// adaptive, as upstream: 50% less 1% per 125 nodes, at least 5%.
	PercentageOfNodesToScore int32
	// AssumedPodTTL: an assumed pod not confirmed by the informer this long
	// after its binding returned is dropped. Defaults to 30 s.
	AssumedPodTTL time.Duration
	// Registrations are the plugins; plugins.Default() when empty.
	Registrations []framework.Registration
	// CoreClient reads core/v1 Namespaces (served at /api/v1) for the
	// namespaceSelector of pod affinity terms. Without it a
	// namespaceSelector sees every namespace with no labels.
	CoreClient kubernetes.Interface
}

// Scheduler schedules pods. Build it with New, start the informer factory,
// then call Run.
type Scheduler struct {
	client   clientset.Interface
	recorder record.EventRecorder

	schedulerName            string
	percentageOfNodesToScore int32

	framework *framework.Framework
	cache     *internalcache.Cache
	queue     *queue.PriorityQueue
	podLister listers.PodLister

	// Owned by the scheduling loop alone.
	snapshot           *internalcache.Snapshot
	nextStartNodeIndex int
	// snapshotNodes is the snapshot's node count, for the binding
	// goroutines' messages.
	snapshotNodes atomic.Int64

	// coreFactory runs the core/v1 Namespace informer, when there is a
	// CoreClient.
	coreFactory informers.SharedInformerFactory

	bindings sync.WaitGroup
	synced   []toolscache.InformerSynced
}

// New builds a scheduler and registers its event handlers on the factory's
// pod and node informers. recorder receives Scheduled and FailedScheduling
// events.
func New(client clientset.Interface, factory externalversions.SharedInformerFactory, recorder record.EventRecorder, cfg Config) (*Scheduler, error) {
	if cfg.SchedulerName == "" {
		cfg.SchedulerName = v1alpha1.DefaultSchedulerName
	}
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = framework.DefaultParallelism
	}
	if cfg.PercentageOfNodesToScore < 0 || cfg.PercentageOfNodesToScore > 100 {
		return nil, fmt.Errorf("percentage of nodes to score must be between 0 and 100, got %d", cfg.PercentageOfNodesToScore)
	}
	if cfg.AssumedPodTTL == 0 {
		cfg.AssumedPodTTL = internalcache.DefaultAssumedPodTTL
	}
	if len(cfg.Registrations) == 0 {
		cfg.Registrations = plugins.Default()
	}
	metrics.Register()

	podInformer := factory.Core().V1alpha1().Pods()
	nodeInformer := factory.Core().V1alpha1().Nodes()
	s := &Scheduler{
		client:                   client,
		recorder:                 recorder,
		schedulerName:            cfg.SchedulerName,
		percentageOfNodesToScore: cfg.PercentageOfNodesToScore,
		cache:                    internalcache.New(cfg.AssumedPodTTL, nil),
		podLister:                podInformer.Lister(),
		snapshot:                 internalcache.NewEmptySnapshot(),
	}
	extra := map[string]any{}
	if cfg.CoreClient != nil {
		s.coreFactory = informers.NewSharedInformerFactory(cfg.CoreClient, 0)
		extra[plugins.NamespaceListerKey] = s.coreFactory.Core().V1().Namespaces().Lister()
	}
	s.queue = queue.New(queue.WithPendingPodsRecorder(func(c queue.PendingCounts) {
		metrics.SetPendingPods(c.Active, c.Backoff, c.Unschedulable)
	}))
	fw, err := framework.NewFramework(cfg.Registrations, cfg.Parallelism, framework.Options{
		Snapshot:      s.snapshot,
		ClientSet:     client,
		EventRecorder: recorder,
		Nominator:     s.queue,
		Extra:         extra,
	})
	if err != nil {
		return nil, fmt.Errorf("build scheduling framework: %w", err)
	}
	if !fw.HasBindPlugins() {
		return nil, errors.New("build scheduling framework: no Bind plugin")
	}
	hints, err := fw.EnqueueExtensions(context.Background())
	if err != nil {
		return nil, fmt.Errorf("build scheduling framework: %w", err)
	}
	s.queue.SetQueueingHints(hints)
	s.framework = fw
	if err := s.addEventHandlers(podInformer.Informer(), nodeInformer.Informer()); err != nil {
		return nil, err
	}
	if s.coreFactory != nil {
		if err := s.addNamespaceEventHandlers(s.coreFactory.Core().V1().Namespaces().Informer()); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Run waits for the informers to sync (so every bound pod is charged to its
// node before the first decision), then schedules pods until ctx is done.
// It returns after the bindings in flight have returned.
func (s *Scheduler) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	if s.coreFactory != nil {
		s.coreFactory.Start(ctx.Done())
		defer s.coreFactory.Shutdown()
	}
	if !toolscache.WaitForCacheSync(ctx.Done(), s.synced...) {
		return errors.New("scheduler: informers did not sync before shutdown")
	}
	logger.Info("Scheduler started", "schedulerName", s.schedulerName)
	s.queue.Run(ctx)
	go s.cache.Run(ctx)
	wait.UntilWithContext(ctx, s.scheduleOne, 0)
	s.bindings.Wait()
	logger.Info("Scheduler stopped")
	return nil
}

// Queue exposes the scheduling queue, for tests.
func (s *Scheduler) Queue() *queue.PriorityQueue { return s.queue }

// Cache exposes the scheduler cache, for tests.
func (s *Scheduler) Cache() *internalcache.Cache { return s.cache }

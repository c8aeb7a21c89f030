package scheduler

import (
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
	"skiff.dev/skiff/pkg/scheduler/queue"
)

// addEventHandlers feeds the cache and the queue from the informers: bound
// pods to the cache, pending pods for this scheduler to the queue, and the
// changes that could make a waiting pod fit to MoveAllToActiveOrBackoff,
// whose queueing hints decide which waiting pods they concern.
func (s *Scheduler) addEventHandlers(podInformer, nodeInformer toolscache.SharedIndexInformer) error {
	podReg, err := podInformer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    s.onPodAdd,
		UpdateFunc: s.onPodUpdate,
		DeleteFunc: s.onPodDelete,
	})
	if err != nil {
		return fmt.Errorf("add pod event handler: %w", err)
	}
	nodeReg, err := nodeInformer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    s.onNodeAdd,
		UpdateFunc: s.onNodeUpdate,
		DeleteFunc: s.onNodeDelete,
	})
	if err != nil {
		return fmt.Errorf("add node event handler: %w", err)
	}
	s.synced = []toolscache.InformerSynced{podReg.HasSynced, nodeReg.HasSynced}
	return nil
}

func assigned(pod *v1alpha1.Pod) bool { return pod.Spec.NodeName != "" }

// terminal pods have finished and hold no resources on their node.
func terminal(pod *v1alpha1.Pod) bool {
	return pod.Status.Phase == v1alpha1.PodSucceeded || pod.Status.Phase == v1alpha1.PodFailed
}

func (s *Scheduler) responsibleFor(pod *v1alpha1.Pod) bool {
	return pod.Spec.SchedulerName == s.schedulerName
}

func (s *Scheduler) onPodAdd(obj any) {
	pod, ok := obj.(*v1alpha1.Pod)
	if !ok {
		return
	}
	switch {
	case assigned(pod):
		if !terminal(pod) {
			s.addPodToCache(pod)
		}
	case s.responsibleFor(pod) && pod.DeletionTimestamp == nil:
		if pod.Status.NominatedNodeName != "" {
			// Nominated by an earlier run (or another replica): keep the
			// room preemption freed for it.
			s.queue.AddNominatedPod(pod, pod.Status.NominatedNodeName)
		}
		s.queue.Add(pod)
	}
}

func (s *Scheduler) onPodUpdate(oldObj, newObj any) {
	oldPod, ok1 := oldObj.(*v1alpha1.Pod)
	newPod, ok2 := newObj.(*v1alpha1.Pod)
	if !ok1 || !ok2 {
		return
	}
	if assigned(newPod) {
		if !assigned(oldPod) {
			// Bound: by us (confirming an assumption) or by someone else.
			s.queue.Delete(newPod)
			s.queue.DeleteNominatedPodIfExists(newPod)
		}
		if terminal(newPod) {
			if !terminal(oldPod) {
				s.removePodFromCache(newPod)
			}
			return
		}
		if err := s.cache.AddPod(newPod); err != nil {
			klog.ErrorS(err, "Could not update pod in the scheduler cache", "pod", klog.KObj(newPod))
		}
		switch {
		case !assigned(oldPod):
			s.queue.MoveAllToActiveOrBackoff(framework.EventAssignedPodAdd, nil, newPod)
		case !maps.Equal(oldPod.Labels, newPod.Labels):
			s.queue.MoveAllToActiveOrBackoff(framework.EventAssignedPodUpdate, oldPod, newPod)
		}
		return
	}
	if s.responsibleFor(newPod) {
		// The informer may show the nomination after the pod was assumed
		// (whose nomination ended then): it must not come back.
		if newPod.Status.NominatedNodeName != oldPod.Status.NominatedNodeName && !s.cache.IsAssumedPod(newPod) {
			s.queue.AddNominatedPod(newPod, newPod.Status.NominatedNodeName)
		}
		s.queue.Update(oldPod, newPod)
	}
}

func (s *Scheduler) onPodDelete(obj any) {
	var pod *v1alpha1.Pod
	switch t := obj.(type) {
	case *v1alpha1.Pod:
		pod = t
	case toolscache.DeletedFinalStateUnknown:
		p, ok := t.Obj.(*v1alpha1.Pod)
		if !ok {
			return
		}
		pod = p
	default:
		return
	}
	s.queue.Delete(pod)
	s.queue.DeleteNominatedPodIfExists(pod)
	if (assigned(pod) && !terminal(pod)) || s.cache.IsAssumedPod(pod) {
		s.removePodFromCache(pod)
	}
}

// addPodToCache records a bound pod and tells the queue: a pod waiting for
// a pod to be near (affinity) or for its group to spread may now fit.
func (s *Scheduler) addPodToCache(pod *v1alpha1.Pod) {
	if err := s.cache.AddPod(pod); err != nil {
		klog.ErrorS(err, "Could not add pod to the scheduler cache", "pod", klog.KObj(pod))
	}
	s.queue.MoveAllToActiveOrBackoff(framework.EventAssignedPodAdd, nil, pod)
}

// removePodFromCache frees the pod's resources and retries the pods whose
// plugins say its departure may help.
func (s *Scheduler) removePodFromCache(pod *v1alpha1.Pod) {
	if err := s.cache.RemovePod(pod); err != nil {
		klog.ErrorS(err, "Could not remove pod from the scheduler cache", "pod", klog.KObj(pod))
	}
	s.queue.MoveAllToActiveOrBackoff(framework.EventAssignedPodDelete, pod, nil)
}

func (s *Scheduler) onNodeAdd(obj any) {
	node, ok := obj.(*v1alpha1.Node)
	if !ok {
		return
	}
	s.cache.AddNode(node)
	s.queue.MoveAllToActiveOrBackoff(framework.EventNodeAdd, nil, node)
}

// onNodeUpdate sends every event the update amounts to (a label and a
// taint changed at once are two events, each for the plugins that
// registered it).
func (s *Scheduler) onNodeUpdate(oldObj, newObj any) {
	oldNode, ok1 := oldObj.(*v1alpha1.Node)
	newNode, ok2 := newObj.(*v1alpha1.Node)
	if !ok1 || !ok2 {
		return
	}
	s.cache.UpdateNode(oldNode, newNode)
	for _, event := range queue.NodeSchedulingPropertiesChange(oldNode, newNode) {
		s.queue.MoveAllToActiveOrBackoff(event, oldNode, newNode)
	}
}

func (s *Scheduler) onNodeDelete(obj any) {
	var node *v1alpha1.Node
	switch t := obj.(type) {
	case *v1alpha1.Node:
		node = t
	case toolscache.DeletedFinalStateUnknown:
		n, ok := t.Obj.(*v1alpha1.Node)
		if !ok {
			return
		}
		node = n
	default:
		return
	}
	s.cache.RemoveNode(node)
	// Spread counts domains: a node gone may lower the skew's minimum.
	s.queue.MoveAllToActiveOrBackoff(framework.EventNodeDelete, node, nil)
}

// addNamespaceEventHandlers retries pods whose affinity terms select
// namespaces by label when a namespace appears or its labels change.
func (s *Scheduler) addNamespaceEventHandlers(inf toolscache.SharedIndexInformer) error {
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) { s.queue.MoveAllToActiveOrBackoff(framework.EventNamespaceAdd, nil, obj) },
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(*corev1.Namespace)
			n, ok2 := newObj.(*corev1.Namespace)
			if ok1 && ok2 && !maps.Equal(o.Labels, n.Labels) {
				s.queue.MoveAllToActiveOrBackoff(framework.EventNamespaceLabelChange, o, n)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("add namespace event handler: %w", err)
	}
	// Waited for, as the pods and nodes: a namespaceSelector evaluated
	// before the namespaces are known would see none of their labels.
	s.synced = append(s.synced, reg.HasSynced)
	return nil
}

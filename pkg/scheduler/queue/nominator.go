package queue

import (
	"sync"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/types"

	v1alpha1 "skiff.dev/skiff/pkg/apis/core/v1alpha1"
	"skiff.dev/skiff/pkg/scheduler/framework"
)

// nominator remembers the pods preemption nominated to a node, so the
// next cycles keep room for them there.
type nominator struct {
	// mu guards the maps apart from the queue's lock: filters read them
	// from many goroutines; count lets them skip the lock when empty.
	mu     sync.RWMutex
	count  atomic.Int32
	byNode map[string][]*framework.PodInfo
	byUID  map[types.UID]string
}

func newNominator() *nominator {
	return &nominator{byNode: map[string][]*framework.PodInfo{}, byUID: map[types.UID]string{}}
}

func (n *nominator) add(pi *framework.PodInfo, nodeName string) {
	n.delete(pi.Pod)
	if nodeName == "" {
		return
	}
	n.byUID[pi.Pod.UID] = nodeName
	n.count.Add(1)
	n.byNode[nodeName] = append(n.byNode[nodeName], pi)
}

func (n *nominator) delete(pod *v1alpha1.Pod) {
	node, ok := n.byUID[pod.UID]
	if !ok {
		return
	}
	delete(n.byUID, pod.UID)
	n.count.Add(-1)
	list := n.byNode[node]
	for i, pi := range list {
		if pi.Pod.UID == pod.UID {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(n.byNode, node)
	} else {
		n.byNode[node] = list
	}
}

// AddNominatedPod records that pod waits for room on nodeName ("" forgets).
func (q *PriorityQueue) AddNominatedPod(pod *v1alpha1.Pod, nodeName string) {
	q.nominator.mu.Lock()
	defer q.nominator.mu.Unlock()
	q.nominator.add(framework.NewPodInfo(pod), nodeName)
}

// DeleteNominatedPodIfExists forgets the pod's nomination: it was bound or
// deleted.
func (q *PriorityQueue) DeleteNominatedPodIfExists(pod *v1alpha1.Pod) {
	if q.nominator.count.Load() == 0 {
		return
	}
	q.nominator.mu.Lock()
	defer q.nominator.mu.Unlock()
	q.nominator.delete(pod)
}

// NominatedPodsForNode returns the pods nominated to the node.
func (q *PriorityQueue) NominatedPodsForNode(nodeName string) []*framework.PodInfo {
	if q.nominator.count.Load() == 0 {
		return nil
	}
	q.nominator.mu.RLock()
	defer q.nominator.mu.RUnlock()
	list := q.nominator.byNode[nodeName]
	if len(list) == 0 {
		return nil
	}
	return append([]*framework.PodInfo(nil), list...)
}

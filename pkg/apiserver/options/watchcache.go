package options

import (
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	genericoptions "k8s.io/apiserver/pkg/server/options"
)

// defaultWatchCacheSizes are the resources served without a watch cache
// unless --watch-cache-sizes says otherwise, as kube-apiserver's
// DefaultWatchCacheSizes: events. A cached resource keeps every object in
// memory and every version written in the last 75 s (the cacher's
// shortest history, which no option shortens); events are many (several a
// pod), written once and rarely watched, so at 10000 pods they cost the
// API server tens of MiB for no reader. Lists and watches of events go to
// etcd instead.
func defaultWatchCacheSizes() map[schema.GroupResource]int {
	return map[schema.GroupResource]int{
		{Resource: "events"}: 0,
	}
}

// completeWatchCacheSizes merges --watch-cache-sizes over the defaults,
// as kube-apiserver completes its options: a resource the flag names
// keeps the flag's size.
func (o *Options) completeWatchCacheSizes() error {
	if !o.Etcd.EnableWatchCache {
		return nil
	}
	sizes := defaultWatchCacheSizes()
	given, err := genericoptions.ParseWatchCacheSizes(o.Etcd.WatchCacheSizes)
	if err != nil {
		return fmt.Errorf("--watch-cache-sizes: %w", err)
	}
	for resource, size := range given {
		sizes[resource] = size
	}
	o.Etcd.WatchCacheSizes, err = genericoptions.WriteWatchCacheSizes(sizes)
	if err != nil {
		return fmt.Errorf("--watch-cache-sizes: %w", err)
	}
	return nil
}

package options

import (
	"maps"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericoptions "k8s.io/apiserver/pkg/server/options"
)

func TestWatchCacheSizes(t *testing.T) {
	events := schema.GroupResource{Resource: "events"}
	pods := schema.GroupResource{Group: "core.skiff.dev", Resource: "pods"}
	for _, tc := range []struct {
		name    string
		args    []string
		want    map[schema.GroupResource]int
		wantErr string
	}{
		{name: "default: events uncached", want: map[schema.GroupResource]int{events: 0}},
		{name: "a flag adds to the defaults", args: []string{"--watch-cache-sizes=pods.core.skiff.dev#0"},
			want: map[schema.GroupResource]int{events: 0, pods: 0}},
		{name: "a flag overrides a default", args: []string{"--watch-cache-sizes=events#100"},
			want: map[schema.GroupResource]int{events: 100}},
		{name: "watch cache off: nothing added", args: []string{"--watch-cache=false"},
			want: map[schema.GroupResource]int{}},
		{name: "bad size", args: []string{"--watch-cache-sizes=events#many"}, wantErr: "--watch-cache-sizes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := NewOptions()
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			for _, f := range o.Flags().FlagSets {
				fs.AddFlagSet(f)
			}
			if err := fs.Parse(tc.args); err != nil {
				t.Fatalf("parse %v: %v", tc.args, err)
			}
			err := o.completeWatchCacheSizes()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := genericoptions.ParseWatchCacheSizes(o.Etcd.WatchCacheSizes)
			if err != nil {
				t.Fatalf("completed sizes %v do not parse: %v", o.Etcd.WatchCacheSizes, err)
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("watch cache sizes %v, want %v", got, tc.want)
			}
		})
	}
}

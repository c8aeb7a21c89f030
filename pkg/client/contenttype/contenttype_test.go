package contenttype

import (
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
)

func TestFlag(t *testing.T) {
	cases := []struct {
		name       string
		args       []string
		wantErr    bool
		wantSend   string
		wantAccept string
	}{
		{name: "protobuf by default, JSON accepted too", wantSend: "application/vnd.kubernetes.protobuf", wantAccept: "application/vnd.kubernetes.protobuf,application/json"},
		{name: "JSON when asked", args: []string{"--kube-api-content-type=application/json"}, wantSend: "application/json", wantAccept: "application/json"},
		{name: "anything else refused", args: []string{"--kube-api-content-type=application/yaml"}, wantErr: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			value := Default
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			AddFlag(fs, &value)
			if err := fs.Parse(c.args); err != nil {
				t.Fatal(err)
			}
			if err := Validate(value); (err != nil) != c.wantErr {
				t.Fatalf("Validate(%q) = %v, want error %v", value, err, c.wantErr)
			}
			if c.wantErr {
				return
			}
			cfg := &rest.Config{}
			Apply(cfg, value)
			if cfg.ContentType != c.wantSend || cfg.AcceptContentTypes != c.wantAccept {
				t.Errorf("config sends %q and accepts %q, want %q and %q", cfg.ContentType, cfg.AcceptContentTypes, c.wantSend, c.wantAccept)
			}
		})
	}
}

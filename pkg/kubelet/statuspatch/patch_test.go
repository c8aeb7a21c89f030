package statuspatch

import (
	"testing"
)

type status struct {
	Phase   string `json:"phase,omitempty"`
	Message string `json:"message,omitempty"`
}

func TestDiff(t *testing.T) {
	uid := map[string]any{"metadata": map[string]any{"uid": "u1"}}
	cases := []struct {
		name     string
		old, new status
		extra    map[string]any
		want     string
	}{
		{name: "no change gives no patch, even with extra fields", old: status{Phase: "Running"}, new: status{Phase: "Running"}, extra: uid, want: ""},
		{name: "only the changed field is sent", old: status{Phase: "Pending", Message: "m"}, new: status{Phase: "Running", Message: "m"}, want: `{"status":{"phase":"Running"}}`},
		{name: "a cleared field is nulled", old: status{Phase: "Running", Message: "m"}, new: status{Phase: "Running"}, want: `{"status":{"message":null}}`},
		{name: "extra fields ride along with a change", old: status{}, new: status{Phase: "Failed"}, extra: uid, want: `{"metadata":{"uid":"u1"},"status":{"phase":"Failed"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Diff(tc.old, tc.new, tc.extra)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("Diff = %s, want %s", got, tc.want)
			}
		})
	}
}

package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"skiff.dev/skiff/pkg/bench/stats"
)

func sample() *Result {
	r := New("create")
	r.Parameters["pods"] = 50
	r.Parameters["workers"] = 8
	r.Add("pods created", 50, Pods)
	r.Add("create rate", 812.34567, PodsPerSecond)
	r.AddLatencies("create latency", stats.Summarize([]time.Duration{2 * time.Millisecond, 4 * time.Millisecond, 1500 * time.Microsecond}))
	return r
}

func TestWriteTable(t *testing.T) {
	withErrors := sample()
	withErrors.AddErrors(map[string]int{"409": 2, "500": 1})
	withErrors.AddErrors(map[string]int{"409": 1})
	withSeries := sample()
	withSeries.Series = []Series{{Name: "per 10s window", Points: []Point{
		{Label: "0-10s", Figures: []Figure{{Name: "creates", Value: 100, Unit: Count}, {Name: "create p99", Value: 3.5, Unit: Milliseconds}}},
		{Label: "10-20s", Figures: []Figure{{Name: "creates", Value: 90, Unit: Count}}},
	}}}
	withSeries.Notef("apiserver memory not measured: %s", "forbidden")

	tests := []struct {
		name   string
		result *Result
		want   []string // lines (after collapsing runs of spaces) that must appear
	}{
		{
			name:   "parameters, figures with units, and no errors",
			result: sample(),
			want: []string{
				"skiff-bench create (pods=50 workers=8)",
				"FIGURE VALUE UNIT",
				"pods created 50 pods",
				"create rate 812.346 pods/s",
				"create latency p50 2 ms",
				"create latency p90 4 ms",
				"create latency p99 4 ms",
				"create latency max 4 ms",
				"errors: none",
			},
		},
		{
			name:   "errors by code, summed and sorted",
			result: withErrors,
			want:   []string{"errors: 409×3 500×1"},
		},
		{
			name:   "a series as a table with a dash for a missing figure, then notes",
			result: withSeries,
			want: []string{
				"per 10s window",
				"creates (count) create p99 (ms)",
				"0-10s 100 3.5",
				"10-20s 90 -",
				"note: apiserver memory not measured: forbidden",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteTable(&buf, tt.result); err != nil {
				t.Fatal(err)
			}
			lines := map[string]bool{}
			for _, l := range strings.Split(buf.String(), "\n") {
				lines[strings.Join(strings.Fields(l), " ")] = true
			}
			for _, w := range tt.want {
				if !lines[w] {
					t.Errorf("table lacks line %q; got:\n%s", w, buf.String())
				}
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	r := sample()
	r.AddErrors(map[string]int{"429": 4})
	var buf bytes.Buffer
	if err := WriteJSON(&buf, r); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Scenario   string         `json:"scenario"`
		Parameters map[string]any `json:"parameters"`
		Figures    []Figure       `json:"figures"`
		Errors     map[string]int `json:"errors"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, buf.String())
	}
	if got.Scenario != "create" || got.Parameters["pods"] != float64(50) {
		t.Errorf("scenario %q parameters %v, want create with pods=50", got.Scenario, got.Parameters)
	}
	if len(got.Figures) != 6 || got.Figures[1] != (Figure{Name: "create rate", Value: 812.346, Unit: PodsPerSecond}) {
		t.Errorf("figures %+v, want 6 with create rate 812.346 pods/s second", got.Figures)
	}
	if got.Errors["429"] != 4 {
		t.Errorf("errors %v, want 429: 4", got.Errors)
	}
}

func TestNoErrorsIsAnEmptyObjectInJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, New("list")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"errors": {}`) {
		t.Errorf("want an empty errors object a machine can index, got:\n%s", buf.String())
	}
}

func TestEmptyLatenciesAddNothing(t *testing.T) {
	r := New("watch")
	r.AddLatencies("event delivery", stats.Summary{})
	if len(r.Figures) != 0 {
		t.Errorf("figures %+v for no samples, want none (zero would read as instant)", r.Figures)
	}
}

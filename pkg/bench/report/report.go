// Package report holds what one skiff-bench scenario measured and prints it:
// a table for people, JSON for machines. Every figure is a plain number with
// its unit.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"skiff.dev/skiff/pkg/bench/stats"
)

// Units figures are reported in.
const (
	Milliseconds  = "ms"
	Seconds       = "s"
	PodsPerSecond = "pods/s"
	Pods          = "pods"
	Count         = "count"
	MiB           = "MiB"
	MBPerSecond   = "MB/s"
)

// Figure is one measured number.
type Figure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// Point is one step of a series, such as one 10 s window of churn.
type Point struct {
	Label   string   `json:"label"`
	Figures []Figure `json:"figures"`
}

// Series is figures over time or over steps.
type Series struct {
	Name   string  `json:"name"`
	Points []Point `json:"points"`
}

// Result is everything one scenario run reports.
type Result struct {
	Scenario string `json:"scenario"`
	// Parameters are the run's settings, such as pods and workers.
	Parameters map[string]any `json:"parameters"`
	Figures    []Figure       `json:"figures"`
	// Errors counts failed API calls by HTTP status code ("409"), or
	// "timeout" and "transport" for calls that got no answer.
	Errors map[string]int `json:"errors"`
	Series []Series       `json:"series,omitempty"`
	// Notes are what a reader must know to trust the figures, such as a
	// figure that could not be measured and why.
	Notes []string `json:"notes,omitempty"`
}

// New returns an empty result for scenario.
func New(scenario string) *Result {
	return &Result{Scenario: scenario, Parameters: map[string]any{}, Errors: map[string]int{}}
}

// Add appends a figure, rounded to three decimals.
func (r *Result) Add(name string, value float64, unit string) {
	r.Figures = append(r.Figures, Figure{Name: name, Value: round(value), Unit: unit})
}

// AddLatencies appends "<what> p50", "p90", "p99" and "max" in
// milliseconds; an empty summary adds nothing, since zero would read as
// instant.
func (r *Result) AddLatencies(what string, s stats.Summary) {
	r.Figures = append(r.Figures, Latencies(what, s)...)
}

// Latencies returns the figures AddLatencies adds.
func Latencies(what string, s stats.Summary) []Figure {
	if s.Count == 0 {
		return nil
	}
	return []Figure{
		{Name: what + " p50", Value: Millis(s.P50), Unit: Milliseconds},
		{Name: what + " p90", Value: Millis(s.P90), Unit: Milliseconds},
		{Name: what + " p99", Value: Millis(s.P99), Unit: Milliseconds},
		{Name: what + " max", Value: Millis(s.Max), Unit: Milliseconds},
	}
}

// AddErrors adds counts of failed calls by code.
func (r *Result) AddErrors(byCode map[string]int) {
	for code, n := range byCode {
		r.Errors[code] += n
	}
}

// Notef appends a note.
func (r *Result) Notef(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Figure returns the named figure, for tests and callers that check one.
func (r *Result) Figure(name string) (Figure, bool) {
	for _, f := range r.Figures {
		if f.Name == name {
			return f, true
		}
	}
	return Figure{}, false
}

// ErrorCount is the number of failed calls.
func (r *Result) ErrorCount() int {
	n := 0
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// Millis is d in milliseconds, rounded to microseconds.
func Millis(d time.Duration) float64 { return round(float64(d) / float64(time.Millisecond)) }

// round keeps three decimals: microseconds of a millisecond figure, and
// more than any rate or size here is worth.
func round(v float64) float64 { return math.Round(v*1000) / 1000 }

// Format renders a value the way the table shows it: no trailing zeros.
func Format(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// WriteJSON writes r as indented JSON.
func WriteJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write JSON result: %w", err)
	}
	return nil
}

// WriteTable writes r for a person: parameters, then one figure a line
// with its unit, errors by code, every series as a table, and the notes.
func WriteTable(w io.Writer, r *Result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "skiff-bench %s", r.Scenario)
	if len(r.Parameters) > 0 {
		var params []string
		for _, k := range slices.Sorted(maps.Keys(r.Parameters)) {
			params = append(params, fmt.Sprintf("%s=%v", k, r.Parameters[k]))
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(params, " "))
	}
	b.WriteString("\n\n")

	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tVALUE\tUNIT")
	for _, f := range r.Figures {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name, Format(f.Value), f.Unit)
	}
	if err := tw.Flush(); err != nil {
		return err
	}

	b.WriteString("\nerrors: ")
	if len(r.Errors) == 0 {
		b.WriteString("none\n")
	} else {
		var errs []string
		for _, code := range slices.Sorted(maps.Keys(r.Errors)) {
			errs = append(errs, fmt.Sprintf("%s×%d", code, r.Errors[code]))
		}
		b.WriteString(strings.Join(errs, " ") + "\n")
	}

	for _, s := range r.Series {
		if err := writeSeries(&b, s); err != nil {
			return err
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeSeries writes one row per point; the columns are the figures of
// the first point, headed "name (unit)". A point missing a figure shows "-".
func writeSeries(b *strings.Builder, s Series) error {
	fmt.Fprintf(b, "\n%s\n", s.Name)
	if len(s.Points) == 0 {
		b.WriteString("(no points)\n")
		return nil
	}
	var columns []Figure
	seen := map[string]bool{}
	for _, p := range s.Points {
		for _, f := range p.Figures {
			if !seen[f.Name] {
				seen[f.Name] = true
				columns = append(columns, f)
			}
		}
	}
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	header := []string{""}
	for _, c := range columns {
		header = append(header, fmt.Sprintf("%s (%s)", c.Name, c.Unit))
	}
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, p := range s.Points {
		row := []string{p.Label}
		for _, c := range columns {
			cell := "-"
			for _, f := range p.Figures {
				if f.Name == c.Name {
					cell = Format(f.Value)
				}
			}
			row = append(row, cell)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

package testenv

import (
	"slices"
	"testing"
	"time"
)

// AgainstFloor runs b.N iterations of a benchmark that compares Pitlane
// with its floor, the plainest way to the same result, measured in the
// same iterations: each iteration times floor(id) and pitlane(id) for a
// fresh id, then calls cleanup(id) with the timer stopped. It reports
// both medians and pitlane's ratio to the floor.
func AgainstFloor(b *testing.B, floor, pitlane func(id string) time.Duration, cleanup func(id string)) {
	b.Helper()
	var fs, ps []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := ID()
		fs = append(fs, floor(id))
		ps = append(ps, pitlane(id))
		b.StopTimer()
		cleanup(id)
		b.StartTimer()
	}
	f, p := Median(fs), Median(ps)
	b.ReportMetric(float64(f.Milliseconds()), "floor-ms")
	b.ReportMetric(float64(p.Milliseconds()), "pitlane-ms")
	b.ReportMetric(float64(p)/float64(f), "ratio")
}

// Median is the median of ds (the mean of the middle two for an even
// count); ds is left as it was.
func Median(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	if len(ds)%2 == 1 {
		return ds[len(ds)/2]
	}
	return (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
}

package httpapi

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/exec"
)

// metrics serves GET /metrics: Weir's state read from the database at scrape time, plus
// the Go runtime's.
func metrics(d *db.DB) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}), collector{d})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

var (
	lateDesc = prometheus.NewDesc("weir_late_events_total",
		"Events that arrived behind their source's watermark (kept in the source, dropped from closed windows).", []string{"source"}, nil)
	watermarkDesc = prometheus.NewDesc("weir_watermark_seconds",
		"A watermarked source's event-time watermark, in seconds since the Unix epoch.", []string{"source"}, nil)
	tickDesc = prometheus.NewDesc("weir_tick", "The last committed tick.", nil, nil)
)

// collector reads the database's counters at each scrape.
type collector struct{ d *db.DB }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lateDesc
	ch <- watermarkDesc
	ch <- tickDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(tickDesc, prometheus.GaugeValue, float64(c.d.Tick()))
	for _, s := range c.d.EventTime() {
		ch <- prometheus.MustNewConstMetric(lateDesc, prometheus.CounterValue, float64(s.LateEvents), s.Source)
		if s.Watermark != exec.NoWatermark {
			ch <- prometheus.MustNewConstMetric(watermarkDesc, prometheus.GaugeValue, float64(s.Watermark)/1e6, s.Source)
		}
	}
}

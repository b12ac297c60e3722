package metrics_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hms-svc/hms-svc/internal/metrics"
)

// scraper serves a Metrics over HTTP/2 with TLS, as a process mounts it on
// /metrics, and reads it back with a real client.
type scraper struct {
	t   *testing.T
	url string
	c   *http.Client
}

func newScraper(t *testing.T, m *metrics.Metrics) *scraper {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	ts := httptest.NewUnstartedServer(mux)
	ts.EnableHTTP2 = true
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return &scraper{t: t, url: ts.URL + "/metrics", c: ts.Client()}
}

// text returns the exposition text of one scrape.
func (s *scraper) text() string {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/plain")
	res, err := s.c.Do(req)
	if err != nil {
		s.t.Fatalf("scraping: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || res.ProtoMajor != 2 {
		s.t.Fatalf("scrape: %s over %s: %s", res.Status, res.Proto, body)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		s.t.Fatalf("scrape Content-Type %q, want text/plain", ct)
	}
	return string(body)
}

// families parses one scrape.
func (s *scraper) families() families {
	s.t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(s.text()))
	if err != nil {
		s.t.Fatalf("parsing scrape: %v", err)
	}
	return fams
}

type families map[string]*dto.MetricFamily

// value returns the value of the series of name whose labels include want:
// a counter's or gauge's value, a histogram's sample count.
func (f families) value(name string, want map[string]string) (float64, error) {
	fam, ok := f[name]
	if !ok {
		return 0, fmt.Errorf("no metric %s", name)
	}
next:
	for _, m := range fam.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), nil
		case m.Gauge != nil:
			return m.Gauge.GetValue(), nil
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), nil
		}
	}
	return 0, fmt.Errorf("no series of %s with labels %v", name, want)
}

// expect checks a series' value.
func (f families) expect(name string, labels map[string]string, want float64) error {
	got, err := f.value(name, labels)
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
	return nil
}

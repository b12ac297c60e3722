package charttest

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/engine"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/client-go/kubernetes/scheme"
)

// chartDir is the chart under test; release and namespace are those of the
// install the tests render.
const (
	chartDir  = "../hms-svc"
	release   = "hms-svc"
	namespace = "hms"
)

// object is one rendered manifest, decoded into its API type.
type object struct {
	file string // the template it came from
	obj  runtime.Object
}

// loadChart loads the chart as `helm install` reads it from its folder.
func loadChart(t *testing.T) *chartv2.Chart {
	t.Helper()
	c, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("loading %s: %v", chartDir, err)
	}
	ch, ok := c.(*chartv2.Chart)
	if !ok {
		t.Fatalf("%s is a %T, want an apiVersion v2 chart", chartDir, c)
	}
	return ch
}

// render renders the chart with the values files given (as helm's -f, on
// top of the chart's values.yaml) and returns the manifests by template.
func render(t *testing.T, valuesFiles ...string) map[string]string {
	t.Helper()
	vals := map[string]any{}
	for _, f := range valuesFiles {
		v, err := common.ReadValuesFile(path.Join(chartDir, f))
		if err != nil {
			t.Fatalf("reading %s: %v", f, err)
		}
		vals = util.MergeTables(v, vals)
	}
	out, err := renderValues(t, vals)
	if err != nil {
		t.Fatalf("rendering with %v: %v", valuesFiles, err)
	}
	return out
}

// renderValues renders the chart with vals on top of its values.yaml, as
// `helm template` does: the values are checked against values.schema.json
// first.
func renderValues(t *testing.T, vals map[string]any) (map[string]string, error) {
	t.Helper()
	ch := loadChart(t)
	caps := common.DefaultCapabilities.Copy()
	caps.KubeVersion = common.KubeVersion{Version: "v1.34.0", Major: "1", Minor: "34"}
	rv, err := util.ToRenderValues(ch, vals, common.ReleaseOptions{Name: release, Namespace: namespace, Revision: 1, IsInstall: true}, caps)
	if err != nil {
		return nil, err
	}
	// Strict, as `helm lint --strict`: a template naming a value that is
	// not there fails instead of rendering nothing.
	return engine.Engine{Strict: true}.Render(ch, rv)
}

// docSep splits a manifest file into its YAML documents.
var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// decodeAll decodes every document of the rendered manifests strictly into
// the Kubernetes API types (see decode), failing the test on the first that
// does not decode.
func decodeAll(t *testing.T, manifests map[string]string) []object {
	t.Helper()
	objs, err := decode(manifests)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// decode decodes every document of manifests, by template name, strictly:
// an unknown kind, an unknown or duplicate field, or a value of the wrong
// type is an error naming the template. NOTES.txt is left out.
func decode(manifests map[string]string) ([]object, error) {
	codec := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
		json.SerializerOptions{Yaml: true, Strict: true})
	var files []string
	for f := range manifests {
		files = append(files, f)
	}
	slices.Sort(files)
	var out []object
	for _, f := range files {
		if strings.HasSuffix(f, "NOTES.txt") {
			continue
		}
		for i, doc := range docSep.Split(manifests[f], -1) {
			if len(bytes.TrimSpace(stripComments([]byte(doc)))) == 0 {
				continue
			}
			obj, _, err := codec.Decode([]byte(doc), nil, nil)
			if err != nil {
				return nil, fmt.Errorf("%s, document %d: %w\n%s", f, i, err, doc)
			}
			out = append(out, object{file: f, obj: obj})
		}
	}
	return out, nil
}

// stripComments drops YAML comment lines, so a document of comments alone
// counts as empty.
func stripComments(doc []byte) []byte {
	var b bytes.Buffer
	for _, l := range bytes.Split(doc, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(l), []byte("#")) {
			b.Write(l)
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// readFile reads a file of the repository, relative to this folder.
func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

package charttest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	corev1 "k8s.io/api/core/v1"

	"github.com/hms-svc/hms-svc/internal/natsauth"
	"github.com/hms-svc/hms-svc/internal/natstest"
	"github.com/hms-svc/hms-svc/pkg/matrix"
)

// The bridge's and a booth's containers start with the chart's very
// arguments and mounts, become ready on their probe, and stop cleanly on
// SIGTERM within their grace period: the binaries built from this
// checkout, their mounts laid out from the Secrets of meshctl k8s-secrets
// and the chart's ConfigMaps, against a 3-node NATS cluster on loopback
// (the stores at R3). Only what a cluster would supply is replaced: the
// NATS URL, loopback addresses for the ports, $(POD_NAME).
func TestPodsStartWithTheChartsArgs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the mesh's binaries")
	}
	secrets, dir := testMesh(t)
	mx, err := matrix.Load("../../matrix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if mx, err = mx.LoadKeys(dir); err != nil {
		t.Fatal(err)
	}
	cluster := natstest.StartCluster(t, 3, func(o *server.Options) error {
		return natsauth.Apply(o, mx, mx.Keys(), natsauth.ServerFiles(dir))
	})
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./cmd/broker-bridge", "./cmd/booth-runner")
	build.Dir = "../../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	r := renderSet(t, nil)
	for _, name := range []string{"hms-svc-bridge", "hms-svc-payment"} {
		t.Run(name, func(t *testing.T) {
			w := find(t, r, name)
			runContainer(t, bin, w, secrets, r.configs, cluster.URLs())
		})
	}
}

func find(t *testing.T, r rendered, name string) workload {
	t.Helper()
	for _, w := range r.workloads {
		if w.name == name {
			return w
		}
	}
	t.Fatalf("no workload %s", name)
	return workload{}
}

// runContainer runs w's container as a kubelet would, and checks its
// readiness probe and its stop.
func runContainer(t *testing.T, bin string, w workload, secrets []*corev1.Secret, configs []*corev1.ConfigMap, natsURLs string) {
	c := w.pod.Spec.Containers[0]
	root := t.TempDir()
	mounts := map[string]string{} // mountPath -> folder
	for _, vm := range c.VolumeMounts {
		folder := filepath.Join(root, vm.Name)
		if err := os.MkdirAll(folder, 0o700); err != nil {
			t.Fatal(err)
		}
		writeFiles(t, folder, volumeFiles(t, w.pod.Spec, vm.Name, secrets, configs))
		mounts[vm.MountPath] = folder
	}
	health := freeAddr(t)
	var args []string
	for _, a := range c.Args {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "--nats":
			v = natsURLs
		case "--listen":
			v = freeAddr(t)
		case "--health-listen":
			v = health
		}
		for mp, folder := range mounts {
			if strings.HasPrefix(v, mp+"/") || v == mp {
				v = folder + strings.TrimPrefix(v, mp)
			}
		}
		v = strings.ReplaceAll(v, "$(POD_NAME)", w.name+"-0")
		args = append(args, k+"="+v)
	}
	cmd := exec.Command(filepath.Join(bin, c.Name), args...)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Dir = root
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-done
		}
	})

	probe := "http://" + health + c.ReadinessProbe.HTTPGet.Path
	natstest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		select {
		case err := <-done:
			t.Fatalf("%s exited before it was ready: %v\n%s", c.Name, err, logs.String())
		default:
		}
		res, err := http.Get(probe)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("%s: %d", probe, res.StatusCode)
		}
		return nil
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	grace := time.Duration(*w.pod.Spec.TerminationGracePeriodSeconds) * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s after SIGTERM: %v\n%s", c.Name, err, logs.String())
		}
	case <-ctx.Done():
		t.Errorf("%s still running %v after SIGTERM, its grace period\n%s", c.Name, grace, logs.String())
	}
}

// volumeFiles returns the files the kubelet puts in volume name: the
// Secret's or the ConfigMap's data, or only its items when it lists some.
func volumeFiles(t *testing.T, spec corev1.PodSpec, name string, secrets []*corev1.Secret, configs []*corev1.ConfigMap) map[string][]byte {
	t.Helper()
	for _, v := range spec.Volumes {
		if v.Name != name {
			continue
		}
		data := map[string][]byte{}
		var items []corev1.KeyToPath
		switch {
		case v.Secret != nil:
			for _, s := range secrets {
				if s.Name == v.Secret.SecretName {
					data = s.Data
				}
			}
			items = v.Secret.Items
		case v.ConfigMap != nil:
			for _, cm := range configs {
				if cm.Name == v.ConfigMap.Name {
					for k, s := range cm.Data {
						data[k] = []byte(s)
					}
				}
			}
			items = v.ConfigMap.Items
		}
		if len(data) == 0 {
			t.Fatalf("volume %s: nothing to mount", name)
		}
		if len(items) == 0 {
			return data
		}
		out := map[string][]byte{}
		for _, it := range items {
			out[it.Path] = data[it.Key]
		}
		return out
	}
	t.Fatalf("no volume %s", name)
	return nil
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

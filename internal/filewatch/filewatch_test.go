package filewatch_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hms-svc/hms-svc/internal/filewatch"
	"github.com/hms-svc/hms-svc/internal/natstest"
)

func TestRunAppliesChangesAndDueTimes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a")
	if err := os.WriteFile(path, []byte("1"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := filewatch.New(func() []string { return []string{path} })
	var applied, failed atomic.Int32
	fail := atomic.Bool{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx, 10*time.Millisecond, time.Time{}, func() (time.Time, error) {
			applied.Add(1)
			if fail.Load() {
				return time.Time{}, errors.New("bad file")
			}
			return time.Time{}, nil
		}, func(error) { failed.Add(1) })
	}()
	defer func() { cancel(); <-done }()
	time.Sleep(50 * time.Millisecond)
	if n := applied.Load(); n != 0 {
		t.Fatalf("applied %d times with nothing changed", n)
	}
	fail.Store(true)
	if err := os.WriteFile(path, []byte("22"), 0o600); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, time.Second, 5*time.Millisecond, func() error {
		if failed.Load() != 1 {
			return errors.New("the change was not applied")
		}
		return nil
	})
	time.Sleep(50 * time.Millisecond)
	if n := applied.Load(); n != 1 {
		t.Errorf("a failed apply was retried without a change: %d applies", n)
	}
	fail.Store(false)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, time.Second, 5*time.Millisecond, func() error {
		if applied.Load() != 2 {
			return errors.New("the removal was not applied")
		}
		return nil
	})
}

func TestRunAppliesWhenDue(t *testing.T) {
	w := filewatch.New(func() []string { return nil })
	var applied atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx, 5*time.Millisecond, time.Now().Add(20*time.Millisecond), func() (time.Time, error) {
			applied.Add(1)
			return time.Time{}, nil // never due again
		}, func(error) {})
	}()
	defer func() { cancel(); <-done }()
	time.Sleep(100 * time.Millisecond)
	if n := applied.Load(); n != 1 {
		t.Errorf("applied %d times, want once, when due", n)
	}
}

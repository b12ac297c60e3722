package subjects_test

import (
	"errors"
	"fmt"

	"github.com/hms-svc/hms-svc/pkg/subjects"
)

func ExampleRequest() {
	subject, err := subjects.Request("fee-calc", "/calculate")
	fmt.Println(subject, err)
	subject, err = subjects.Request("license-printer", "/v2/generate")
	fmt.Println(subject, err)
	// Output:
	// svc.fee-calc.calculate <nil>
	// svc.license-printer.v2.generate <nil>
}

func ExampleParse() {
	service, path, err := subjects.Parse("svc.fee-calc.calculate")
	fmt.Println(service, path, err)
	// Output:
	// fee-calc /calculate <nil>
}

func ExampleTrace() {
	subject, err := subjects.Trace("payment")
	fmt.Println(subject, err)
	fmt.Println(subjects.TraceWildcard)
	// Output:
	// svc.trace.payment <nil>
	// svc.trace.>
}

// A wildcard could make one call reach every service; it is refused before
// anything is published.
func ExampleRequest_refusal() {
	_, err := subjects.Request("fee-calc", "/rates/*")
	fmt.Println(err)
	fmt.Println(errors.Is(err, subjects.ErrWildcard))
	_, err = subjects.Request("trace", "/x")
	fmt.Println(errors.Is(err, subjects.ErrServiceReserved))
	// Output:
	// path segment "*": wildcard '*' or '>' is not allowed
	// true
	// true
}

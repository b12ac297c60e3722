package matrix_test

import (
	"fmt"

	"github.com/hms-svc/hms-svc/pkg/matrix"
)

func ExampleMatrix_Allowed() {
	m, err := matrix.Parse([]byte(`
version: 1
identities:
  gateway:
    kind: gateway
    calls:
      fee-calc: [/calculate]
  fee-calc:
    kind: booth
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Allowed("gateway", "fee-calc", "/calculate"))
	fmt.Println(m.Allowed("gateway", "fee-calc", "/refund"))
	fmt.Println(m.Allowed("fee-calc", "fee-calc", "/calculate"))
	// Output:
	// true
	// false
	// false
}

// Command gateway plays the public web front end: it issues Avery's
// same-day license through the bridge over HTTP/2, calling fee-calc
// /calculate, payment /charge, license-printer /generate and audit-log
// /record in one trace, and prints the license URL and the payment receipt.
// It authenticates to the bridge with the gateway's client certificate from
// the credentials folder (--mesh-dir, .mesh), with --save-license
// downloads the PDF through the bridge, and then fetches the flow's trace
// from the bridge and prints its Mermaid sequence diagram. IssueLicense and
// FetchTrace hold the flow so tests can run it.
package main

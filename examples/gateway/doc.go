// Command gateway plays the public web front end: it issues Avery's
// same-day license through the bridge over HTTP/2, calling fee-calc
// /calculate, payment /charge, license-printer /generate and audit-log
// /record in one trace, and prints the license URL and the payment receipt.
// IssueLicense holds the flow so tests can run it.
package main

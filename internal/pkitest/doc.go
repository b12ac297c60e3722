// Package pkitest makes mesh credentials for a test binary. A TestMain calls
// Matrix once to get a folder that pki.Init filled for every identity of a
// matrix file, and removes it when the tests are done. Tests that need a
// folder of their own use pki.Init in t.TempDir directly.
package pkitest

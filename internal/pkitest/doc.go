// Package pkitest makes mesh credentials once per test binary: a TestMain
// calls Main (or New) to get a folder that pki.Init filled for every
// identity of a matrix file, with the matrix and its public keys loaded,
// and removes it when the tests are done. Tests that need a folder of their
// own use pki.Init in t.TempDir directly.
package pkitest

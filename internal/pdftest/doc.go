// Package pdftest reads PDFs in tests. Text validates a PDF with pdfcpu and
// returns the decompressed content streams of its pages, so a test can look
// for the words a page draws. Importing it keeps pdfcpu from writing a
// configuration directory under the user's home.
package pdftest

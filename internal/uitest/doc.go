// Package uitest drives a real headless Chromium for browser tests, over
// the DevTools protocol on a pipe (--remote-debugging-pipe): no debugging
// port is opened and nothing but the standard library is needed. Start
// skips the test, with a message saying so, where Chromium is not
// installed; pages are opened at a fixed size, read with Eval and WaitFor,
// and photographed with Screenshot. The browser may resolve and reach
// loopback addresses only, and accepts any certificate, as test servers'
// are self-signed.
package uitest

// Package securitytest holds the attacks on the secure hallway, each run
// against real components: an embedded NATS server configured by
// natsauth.Apply (TLS with verified client certificates, NKey users,
// permissions from the demo matrix) and booths that verify call tokens.
//
// Each layer is attacked on its own so that no result leans on another
// layer: connection and subject attacks go against the broker, token
// attacks against the booth with the broker out of the way. Every attack
// shows that it was refused, that the booth's handler never ran and that
// nothing was delivered. The package has no code outside its tests.
package securitytest

package natsauth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// ErrConfigOption is matched by the error of Config for an option it
// refuses; the message names the option and its value.
var ErrConfigOption = errors.New("natsauth: bad config option")

// ConfigOptions say how to render a NATS server config.
type ConfigOptions struct {
	// Dir is the credentials folder as the server will see it (".mesh");
	// certificate paths are Dir joined with the file names.
	Dir string
	// KeysInclude, when set, is the path (relative to the config file) of a
	// file defining the public NKeys as variables (see KeysFile); the config
	// then names variables instead of keys, so it can be committed.
	KeysInclude string
	// Host and Port the server listens on for clients (127.0.0.1:4222).
	Host string
	Port int
	// MonitorPort, when not 0, opens the server's HTTP monitoring endpoint
	// (/varz, /jsz, /healthz) on 127.0.0.1 at that port. It has no
	// authentication, so it is never bound to another address.
	MonitorPort int
	// ServerName names the server ("hms-svc"; "hms-svc-<node>" for node
	// <node> of a cluster on one host, whose names get "-<node>" appended).
	// Every node of a cluster needs its own.
	ServerName string
	// StoreDir holds JetStream data (Dir/data/nats, or Dir/data/nats-<node>).
	StoreDir string
	// Cluster, when set, renders one node of a cluster.
	Cluster *ClusterOptions
}

// ClusterOptions describe one node of a NATS cluster. Without Routes the
// cluster's nodes listen on consecutive ports of one host: node i serves
// clients on Port+i-1, routes on RoutePort+i-1 and monitoring (when set) on
// MonitorPort+i-1, and routes to the others on Host. With Routes, the node
// listens on exactly Port, RoutePort and MonitorPort and routes to the
// peers Routes names (nodes on other hosts); Node and Size are then unset.
type ClusterOptions struct {
	Name      string // "hms-svc"
	Node      int    // 1-based
	Size      int    // 3
	RoutePort int    // 6222
	// Routes are the route URLs of the other nodes
	// ("nats-route://10.0.0.2:6222").
	Routes []string
}

// Default ports of a rendered config.
const (
	DefaultClientPort = 4222
	DefaultRoutePort  = 6222
)

// serverNamePattern is what a server name may be: the names NATS shows in
// /varz and its cluster's peer lists.
var serverNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$`)

func (o *ConfigOptions) setDefaults() {
	if o.Dir == "" {
		o.Dir = ".mesh"
	}
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	if o.Port == 0 {
		o.Port = DefaultClientPort
	}
	if o.ServerName == "" && (o.Cluster == nil || len(o.Cluster.Routes) == 0) {
		o.ServerName = "hms-svc"
	}
	if c := o.Cluster; c != nil {
		if c.Name == "" {
			c.Name = "hms-svc"
		}
		if c.Size == 0 && len(c.Routes) == 0 {
			c.Size = 3
		}
		if c.RoutePort == 0 {
			c.RoutePort = DefaultRoutePort
		}
	}
	if o.StoreDir == "" {
		o.StoreDir = filepath.Join(o.Dir, "data", "nats")
		if c := o.Cluster; c != nil && c.Node > 0 {
			o.StoreDir += fmt.Sprintf("-%d", c.Node)
		}
	}
}

func (o *ConfigOptions) validate() error {
	if c := o.Cluster; c != nil {
		if err := c.validate(); err != nil {
			return err
		}
	}
	if o.ServerName == "" {
		return optErr("a node of a cluster across hosts (routes %v) needs its own server name", o.Cluster.Routes)
	}
	if !serverNamePattern.MatchString(o.ServerName) {
		return optErr("server name %q: use 1-63 letters, digits, '-' or '_', starting with a letter or digit", o.ServerName)
	}
	if o.StoreDir == "" || strings.TrimSpace(o.StoreDir) != o.StoreDir {
		return optErr("store dir %q: give a folder path without leading or trailing spaces", o.StoreDir)
	}
	for _, s := range []string{o.Dir, o.KeysInclude, o.Host, o.StoreDir} {
		if strings.ContainsAny(s, "\"\\\n\r") {
			return optErr("%q holds a character a NATS config string cannot", s)
		}
	}
	return o.validatePorts()
}

func (c *ClusterOptions) validate() error {
	if !serverNamePattern.MatchString(c.Name) {
		return optErr("cluster name %q: use 1-63 letters, digits, '-' or '_'", c.Name)
	}
	if len(c.Routes) > 0 {
		if c.Node != 0 || c.Size != 0 {
			return optErr("cluster routes %v with node %d of %d: give the peers' route URLs or a cluster on one host, not both",
				c.Routes, c.Node, c.Size)
		}
		for _, r := range c.Routes {
			if err := checkRouteURL(r); err != nil {
				return err
			}
		}
		return nil
	}
	if c.Size < 2 {
		return optErr("a cluster needs at least 2 nodes, got %d", c.Size)
	}
	if c.Node < 1 || c.Node > c.Size {
		return optErr("cluster node must be in [1,%d], got %d", c.Size, c.Node)
	}
	return nil
}

// checkRouteURL refuses a route URL NATS would not dial as a peer.
func checkRouteURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return optErr("route URL %q: %v", raw, err)
	}
	switch {
	case u.Scheme != "nats-route" && u.Scheme != "nats":
		return optErr("route URL %q: the scheme must be nats-route://", raw)
	case u.User != nil:
		return optErr("route URL %q: routes authenticate with the route certificate; a URL must not carry credentials", raw)
	case u.Hostname() == "" || u.Port() == "":
		return optErr("route URL %q: want nats-route://HOST:PORT", raw)
	case u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "":
		return optErr("route URL %q: want nats-route://HOST:PORT, with nothing after the port", raw)
	case strings.ContainsAny(raw, "\"\\\n\r "):
		return optErr("route URL %q holds a character a NATS config string cannot", raw)
	}
	if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
		return optErr("route URL %q: port %q is not in [1,65535]", raw, u.Port())
	}
	return nil
}

// validatePorts refuses a port out of range, or two listeners (of this
// node, or of any node of a cluster on one host) on one port.
func (o *ConfigOptions) validatePorts() error {
	nodes := 1
	if c := o.Cluster; c != nil && len(c.Routes) == 0 {
		nodes = c.Size
	}
	type use struct {
		what string
		node int
	}
	used := map[int]use{}
	claim := func(what string, base, node int) error {
		p := base + node - 1
		if base < 1 || p > 65535 {
			if nodes > 1 {
				return optErr("%s %d: node %d would listen on %d, outside [1,65535]", what, base, node, p)
			}
			return optErr("%s %d is not in [1,65535]", what, base)
		}
		if u, taken := used[p]; taken {
			if nodes > 1 {
				return optErr("%s %d: node %d's %s and node %d's %s would both be port %d", what, base, u.node, u.what, node, what, p)
			}
			return optErr("%s %d is also the %s", what, base, u.what)
		}
		used[p] = use{what, node}
		return nil
	}
	for node := 1; node <= nodes; node++ {
		if err := claim("client port", o.Port, node); err != nil {
			return err
		}
		if o.Cluster != nil {
			if err := claim("route port", o.Cluster.RoutePort, node); err != nil {
				return err
			}
		}
		if o.MonitorPort != 0 {
			if err := claim("monitoring port", o.MonitorPort, node); err != nil {
				return err
			}
		}
	}
	return nil
}

func optErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfigOption, fmt.Sprintf(format, args...))
}

// node is what one server of a rendered config listens on and routes to.
type node struct {
	name                           string
	clientPort, routePort, monPort int
	routes                         []string
}

// resolve returns the server o renders, after setDefaults and validate.
func (o *ConfigOptions) resolve() node {
	n := node{name: o.ServerName, clientPort: o.Port, monPort: o.MonitorPort}
	c := o.Cluster
	if c == nil {
		return n
	}
	n.routePort = c.RoutePort
	if len(c.Routes) > 0 {
		n.routes = c.Routes
		return n
	}
	off := c.Node - 1
	n.name = fmt.Sprintf("%s-%d", o.ServerName, c.Node)
	n.clientPort += off
	n.routePort += off
	if n.monPort != 0 {
		n.monPort += off
	}
	for i := 1; i <= c.Size; i++ {
		if i != c.Node {
			n.routes = append(n.routes, "nats-route://"+net.JoinHostPort(o.Host, strconv.Itoa(c.RoutePort+i-1)))
		}
	}
	return n
}

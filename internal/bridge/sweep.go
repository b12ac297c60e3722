package bridge

import (
	"encoding/json"
	"errors"
	"maps"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/hms-svc/hms-svc/pkg/subjects"
)

// maxInfoReplies bounds how many $SRV.INFO replies one sweep reads.
const maxInfoReplies = 10000

// sweep asks every micro service for its info and collects the replies
// for at most window, ending early once quiet passes without a reply.
func (d *discovery) sweep() ([]micro.Info, error) {
	subject, err := micro.ControlSubject(micro.InfoVerb, "", "")
	if err != nil {
		return nil, err
	}
	inbox := d.nc.NewInbox()
	sub, err := d.nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe()
	if err := d.nc.PublishRequest(subject, inbox, nil); err != nil {
		return nil, err
	}
	var infos []micro.Info
	end := time.Now().Add(d.window)
	wait := d.window
	for len(infos) < maxInfoReplies {
		msg, err := sub.NextMsg(wait)
		if errors.Is(err, nats.ErrTimeout) {
			break
		}
		if errors.Is(err, nats.ErrNoResponders) {
			return nil, nil // no service is running: an empty mesh
		}
		if err != nil {
			return nil, err
		}
		var info micro.Info
		if json.Unmarshal(msg.Data, &info) == nil && info.Type == micro.InfoResponseType {
			infos = append(infos, info)
		}
		wait = min(d.quiet, time.Until(end))
		if wait <= 0 {
			break
		}
	}
	return infos, nil
}

// apply records a sweep's replies. Services of the sweep get their current
// instances and endpoints; the others keep their endpoints, lose their
// instances, and are forgotten once unseen for longer than forget.
func (d *discovery) apply(infos []micro.Info, now time.Time) {
	seen := map[string]*knownService{}
	for _, info := range infos {
		if subjects.ValidateService(info.Name) != nil || info.ID == "" {
			continue // not a mesh service
		}
		s := seen[info.Name]
		if s == nil {
			s = &knownService{lastSeen: now, instances: map[string]Instance{}, endpoints: map[string]EndpointInfo{}}
			seen[info.Name] = s
		}
		s.instances[info.ID] = Instance{ID: info.ID, Name: info.Metadata["instance"], Version: info.Version}
		for _, ep := range info.Endpoints {
			svc, path, err := subjects.Parse(ep.Subject)
			if err != nil || svc != info.Name {
				continue
			}
			if p := ep.Metadata["path"]; p != "" {
				path = p
			}
			s.endpoints[ep.Subject] = EndpointInfo{Name: ep.Name, Subject: ep.Subject, Path: path}
		}
	}
	for name, s := range d.services {
		if _, ok := seen[name]; ok {
			continue
		}
		if now.Sub(s.lastSeen) > d.forget {
			delete(d.services, name)
			continue
		}
		s.instances = map[string]Instance{}
	}
	maps.Copy(d.services, seen)
}

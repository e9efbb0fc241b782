package ingest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"lifttrust"
)

// client is the paho side. mqtt types never leave this file.
type client struct {
	cfg        Config
	qs         []chan item // one per writer
	stop       <-chan struct{}
	c          mqtt.Client
	subscribed func()       // called after each acknowledged SUBSCRIBE
	online     *atomic.Bool // the broker connection is up (for /readyz)
}

func newClient(cfg Config, qs []chan item, stop <-chan struct{}, subscribed func(), online *atomic.Bool) *client {
	return &client{cfg: cfg, qs: qs, stop: stop, subscribed: subscribed, online: online}
}

// connect starts the persistent session. It returns once the first
// connection is up (or ctx ends); paho reconnects by itself afterwards and
// the on-connect handler subscribes again each time.
func (cl *client) connect(ctx context.Context) error {
	log := cl.cfg.Log
	filters := map[string]byte{}
	for _, f := range Subscriptions(cl.cfg.Prefix, cl.cfg.ShareGroup) {
		filters[f] = 1
	}
	opts := mqtt.NewClientOptions().
		AddBroker(cl.cfg.BrokerURL).
		SetClientID(cl.cfg.ClientID).
		// The broker keeps our subscriptions and queues QoS 1 messages
		// while we are away: the durability chain starts there.
		SetCleanSession(false).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(5 * time.Second).
		SetKeepAlive(30 * time.Second).
		// Buffered reads and coalesced writes: see conn.go.
		SetCustomOpenConnectionFn(dialBuffered).
		// The callback runs on paho's reading goroutine, so a full queue
		// stops paho reading and TCP pushes back to the broker, which keeps
		// the rest. With SetOrderMatters(false) paho starts a goroutine per
		// message instead and never stops reading; Mosquitto 2.0.11 does
		// not hold its max_inflight_messages window for a client that acks
		// out of order (measured: 15,285 messages delivered against 5,000
		// acks at a window of 1,000), so a 10 s database outage piled up
		// 21,000 blocked goroutines and a 246 MB peak. Decoding is a few
		// microseconds, so one goroutine keeps up; docs/mqtt.md.
		SetOrderMatters(true).
		// Acknowledge only after the batch holding the message commits.
		SetAutoAckDisabled(true).
		// After a reconnect the broker may send queued messages before
		// SUBSCRIBE is processed: they arrive here.
		SetDefaultPublishHandler(cl.handle).
		SetOnConnectHandler(func(c mqtt.Client) {
			cl.online.Store(true)
			t := c.SubscribeMultiple(filters, cl.handle)
			go func() {
				if !t.WaitTimeout(30*time.Second) || t.Error() != nil {
					log.Error("subscribe failed; messages will still arrive through the persistent session", "err", t.Error())
					return
				}
				log.Info("subscribed", "filters", len(filters))
				cl.subscribed()
			}()
		}).
		SetConnectionLostHandler(func(_ mqtt.Client, err error) {
			cl.online.Store(false)
			log.Warn("MQTT connection lost; reconnecting", "err", err)
		})
	if cl.cfg.Username != "" {
		opts.SetUsername(cl.cfg.Username).SetPassword(cl.cfg.Password)
	}
	cl.c = mqtt.NewClient(opts)
	t := cl.c.Connect()
	select {
	case <-t.Done():
		if err := t.Error(); err != nil {
			return fmt.Errorf("ingest: connect %s: %w", lifttrust.RedactURL(cl.cfg.BrokerURL), err)
		}
		return nil
	case <-ctx.Done():
		cl.c.Disconnect(0)
		return nil
	}
}

// handle decodes and queues one message. It never touches the database.
// While the queue is full it blocks (QoS 1): paho stops reading, TCP fills
// and the broker keeps the rest in its queue for our session. After
// shutdown it drops without acknowledging, so the broker re-delivers next
// time.
func (cl *client) handle(_ mqtt.Client, m mqtt.Message) {
	it := toItem(cl.cfg.Prefix, m.Topic(), m.Payload(), cl.cfg.Now())
	it.ack = m.Ack
	it.retained = m.Retained()
	key := it.topic
	if it.msg != nil {
		if it.msg.Kind == KindStatus {
			mReceivedStatus.Inc()
		} else {
			mReceived.WithLabelValues(it.msg.Kind).Inc()
		}
		key = it.msg.Lift()
	} else {
		mReceived.WithLabelValues("unknown").Inc()
	}
	q := cl.qs[shard(key, len(cl.qs))]
	if m.Qos() == 0 {
		select {
		case q <- it:
		default:
			mDropped.Inc()
		}
		return
	}
	select {
	case <-cl.stop:
		return
	default:
	}
	select {
	case q <- it:
	case <-cl.stop:
	}
}

// toItem decodes a raw message into a queue item, keeping at most
// MaxPayload bytes of the payload for a dead letter.
func toItem(prefix, topic string, payload []byte, now time.Time) item {
	// The topic is stored as text: make it valid UTF-8 without NUL.
	safe := strings.ReplaceAll(strings.ToValidUTF8(topic, "\uFFFD"), "\x00", "\uFFFD")
	it := item{topic: bounded(safe, 1000), size: len(payload)}
	it.msg, it.rej = Decode(prefix, topic, payload, now)
	// Rejected messages become dead letters; a rescue may turn out to
	// match no incident, and a record to conflict with one filed under
	// its id, which only the database can tell.
	if it.rej != nil || (it.msg != nil && it.msg.Kind != KindStatus && it.msg.Kind != KindEvents) {
		it.payload = payload[:min(len(payload), MaxPayload)]
	}
	return it
}

func (cl *client) disconnect() {
	cl.online.Store(false)
	if cl.c != nil && cl.c.IsConnected() {
		cl.c.Disconnect(1000)
	}
}

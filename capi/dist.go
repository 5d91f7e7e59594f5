package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/bigdl-go/bigdl-go/core/dist"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/optim"
	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// The calls distributed training needs (python/bigdl/_spark.py drives them):
//
//   bigdl_new("Comm", {"host": h, "ports": [lo, hi] or null})  listens on h (on the first free
//       port of lo..hi, else a port the system chooses);
//       "address" -> "h:port"; "connect" {"rank", "peers": [addresses in rank order],
//       "timeout": seconds, "transport": "auto" (default) or "tcp", "secret": the run's
//       secret in hex, "encrypt": seal every message (AES-256-GCM)} completes the mesh,
//       every connection authenticated on the secret, and closes the listener ->
//       {"rejected": [a line per stranger's connection dropped]}; "transport" -> "shm",
//       "tcp", or "" before the first exchange; freeing the handle closes every socket and
//       the shared memory.
//   Optimizer config "dist": {"comm": handle, "total": records in all partitions,
//       "seed": the run's shuffling seed (each rank derives its own), "rng": the driver's
//       generator state or null,
//       "stop": trigger or null, "resume": {...},
//       "fail_at"/"hang_at": test hooks}; "dist_state" returns {"resume", "stopped"}.
//   Layers: "get_flat_weights" -> one flat tensor; "set_flat_weights" [flat];
//       "get_flat_extra" / "set_flat_extra": the same for the extra parameters
//       (running statistics).
//   Optim methods: "get_state" -> {"t"} + buffers; "set_state" {"t"} + buffers.
//   Library: "draw_seed" -> the next number of the global generator (what a local
//       run draws for its shuffling); "rng_state" -> the global generator's state
//       (where a local run's Dropout masks would come from next);
//       "trigger_fires" {"trigger", "state"} -> bool.

type comm struct{ *dist.Comm }

func newComm(args map[string]any) (*comm, error) {
	host, _ := args["host"].(string)
	if host == "" {
		host = "127.0.0.1"
	}
	var c *dist.Comm
	var err error
	if ports, ok := args["ports"].([]any); ok && len(ports) == 2 {
		lo, _ := ports[0].(float64)
		hi, _ := ports[1].(float64)
		c, err = dist.ListenRange(host, int(lo), int(hi))
	} else {
		c, err = dist.Listen(host)
	}
	if err != nil {
		return nil, err
	}
	return &comm{c}, nil
}

func (c *comm) call(method string, req *request) (response, error) {
	switch method {
	case "address":
		return response{result: c.Addr()}, nil
	case "connect":
		rank, err := argInt(req, "rank")
		if err != nil {
			return response{}, err
		}
		list, _ := req.args["peers"].([]any)
		peers := make([]string, len(list))
		for i, p := range list {
			s, ok := p.(string)
			if !ok {
				return response{}, fmt.Errorf("connect: peers must be addresses, got %v", p)
			}
			peers[i] = s
		}
		secs, _ := req.args["timeout"].(float64)
		transport, _ := req.args["transport"].(string)
		if err := c.SetTransport(transport); err != nil {
			return response{}, err
		}
		secret, _ := req.args["secret"].(string)
		key, err := hex.DecodeString(secret)
		if err != nil {
			return response{}, errors.New("connect: secret must be hex") // never echo it
		}
		if err := c.SetSecret(key); err != nil {
			return response{}, err
		}
		encrypt, _ := req.args["encrypt"].(bool)
		c.SetEncrypted(encrypt)
		rejected := []string{}
		c.OnReject(func(msg string) { rejected = append(rejected, msg) })
		err = c.Connect(rank, peers, time.Duration(secs*float64(time.Second)))
		return response{result: map[string]any{"rejected": rejected}}, err
	case "transport":
		return response{result: c.Transport()}, nil
	case "close":
		return response{}, c.Close()
	}
	return response{}, fmt.Errorf("Comm has no method %q", method)
}

func (c *comm) release() { c.Close() }

// newDistributed reads an Optimizer's "dist" config.
func newDistributed(spec map[string]any) (*optim.Distributed, error) {
	h, err := argHandle(spec, "comm")
	if err != nil {
		return nil, fmt.Errorf("Optimizer: dist: %w", err)
	}
	c, ok := h.(*comm)
	if !ok {
		return nil, fmt.Errorf("Optimizer: dist: comm must be a Comm, got %T", h)
	}
	total, _ := spec["total"].(float64)
	seed, _ := spec["seed"].(float64)
	d := &optim.Distributed{Sync: c.Comm, Total: int(total), Seed: uint32(seed)}
	if s, ok := spec["stop"].(map[string]any); ok {
		if d.Stop, err = optim.NewTrigger(s); err != nil {
			return nil, fmt.Errorf("Optimizer: dist: stop: %w", err)
		}
	}
	if s, ok := spec["rng"].(map[string]any); ok {
		d.RNG = new(rng.State)
		if err := fromJSON(s, d.RNG); err != nil {
			return nil, fmt.Errorf("Optimizer: dist: rng: %w", err)
		}
	}
	if r, ok := spec["resume"].(map[string]any); ok {
		if err := fromJSON(r, &d.Resume); err != nil {
			return nil, fmt.Errorf("Optimizer: dist: resume: %w", err)
		}
	}
	f, _ := spec["fail_at"].(float64)
	g, _ := spec["hang_at"].(float64)
	d.FailAt, d.HangAt = int(f), int(g)
	return d, nil
}

// callDist answers the distributed-training methods of layers, optim
// methods and Comms; ok is false for any other call.
func callDist(obj any, method string, req *request) (resp response, ok bool, err error) {
	switch o := obj.(type) {
	case *comm:
		resp, err = o.call(method, req)
		return resp, true, err
	case nn.Module:
		switch method {
		case "get_flat_weights", "get_flat_extra":
			w := flatOf(o, method == "get_flat_extra")
			return response{tensors: []*tensor.Tensor{tensor.FromData(append([]float32(nil), w...), len(w))}}, true, nil
		case "set_flat_weights", "set_flat_extra":
			if err := needTensors(method, req, 1); err != nil {
				return response{}, true, err
			}
			w := flatOf(o, method == "set_flat_extra")
			if req.tensors[0].Len() != len(w) {
				return response{}, true, fmt.Errorf("%s: the model has %d values, got %d", method, len(w), req.tensors[0].Len())
			}
			copy(w, req.tensors[0].Data)
			return response{}, true, nil
		}
	case *methodObj:
		switch method {
		case "get_state":
			s := optim.StateOf(o.Method)
			out := []*tensor.Tensor{}
			for _, b := range s.Bufs {
				out = append(out, tensor.FromData(append([]float32(nil), b...), len(b)))
			}
			res := map[string]any{"t": s.T}
			if x, ok := o.Method.(optim.ExtraStater); ok {
				if e := x.ExtraState(); e != nil {
					res["extra"] = e
				}
			}
			return response{result: res, tensors: out}, true, nil
		case "set_state":
			t, err := argInt(req, "t")
			if err != nil {
				return response{}, true, err
			}
			s := optim.MethodState{T: t, Bufs: [][]float32{}}
			for _, b := range req.tensors {
				s.Bufs = append(s.Bufs, b.Data)
			}
			if err := optim.SetState(o.Method, s); err != nil {
				return response{}, true, err
			}
			if e, ok := req.args["extra"].(map[string]any); ok {
				if x, ok := o.Method.(optim.ExtraStater); ok {
					return response{}, true, x.SetExtraState(e)
				}
			}
			return response{}, true, nil
		}
	case *optimizer:
		if method == "dist_state" {
			d := o.trainer.Dist
			if d == nil {
				return response{}, true, errors.New("dist_state: not a distributed optimizer")
			}
			o.mu.Lock()
			defer o.mu.Unlock()
			if o.running {
				return response{}, true, errors.New("dist_state: training is running")
			}
			return response{result: map[string]any{"resume": d.Resume, "stopped": d.Stopped}}, true, nil
		}
	}
	return response{}, false, nil
}

// flatOf is m's parameters, or its extra parameters, as one vector that m
// reads from from now on.
func flatOf(m nn.Module, extra bool) []float32 {
	if extra {
		return nn.FlattenExtraParams(m)
	}
	w, _ := nn.Flatten(m)
	return w
}

func callDistLibrary(method string, req *request) (resp response, ok bool, err error) {
	switch method {
	case "draw_seed":
		return response{result: rng.Global.Uint32()}, true, nil
	case "rng_state":
		return response{result: rng.Global.State()}, true, nil
	case "trigger_fires":
		spec, _ := req.args["trigger"].(map[string]any)
		t, err := optim.NewTrigger(spec)
		if err != nil {
			return response{}, true, err
		}
		var s optim.State
		if st, ok := req.args["state"].(map[string]any); ok {
			if err := fromJSON(st, &s); err != nil {
				return response{}, true, err
			}
		}
		return response{result: t(&s)}, true, nil
	}
	return response{}, false, nil
}

// fromJSON fills v from a decoded JSON object.
func fromJSON(m map[string]any, v any) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
